"""The course site as an ASGI application (Starlette, served by Uvicorn): pages, uploads, the API.

URL map (every page but the sign-in ones needs a signed-in user; /instructor/* needs the instructor role):

  GET  /...                                the built book (read-only, public) when there is one, else / redirects to /assignments
  GET  /signin, POST /signin               password sign-in (rate-limited)
  POST /signout
  GET  /signin/link/<token>, POST ...      a one-time sign-in link: choose a password
  GET  /assignments                        the list, with the student's best score
  GET  /assignments/<name>                 download, upload form, the student's submissions
  GET  /assignments/<name>/download        the released notebook and its helper modules (zip)
  GET  /assignments/<name>/data/<file>     the SIGNS files, for assignments whose notebook loads them
  POST /assignments/<name>/submit          upload (multipart)
  GET  /submissions/<id>                   queued / running / graded (refreshes itself)
  GET  /submissions/<id>/feedback          the batch's feedback page
  GET  /account, POST /account/token       the student's API token (shown once)
  GET  /instructor                         the class table (counted scores, late flags, extensions)
  GET  /instructor/queue                   what is queued and running
  GET  /instructor/assignments/<name>      pass rate per check, plots, tampering notes, regrade progress, downloads
  GET  /instructor/assignments/<name>/summary     the batch's instructor summary over the counted submissions
  POST /instructor/assignments/<name>/regrade     regrade all (counted or every graded submission)
  GET  /instructor/assignments/<name>/grades.csv  the grades CSV over the counted submissions
  GET  /instructor/assignments/<name>/extensions, POST ...   per-student extensions
  GET  /instructor/gradebook.db            nbgrader's gradebook (kept in sync after every grade)
  POST /api/assignments/<name>/submissions upload with ``Authorization: Bearer <token>`` (the CLI)
  GET  /api/submissions/<id>               its state and score (JSON)

A submission or its feedback that is not the user's own answers 404, as one that does not exist does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import logging
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import jinja2
from sqlalchemy import func, select, update
from sqlalchemy.orm import load_only, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from autograder.executor import Executor, LocalExecutor
from autograder.grading.result import Code
from autograder.grading.spec import SpecError
from autograder.report import feedback
from autograder.report.common import fmt
from autograder.site import accounts, catalog, extensions, plots, rules, security, standing, storage
from autograder.site.exports import GRADEBOOK_FILE, GradebookSync, counted_results, grades_csv
from autograder.site.grader import GradingLoop
from autograder.site.models import (
    DONE,
    FAILED,
    GRADED,
    GRADING,
    INSTRUCTOR,
    QUEUED,
    Grade,
    RegradeItem,
    RegradeRun,
    Submission,
    User,
    open_db,
    utcnow,
)
from autograder.site.settings import SiteSettings
from autograder.student.course_utils import TEST_FILE, TRAIN_FILE

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_TEMPLATES = Path(feedback.__file__).resolve().parent / "templates"
REFRESH_S = 2
# Pages run no script and load nothing from elsewhere; forms post only here; no one may frame them.
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
BOOK_CSP = "frame-ancestors 'none'"

_ENV = jinja2.Environment(
    loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES)), jinja2.FileSystemLoader(str(REPORT_TEMPLATES))]),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # the templates are package files: no stat() of each one on every page
)
_ENV.filters["score"] = fmt


class Deny(Exception):
    """Ends a request with a page (or a redirect to sign-in) instead of what was asked."""

    def __init__(self, status: int, title: str, message: str = "") -> None:
        super().__init__(title)
        self.status, self.title, self.message = status, title, message


def not_found() -> Deny:
    return Deny(404, "Not found", "There is no such page, or it is not yours.")


class BodyTooLarge(Exception):
    pass


def limited(receive, limit: int):
    """``receive`` that stops the request once its body passes ``limit`` bytes (memory stays bounded)."""
    seen = 0

    async def wrapped():
        nonlocal seen
        message = await receive()
        if message.get("type") == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge()
        return message

    return wrapped


@dataclasses.dataclass
class Ctx:
    session: security.Session
    user: User | None
    csrf: str
    set_cookie: bool = False
    new_session: security.Session | None = None

    def sign_in(self, sessions: security.Sessions, user: User | None) -> None:
        """A new session (new nonce, so a new CSRF token) for ``user`` (None: signed out)."""
        self.new_session = sessions.new(user.id if user else None, user.session_epoch if user else 0)
        self.set_cookie = True


SIGNS_FILES = (TRAIN_FILE, TEST_FILE)
REGRADE_SCOPES = {"counted": "the counted submission of every student", "all": "every graded submission"}


class ServerTiming:
    """ASGI middleware: every response carries ``Server-Timing: app;dur=<ms>``, the time from the request's
    arrival in the application to its response headers. Browsers' developer tools show it, and the load
    benchmarks tell the server's share of a slow answer from the network's and their own."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed(message):
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - start) * 1000
                message = {**message, "headers": [*message.get("headers", []), (b"server-timing", f"app;dur={ms:.1f}".encode())]}
            await send(message)

        await self.app(scope, receive, timed)


class BookFiles:
    """The built book, read-only: StaticFiles (GET and HEAD only, no links followed out of the folder) plus the
    site's security headers. The book runs its own scripts, so only framing is forbidden."""

    def __init__(self, folder: Path) -> None:
        self.files = StaticFiles(directory=str(folder), html=True)

    async def __call__(self, scope, receive, send) -> None:
        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", BOOK_CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.files(scope, receive, with_headers)


def submission_id(text: str) -> int:
    """A submission's id from a URL, or the page is not found (a number too large for the database too)."""
    try:
        sid = int(text)
    except (TypeError, ValueError):
        raise not_found() from None
    if not 0 < sid < 2**63:
        raise not_found()
    return sid


def _inside(a: Path, b: Path) -> bool:
    a, b = a.resolve(), b.resolve()
    return a == b or b in a.parents


class Site:
    def __init__(self, settings: SiteSettings, executor: Executor | None = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.factory: sessionmaker = open_db(settings.url)
        self.sessions = security.Sessions(security.load_secret(settings.data_dir), secure=settings.secure_cookies)
        self.limiter = security.RateLimiter(self.factory, settings.signin_limit, settings.signin_window_s)
        self.offered = catalog.load(settings.source_dir, settings.release_dir)
        # the course file names assignments of the source folder (a served one or one not released yet)
        self.course = rules.load(settings.source_dir, known={p.parent.name for p in settings.source_dir.glob("*/grading.toml")})
        self.now = utcnow  # the clock the rules are applied with (tests set it)
        self.max_bytes = settings.max_upload_mb * 2**20
        self._upload_threads = anyio.CapacityLimiter(settings.upload_threads)
        book = settings.book_dir
        for name, secret in (("source", settings.source_dir), ("data", settings.data_dir)):
            if book is not None and (_inside(secret, book) or _inside(book, secret)):
                raise rules.RulesError(f"the book folder {book} overlaps the {name} folder {secret}: it would be served")
        self.executor = executor or LocalExecutor(
            settings.grading_workers, kernels_ahead=settings.kernels_ahead, priority=settings.grading_priority
        )
        self.gradebook = GradebookSync(
            settings.data_dir / GRADEBOOK_FILE,
            self.factory,
            lambda: self.course,
            self.offered,
            settings.gradebook_interval_s,
            db_url=settings.url if settings.gradebook_process else None,
        )
        self.grading = GradingLoop(
            self.factory,
            self.executor,
            self.offered,
            settings.blobs,
            limits=settings.limits,
            sandbox=settings.sandbox,
            worker_memory_mb=settings.worker_memory_mb,
            poll_s=settings.poll_s,
            retry_s=settings.retry_s,
            on_graded=self.gradebook.mark,
            regrade_parallel=settings.grading_workers,
            due_next=self.due_next,
        )

    def due_next(self) -> str | None:
        """The offered assignment whose deadline comes next (None when no deadline is ahead)."""
        now = self.now()
        ahead = [(d, name) for name in self.offered if (d := self.course.of(name).deadline_for(None)) is not None and d >= now]
        return min(ahead)[1] if ahead else None

    # ------------------------------------------------------------------ plumbing
    def context(self, request: Request) -> Ctx:
        session = self.sessions.load(request.cookies.get(security.SESSION_COOKIE))
        fresh = session is None
        if session is None:
            session = self.sessions.new()
        user = None
        if session.user_id is not None:
            with self.factory() as db:
                user = db.get(User, session.user_id)
            if user is None or not user.active or user.session_epoch != session.epoch:
                user, session, fresh = None, self.sessions.new(), True  # removed, or signed out everywhere
        ctx = Ctx(session, user, self.sessions.csrf_token(session))
        if fresh:
            ctx.new_session, ctx.set_cookie = session, True
        return ctx

    def render(self, ctx: Ctx, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        session = ctx.new_session or ctx.session
        values.setdefault("refresh", 0)
        values.setdefault("course", self.course)
        values.setdefault("title", template.split(".")[0])
        html = _ENV.get_template(template).render(user=ctx.user, csrf=self.sessions.csrf_token(session), **values)
        return HTMLResponse(html, status_code=status)

    def _finish(self, ctx: Ctx | None, response: Response, csp: str = PAGE_CSP) -> Response:
        if ctx is not None and ctx.set_cookie and ctx.new_session is not None:
            response.set_cookie(value=self.sessions.dump(ctx.new_session), **self.sessions.cookie_args())
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"  # sign-in links carry their token in the path
        headers.setdefault("Cache-Control", "no-store")
        return response

    def page(self, handler, *, csrf: bool = False, threads: anyio.CapacityLimiter | None = None):
        """An endpoint: context, CSRF check on POST, the handler (sync ones in a thread), headers, cookie.

        ``threads``: where the context is looked up (default: the pages' threads). Uploads take their own, so
        that under a deadline spike a submission never queues behind the status pages of the class.
        """

        def denied(ctx: Ctx, deny: Deny) -> Response:
            if deny.status == 401:
                return RedirectResponse("/signin", status_code=303)
            return self.render(ctx, "message.html.j2", deny.status, title=deny.title, message=deny.message, kind="error", back="")

        def context_and_page(request: Request) -> tuple[Ctx, Response]:
            # A sync GET page runs with its context in one trip to a thread: under load every trip waits its turn.
            ctx = self.context(request)
            try:
                return ctx, handler(request, ctx)
            except Deny as deny:
                return ctx, denied(ctx, deny)

        async def endpoint(request: Request) -> Response:
            if not csrf and not inspect.iscoroutinefunction(handler):
                ctx, response = await run_in_threadpool(context_and_page, request)
                return self._finish(ctx, response)
            ctx = await anyio.to_thread.run_sync(self.context, request, limiter=threads)
            try:
                if csrf:
                    await self._check_csrf(request, ctx)
                if inspect.iscoroutinefunction(handler):
                    response = await handler(request, ctx)
                else:
                    response = await run_in_threadpool(handler, request, ctx)
            except Deny as deny:
                response = denied(ctx, deny)
            return self._finish(ctx, response)

        return endpoint

    async def _check_csrf(self, request: Request, ctx: Ctx) -> None:
        # Multipart uploads carry the token in the query string too, so that it is checked before the body is read.
        token = request.query_params.get("csrf")
        if token is None and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = await request.form()
            token = form.get("csrf")
        if not self.sessions.csrf_ok(ctx.session, token):
            raise Deny(
                403,
                "Form expired",
                "This form was not sent from this site's page, or the page is too old. Go back, reload the page and try again.",
            )

    @staticmethod
    def need_user(ctx: Ctx) -> User:
        if ctx.user is None:
            raise Deny(401, "Sign in first")
        return ctx.user

    @staticmethod
    def need_instructor(ctx: Ctx) -> User:
        user = Site.need_user(ctx)
        if user.role != INSTRUCTOR:
            raise Deny(403, "Instructors only", "This page is for the course's instructors.")
        return user

    def assignment(self, name: str) -> catalog.Offered:
        offered = self.offered.get(name)
        if offered is None:
            raise not_found()
        return offered

    def visible_submission(self, db, ctx: Ctx, sid: str) -> Submission:
        user = self.need_user(ctx)
        sub = db.get(Submission, submission_id(sid))
        if sub is None or (sub.user_id != user.id and user.role != INSTRUCTOR):
            raise not_found()
        return sub

    # ------------------------------------------------------------------ sign-in
    def signin_form(self, request: Request, ctx: Ctx) -> Response:
        if ctx.user is not None:
            return RedirectResponse("/assignments", status_code=303)
        return self.render(ctx, "signin.html.j2", title="Sign in", error="", login="")

    async def signin(self, request: Request, ctx: Ctx) -> Response:
        form = await request.form()
        login = str(form.get("login") or "").strip()[:100]
        password = str(form.get("password") or "")[:1000]
        address = request.client.host if request.client else "?"
        keys = (f"login:{login.lower()}", f"addr:{address}")
        attempt = await run_in_threadpool(self.limiter.attempt, *keys)
        if attempt is None:
            return self.render(
                ctx,
                "signin.html.j2",
                429,
                title="Sign in",
                login=login,
                error="Too many failed attempts. Wait a few minutes, then try again.",
            )

        def check() -> User | None:
            with self.factory() as db:
                user = accounts.find_user(db, login)
            if user is None or not user.active or not user.password_hash:
                security.burn_time(password)
                return None
            return user if security.verify_password(user.password_hash, password) else None

        user = await run_in_threadpool(check)
        if user is None:
            await run_in_threadpool(self.limiter.failed, attempt)
            return self.render(ctx, "signin.html.j2", 400, title="Sign in", login=login, error="Wrong id or password.")
        await run_in_threadpool(self.limiter.succeeded, attempt, keys[0])
        ctx.sign_in(self.sessions, user)
        return RedirectResponse("/assignments", status_code=303)

    def signout(self, request: Request, ctx: Ctx) -> Response:
        ctx.sign_in(self.sessions, None)
        return RedirectResponse("/signin", status_code=303)

    def _link_or_deny(self, db, token: str):
        link = accounts.valid_link(db, token)
        if link is None:
            raise Deny(
                410,
                "This link does not work any more",
                "Sign-in links work once and expire. Sign in with your password, or ask your instructor for a new link.",
            )
        return link

    def link_form(self, request: Request, ctx: Ctx) -> Response:
        token = request.path_params["token"]
        with self.factory() as db:
            link = self._link_or_deny(db, token)
            account = db.get(User, link.user_id)
        return self.render(
            ctx,
            "set_password.html.j2",
            title="Choose a password",
            account=account,
            token=token,
            error="",
            min_password=accounts.MIN_PASSWORD,
        )

    async def link_submit(self, request: Request, ctx: Ctx) -> Response:
        token = request.path_params["token"]
        form = await request.form()
        password, again = str(form.get("password") or ""), str(form.get("again") or "")

        def apply() -> tuple[User | None, User | None, str | None]:
            with self.factory.begin() as db:
                link = self._link_or_deny(db, token)
                account = db.get(User, link.user_id)
                problem = accounts.password_problem(password, again)
                if problem:
                    return None, account, problem
                user = accounts.use_link(db, token, password)
                if user is None:
                    raise Deny(410, "This link does not work any more", "It was used a moment ago.")
                return user, account, None

        user, account, problem = await run_in_threadpool(apply)
        if problem:
            return self.render(
                ctx,
                "set_password.html.j2",
                400,
                title="Choose a password",
                account=account,
                token=token,
                error=problem,
                min_password=accounts.MIN_PASSWORD,
            )
        ctx.sign_in(self.sessions, user)
        return RedirectResponse("/assignments", status_code=303)

    # ------------------------------------------------------------------ students
    def home(self, request: Request, ctx: Ctx) -> Response:
        return RedirectResponse("/assignments", status_code=303)

    def assignments(self, request: Request, ctx: Ctx) -> Response:
        user = self.need_user(ctx)
        with self.factory() as db:
            counts = dict(
                db.execute(
                    select(Submission.assignment, func.count(Submission.id))
                    .where(Submission.user_id == user.id)
                    .group_by(Submission.assignment)
                ).all()
            )
            mine = standing.standings(db, self.course, user_id=user.id)
            ext = standing.extensions(db, user_id=user.id)
        rows = []
        for name, o in sorted(self.offered.items()):
            st = mine.get((user.id, name))
            r = self.course.of(name)
            rows.append(
                {
                    "name": name,
                    "max": o.spec.max_score,
                    "counted": st.counted if st else None,
                    "count": counts.get(name, 0),
                    "deadline": r.deadline_for(ext.get((user.id, name))),
                }
            )
        return self.render(ctx, "assignments.html.j2", title="Assignments", rows=rows)

    def _data_files(self, offered: catalog.Offered) -> list[dict]:
        folder = self.settings.datasets_dir
        if not offered.needs_data or folder is None:
            return []
        return [{"name": n, "mb": (folder / n).stat().st_size / 2**20} for n in SIGNS_FILES if (folder / n).is_file()]

    def _assignment_page(self, ctx: Ctx, offered: catalog.Offered, error: str = "", status: int = 200) -> Response:
        user = self.need_user(ctx)
        r = self.course.of(offered.name)
        with self.factory() as db:
            ext = standing.extensions(db, offered.name, user.id).get((user.id, offered.name))
            late = {g.submission_id: g for g in standing.graded(db, self.course, assignment=offered.name, user_id=user.id)}
            counted = standing.standings(db, self.course, assignment=offered.name, user_id=user.id).get((user.id, offered.name))
            found = db.scalars(
                select(Submission)
                .where(Submission.user_id == user.id, Submission.assignment == offered.name)
                .order_by(Submission.id.desc())
            ).all()
            subs = []
            for s in found:
                g = late.get(s.id)
                days = r.late_days(s.created_at, ext)
                subs.append(
                    {
                        "id": s.id,
                        "filename": s.filename,
                        "created": self.course.show(s.created_at, seconds=True),
                        "state": self.grading.state_of(s),
                        "graded": g,
                        "late_days": days,
                        "factor": r.factor(days),
                        "counts": counted is not None and counted.counted.submission_id == s.id,
                    }
                )
        data_files = self._data_files(offered)
        return self.render(
            ctx,
            "assignment.html.j2",
            status,
            title=offered.name,
            a=offered,
            subs=subs,
            error=error,
            max_mb=self.settings.max_upload_mb,
            rules=r,
            extension=ext,
            deadline=r.deadline_for(ext),
            last_upload=r.last_upload(ext),
            data_files=data_files,
        )

    def assignment_page(self, request: Request, ctx: Ctx) -> Response:
        return self._assignment_page(ctx, self.assignment(request.path_params["name"]))

    def download(self, request: Request, ctx: Ctx) -> Response:
        self.need_user(ctx)
        offered = self.assignment(request.path_params["name"])
        return Response(
            offered.zip_bytes, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{offered.name}.zip"'}
        )

    def data_file(self, request: Request, ctx: Ctx) -> Response:
        self.need_user(ctx)
        offered = self.assignment(request.path_params["name"])
        name = request.path_params["file"]
        # only the exact names of the files offered on this assignment's page: no path from the request is joined
        if name not in {f["name"] for f in self._data_files(offered)}:
            raise not_found()
        return FileResponse(self.settings.datasets_dir / name, media_type="application/x-hdf5", filename=name)

    async def _read_upload(self, request: Request) -> tuple[str | None, bytes]:
        """(file name, bytes) of a multipart upload's ``notebook`` field; refuses past the size limit while reading."""
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_bytes + 64 * 1024:
            raise storage.too_large(self.max_bytes)
        bounded = Request(request.scope, limited(request.receive, self.max_bytes + 64 * 1024))
        try:
            form = await bounded.form(max_files=1, max_fields=5)
        except BodyTooLarge:
            raise storage.too_large(self.max_bytes) from None
        except ClientDisconnect:
            raise
        except Exception as exc:  # a malformed multipart body
            raise storage.UploadRefused(f"The upload could not be read ({type(exc).__name__}). Choose the file again and submit.") from None
        upload = form.get("notebook")
        if upload is None or isinstance(upload, str):
            raise storage.UploadRefused("No file was chosen. Choose your .ipynb file, then press Submit.")
        try:
            data = await upload.read(self.max_bytes + 1)
        finally:
            await form.close()
        if len(data) > self.max_bytes:
            raise storage.too_large(self.max_bytes)
        return upload.filename, data

    async def _store_upload(self, user: User, offered: catalog.Offered, filename: str | None, data: bytes) -> storage.Stored:
        # Threads of their own: a store waits mostly for the disk (three fsyncs and a commit), and in the pages'
        # threads it kept them from pages; under a deadline spike, uploads waited behind pages the same way.
        return await anyio.to_thread.run_sync(self._store, user, offered, filename, data, limiter=self._upload_threads)

    def _store(self, user: User, offered: catalog.Offered, filename: str | None, data: bytes) -> storage.Stored:
        now = self.now()

        def admit(db) -> None:
            ext = standing.extensions(db, offered.name, user.id).get((user.id, offered.name))
            recent = list(
                db.scalars(
                    select(Submission.created_at).where(
                        Submission.user_id == user.id, Submission.assignment == offered.name, Submission.created_at > now - rules.DAY
                    )
                )
            )
            refused = rules.refusal(self.course, offered.name, now, extension=ext, recent=recent)
            if refused is not None:
                kind, message = refused
                raise storage.UploadRefused(message, 429 if kind == rules.LIMIT else 403)

        stored = storage.store(
            self.factory, self.settings.blobs, user.id, offered, filename, data, others=self.offered, admit=admit, created_at=now
        )
        if stored.new:
            self.grading.wake()
        return stored

    async def submit(self, request: Request, ctx: Ctx) -> Response:
        user = self.need_user(ctx)
        offered = self.assignment(request.path_params["name"])
        try:
            filename, data = await self._read_upload(request)
            stored = await self._store_upload(user, offered, filename, data)
        except storage.UploadRefused as refused:
            response = await run_in_threadpool(self._assignment_page, ctx, offered, refused.message, refused.status)
            if refused.status == 413:
                response.headers["Connection"] = "close"  # the rest of the body is not read
            return response
        note = "" if stored.new else "?again=1"
        return RedirectResponse(f"/submissions/{stored.submission.id}{note}", status_code=303)

    def submission_page(self, request: Request, ctx: Ctx) -> Response:
        # The page every waiting student reloads every few seconds: one query, the score only (the stored
        # Result and feedback page are large and not shown here), the extension only under a deadline.
        user = self.need_user(ctx)
        sid = submission_id(request.path_params["id"])
        with self.factory() as db:
            row = db.execute(
                select(Submission, Grade, User.login)
                .join(User, User.id == Submission.user_id)
                .outerjoin(Grade, Grade.submission_id == Submission.id)
                .options(load_only(Grade.score, Grade.max_score))
                .where(Submission.id == sid)
            ).first()
            if row is None or (row[0].user_id != user.id and user.role != INSTRUCTOR):
                raise not_found()
            sub, grade, owner = row
            state = self.grading.state_of(sub)
            view = {
                "id": sub.id,
                "assignment": sub.assignment,
                "filename": sub.filename,
                "created": self.course.show(sub.created_at, seconds=True),
                "error": sub.error if grade is None else None,
            }
            r = self.course.of(sub.assignment)
            extension = standing.extensions(db, sub.assignment, sub.user_id).get((sub.user_id, sub.assignment)) if r.deadline else None
            days = r.late_days(sub.created_at, extension)
            view.update(late_days=days, factor=r.factor(days))
        note = "You had already submitted this very file; it is graded once." if request.query_params.get("again") else ""
        return self.render(
            ctx,
            "submission.html.j2",
            title=f"Submission {view['id']}",
            s=view,
            grade=grade,
            owner=owner,
            state=state,
            note=note,
            refresh=0 if grade else REFRESH_S,
        )

    def feedback_page(self, request: Request, ctx: Ctx) -> Response:
        with self.factory() as db:
            sub = self.visible_submission(db, ctx, request.path_params["id"])
            grade = db.get(Grade, sub.id)
        if grade is None:
            return RedirectResponse(f"/submissions/{sub.id}", status_code=303)
        return HTMLResponse(grade.feedback_html)  # carries its own CSP (no script, inline style, data: images)

    def account(self, request: Request, ctx: Ctx) -> Response:
        self.need_user(ctx)
        return self.render(ctx, "account.html.j2", title="Account", token="", base_url=self.settings.base_url)

    def new_token(self, request: Request, ctx: Ctx) -> Response:
        user = self.need_user(ctx)
        with self.factory.begin() as db:
            me = db.get(User, user.id)
            token = accounts.new_api_token(db, me)
            ctx.user = me
        return self.render(ctx, "account.html.j2", title="Account", token=token, base_url=self.settings.base_url)

    # ------------------------------------------------------------------ instructors
    def class_table(self, request: Request, ctx: Ctx) -> Response:
        self.need_instructor(ctx)
        with self.factory() as db:
            students = db.scalars(select(User).where(User.role != INSTRUCTOR).order_by(User.login)).all()
            cells = standing.standings(db, self.course)
        assignments = [self.offered[n] for n in sorted(self.offered)]
        return self.render(ctx, "class.html.j2", title="Class", students=students, assignments=assignments, cells=cells)

    def queue_page(self, request: Request, ctx: Ctx) -> Response:
        self.need_instructor(ctx)
        with self.factory() as db:
            counts = dict(db.execute(select(Submission.state, func.count()).group_by(Submission.state)).all())
            waiting = db.execute(
                select(Submission, User.login)
                .join(User, User.id == Submission.user_id)
                .where(Submission.state.in_([QUEUED, GRADING]))
                .order_by(Submission.id)
                .limit(500)
            ).all()
            rows = [
                {
                    "id": s.id,
                    "login": login,
                    "assignment": s.assignment,
                    "created": self.course.show(s.created_at, seconds=True),
                    "state": self.grading.state_of(s),
                    "attempts": s.attempts,
                }
                for s, login in waiting
            ]
        return self.render(
            ctx,
            "queue.html.j2",
            title="Queue",
            rows=rows,
            executor=getattr(self.executor, "name", "?"),
            counts={k: counts.get(k, 0) for k in (QUEUED, GRADING, GRADED)},
            refresh=5,
        )

    def assignment_summary(self, request: Request, ctx: Ctx) -> Response:
        self.need_instructor(ctx)
        offered = self.assignment(request.path_params["name"])
        results, how = counted_results(self.factory, self.course, offered.name)
        links = {login: f"/submissions/{g.submission_id}/feedback" for login, g in how.items()}
        with self.grading._render_lock:  # matplotlib state is process-wide
            return HTMLResponse(feedback.render_instructor_summary(offered.spec, results, links))

    def _regrade_progress(self, db, name: str) -> dict | None:
        run = db.scalar(select(RegradeRun).where(RegradeRun.assignment == name).order_by(RegradeRun.id.desc()).limit(1))
        if run is None:
            return None
        states = dict(
            db.execute(select(RegradeItem.state, func.count()).where(RegradeItem.run_id == run.id).group_by(RegradeItem.state)).all()
        )
        changed = db.scalar(
            select(func.count())
            .select_from(RegradeItem)
            .where(RegradeItem.run_id == run.id, RegradeItem.state == DONE, RegradeItem.old_score != RegradeItem.new_score)
        )
        total = sum(states.values())
        finished = states.get(DONE, 0) + states.get(FAILED, 0)
        return {
            "id": run.id,
            "scope": REGRADE_SCOPES.get(run.scope, run.scope),
            "by": run.started_by,
            "started": self.course.show(run.created_at),
            "total": total,
            "done": states.get(DONE, 0),
            "failed": states.get(FAILED, 0),
            "changed": changed,
            "running": finished < total,
        }

    def assignment_overview(self, request: Request, ctx: Ctx, message: str = "", kind: str = "ok", status: int = 200) -> Response:
        self.need_instructor(ctx)
        offered = self.assignment(request.path_params["name"])
        spec, r = offered.spec, self.course.of(offered.name)
        results, how = counted_results(self.factory, self.course, offered.name)
        with self.factory() as db:
            times = db.execute(
                select(Submission.created_at, Submission.user_id)
                .where(Submission.assignment == offered.name)
                .order_by(Submission.created_at)
            ).all()
            ext = standing.extensions(db, offered.name)
            tampered = []
            for sid, login, rj in db.execute(
                select(Submission.id, User.login, Grade.result_json)
                .join(Grade, Grade.submission_id == Submission.id)
                .join(User, User.id == Submission.user_id)
                .where(Submission.assignment == offered.name)
                .order_by(Submission.id)
            ):
                notes = json.loads(rj).get("tampering") or []
                if notes:
                    tampered.append({"id": sid, "login": login, "notes": [n[:500] for n in notes[:20]], "more": max(0, len(notes) - 20)})
            progress = self._regrade_progress(db, offered.name)
        # pass rate of every check over the counted submissions, the most failed first
        checks = []
        for c in spec.checks():
            passed = sum(1 for res in results.values() for rc in res.checks if rc.name == c.name and rc.passed)
            failed_codes: dict[str, int] = {}
            for res in results.values():
                rc = next((x for x in res.checks if x.name == c.name), None)
                if rc is None or not rc.passed:
                    code = rc.code.value if rc is not None else Code.NOT_RECORDED.value
                    failed_codes[code] = failed_codes.get(code, 0) + 1
            n = len(results)
            checks.append(
                {
                    "name": c.name,
                    "group": spec.group(c.group).title,
                    "points": c.points,
                    "visible": c.visible,
                    "passed": passed,
                    "n": n,
                    "rate": passed / n if n else 0.0,
                    "codes": ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(failed_codes.items(), key=lambda kv: -kv[1])),
                }
            )
        checks.sort(key=lambda x: (x["rate"], x["name"]))
        scores = [g.score for g in how.values()]
        late = [r.late_days(t, ext.get((uid, offered.name))) > 0 for t, uid in times]
        images = {}
        if results:
            images["scores"] = plots.data_url(plots.score_histogram(scores, spec.max_score))
        if times:
            images["times"] = plots.data_url(
                plots.submissions_over_time([self.course.local(t) for t, _ in times], late, self.course.local(r.deadline))
            )
        stats = {
            "students": len(results),
            "submissions": len(times),
            "late": sum(1 for g in how.values() if g.late),
            "mean": sum(scores) / len(scores) if scores else 0.0,
            "full": sum(1 for x in scores if x >= spec.max_score),
        }
        return self.render(
            ctx,
            "instructor_assignment.html.j2",
            status,
            title=f"{offered.name} (instructor)",
            a=offered,
            rules=r,
            checks=checks,
            images=images,
            stats=stats,
            tampered=tampered,
            progress=progress,
            scopes=REGRADE_SCOPES,
            message=message,
            kind=kind,
            gradebook_error=self.gradebook.errors.get(offered.name, ""),
            refresh=3 if progress and progress["running"] else 0,
        )

    async def regrade(self, request: Request, ctx: Ctx) -> Response:
        user = self.need_instructor(ctx)
        name = request.path_params["name"]
        self.assignment(name)
        form = await request.form()
        scope = str(form.get("scope") or "counted")
        if scope not in REGRADE_SCOPES:
            scope = "counted"

        def start() -> tuple[str, str, int]:
            # The current grading.toml, reference.json and release: a broken one is said, and nothing starts.
            try:
                fresh = catalog.load_one(self.settings.source_dir / name, self.settings.release_dir)
            except (SpecError, OSError, ValueError) as exc:
                return f"Nothing was regraded: the assignment does not load: {exc}", "error", 400
            self.grading.reload(name, fresh)
            with self.factory.begin() as db:
                if scope == "counted":
                    ids = sorted(st.counted.submission_id for st in standing.standings(db, self.course, assignment=name).values())
                else:
                    ids = list(
                        db.scalars(
                            select(Submission.id)
                            .join(Grade, Grade.submission_id == Submission.id)
                            .where(Submission.assignment == name)
                            .order_by(Submission.id)
                        )
                    )
                # a submission still waiting in an earlier run is regraded once, by the new run
                db.execute(
                    update(RegradeItem)
                    .where(RegradeItem.state == QUEUED, RegradeItem.submission_id.in_(ids))
                    .values(state=FAILED, done_at=utcnow())
                )
                run = RegradeRun(assignment=name, scope=scope, started_by=user.login, created_at=utcnow())
                db.add(run)
                db.flush()
                for sid in ids:
                    db.add(RegradeItem(run_id=run.id, submission_id=sid, state=QUEUED, attempts=0))
            self.grading.wake()
            return f"Regrade started: {len(ids)} submissions ({REGRADE_SCOPES[scope]}) are graded again with the current files.", "ok", 200

        message, kind, status = await run_in_threadpool(start)
        if status != 200:
            return await run_in_threadpool(self.assignment_overview, request, ctx, message, kind, status)
        return RedirectResponse(f"/instructor/assignments/{name}", status_code=303)

    def grades_csv(self, request: Request, ctx: Ctx) -> Response:
        self.need_instructor(ctx)
        offered = self.assignment(request.path_params["name"])
        return Response(
            grades_csv(self.factory, self.course, offered),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{offered.name}-grades.csv"'},
        )

    def gradebook_download(self, request: Request, ctx: Ctx) -> Response:
        self.need_instructor(ctx)
        return Response(
            self.gradebook.snapshot(),
            media_type="application/vnd.sqlite3",
            headers={"Content-Disposition": f'attachment; filename="{GRADEBOOK_FILE}"'},
        )

    def extensions_page(self, request: Request, ctx: Ctx, error: str = "", status: int = 200) -> Response:
        self.need_instructor(ctx)
        offered = self.assignment(request.path_params["name"])
        with self.factory() as db:
            students = db.scalars(select(User).where(User.role != INSTRUCTOR, User.active).order_by(User.login)).all()
        rows = [
            {"login": login, "deadline": self.course.show(d), "by": by}
            for login, _, d, by in extensions.listing(self.factory, offered.name)
        ]
        r = self.course.of(offered.name)
        return self.render(
            ctx,
            "extensions.html.j2",
            status,
            title=f"Extensions of {offered.name}",
            a=offered,
            rows=rows,
            students=students,
            rules=r,
            error=error,
        )

    async def extensions_submit(self, request: Request, ctx: Ctx) -> Response:
        user = self.need_instructor(ctx)
        name = request.path_params["name"]
        self.assignment(name)
        form = await request.form()
        login, action = str(form.get("login") or "").strip(), str(form.get("action") or "grant")

        def apply() -> str:
            try:
                if action == "revoke":
                    extensions.revoke(self.factory, login, name)
                else:
                    until = extensions.parse_until(self.course, name, str(form.get("until") or "").strip() or None, None)
                    extensions.grant(self.factory, self.course, login, name, until, by=user.login)
            except (extensions.ExtensionError, rules.RulesError) as exc:
                return str(exc)
            self.gradebook.mark(name)  # lateness, hence counted scores, may have changed
            return ""

        error = await run_in_threadpool(apply)
        if error:
            return await run_in_threadpool(self.extensions_page, request, ctx, error, 400)
        return RedirectResponse(f"/instructor/assignments/{name}/extensions", status_code=303)

    # ------------------------------------------------------------------ API (the CLI)
    def _api_user(self, request: Request) -> User:
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        with self.factory() as db:
            user = accounts.user_of_token(db, token)
        if user is None:
            raise Deny(401, "a valid token is needed: make one on your account page")
        return user

    async def api_submit(self, request: Request) -> Response:
        try:
            user = await anyio.to_thread.run_sync(self._api_user, request, limiter=self._upload_threads)
            offered = self.offered.get(request.path_params["name"])
            if offered is None:
                raise Deny(404, f"no assignment {request.path_params['name']!r} (there are: {', '.join(sorted(self.offered))})")
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > self.max_bytes:
                raise storage.too_large(self.max_bytes)
            chunks, size = [], 0
            try:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise storage.too_large(self.max_bytes)
                    chunks.append(chunk)
            except ClientDisconnect:
                return Response(status_code=400)
            filename = request.headers.get("x-filename")
            stored = await self._store_upload(user, offered, filename, b"".join(chunks))
        except Deny as deny:
            return self._finish(None, JSONResponse({"error": deny.title}, status_code=deny.status))
        except storage.UploadRefused as refused:
            return self._finish(None, JSONResponse({"error": refused.message}, status_code=refused.status))
        sub = stored.submission
        body = {
            "id": sub.id,
            "assignment": sub.assignment,
            "new": stored.new,
            "url": f"{self.settings.base_url.rstrip('/')}/submissions/{sub.id}",
        }
        return self._finish(None, JSONResponse(body, status_code=201 if stored.new else 200))

    def api_status(self, request: Request) -> Response:
        try:
            user = self._api_user(request)
            try:
                sid = submission_id(request.path_params["id"])
            except Deny:
                sid = None
            with self.factory() as db:
                sub = db.get(Submission, sid) if sid is not None else None
                if sub is None or sub.user_id != user.id:
                    raise Deny(404, "no such submission of yours")
                grade = db.get(Grade, sub.id, options=[load_only(Grade.score, Grade.max_score, Grade.status)])
                body = {"id": sub.id, "assignment": sub.assignment, "state": self.grading.state_of(sub)}
                if grade is not None:
                    body.update(score=grade.score, max_score=grade.max_score, status=grade.status)
        except Deny as deny:
            return self._finish(None, JSONResponse({"error": deny.title}, status_code=deny.status))
        return self._finish(None, JSONResponse(body))

    async def api_status_endpoint(self, request: Request) -> Response:
        return await run_in_threadpool(self.api_status, request)

    # ------------------------------------------------------------------ the application
    def app(self) -> Starlette:
        p = self.page
        routes = [
            Route("/signin", p(self.signin_form), methods=["GET"]),
            Route("/signin", p(self.signin, csrf=True), methods=["POST"]),
            Route("/signout", p(self.signout, csrf=True), methods=["POST"]),
            Route("/signin/link/{token}", p(self.link_form), methods=["GET"]),
            Route("/signin/link/{token}", p(self.link_submit, csrf=True), methods=["POST"]),
            Route("/assignments", p(self.assignments), methods=["GET"]),
            Route("/assignments/{name}", p(self.assignment_page), methods=["GET"]),
            Route("/assignments/{name}/download", p(self.download), methods=["GET"]),
            Route("/assignments/{name}/data/{file}", p(self.data_file), methods=["GET"]),
            Route("/assignments/{name}/submit", p(self.submit, csrf=True, threads=self._upload_threads), methods=["POST"]),
            Route("/submissions/{id}", p(self.submission_page), methods=["GET"]),
            Route("/submissions/{id}/feedback", p(self.feedback_page), methods=["GET"]),
            Route("/account", p(self.account), methods=["GET"]),
            Route("/account/token", p(self.new_token, csrf=True), methods=["POST"]),
            Route("/instructor", p(self.class_table), methods=["GET"]),
            Route("/instructor/queue", p(self.queue_page), methods=["GET"]),
            Route("/instructor/assignments/{name}", p(self.assignment_overview), methods=["GET"]),
            Route("/instructor/assignments/{name}/summary", p(self.assignment_summary), methods=["GET"]),
            Route("/instructor/assignments/{name}/regrade", p(self.regrade, csrf=True), methods=["POST"]),
            Route("/instructor/assignments/{name}/grades.csv", p(self.grades_csv), methods=["GET"]),
            Route("/instructor/assignments/{name}/extensions", p(self.extensions_page), methods=["GET"]),
            Route("/instructor/assignments/{name}/extensions", p(self.extensions_submit, csrf=True), methods=["POST"]),
            Route("/instructor/gradebook.db", p(self.gradebook_download), methods=["GET"]),
            Route("/api/assignments/{name}/submissions", self.api_submit, methods=["POST"]),
            Route("/api/submissions/{id}", self.api_status_endpoint, methods=["GET"]),
        ]
        book = self.settings.book_dir
        if book is not None and (book / "index.html").is_file():
            routes.append(Mount("/", app=BookFiles(book), name="book"))
        else:
            routes.append(Route("/", p(self.home), methods=["GET"]))

        @contextlib.asynccontextmanager
        async def lifespan(_app):
            # Pages run in this many threads at most; more only take turns at the interpreter lock and make
            # every page wait longer (the rest wait in order for a free thread).
            anyio.to_thread.current_default_thread_limiter().total_tokens = self.settings.page_threads
            self.gradebook.start()
            self.grading.start()
            try:
                yield
            finally:
                await run_in_threadpool(self.grading.stop)
                await run_in_threadpool(self.gradebook.stop)

        return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(ServerTiming)])


def create_app(settings: SiteSettings, executor: Executor | None = None) -> Starlette:
    site = Site(settings, executor)
    app = site.app()
    app.state.site = site
    return app
