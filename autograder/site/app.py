"""The course site as an ASGI application (Starlette, served by Uvicorn): pages, uploads, the API.

URL map (every page but the sign-in ones needs a signed-in user; /instructor/* needs the instructor role):

  GET  /                                   the built book when there is one, else a redirect to /assignments
  GET  /signin, POST /signin               password sign-in (rate-limited)
  POST /signout
  GET  /signin/link/<token>, POST ...      a one-time sign-in link: choose a password
  GET  /assignments                        the list, with the student's best score
  GET  /assignments/<name>                 download, upload form, the student's submissions
  GET  /assignments/<name>/download        the released notebook and its helper modules (zip)
  POST /assignments/<name>/submit          upload (multipart)
  GET  /submissions/<id>                   queued / running / graded (refreshes itself)
  GET  /submissions/<id>/feedback          the batch's feedback page
  GET  /account, POST /account/token       the student's API token (shown once)
  GET  /instructor                         the class table
  GET  /instructor/queue                   what is queued and running
  GET  /instructor/assignments/<name>      the batch's instructor summary over the counted submissions
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
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from autograder.executor import Executor, LocalExecutor
from autograder.grading.result import Result
from autograder.report import feedback
from autograder.report.common import fmt
from autograder.site import accounts, catalog, security, storage
from autograder.site.grader import GradingLoop
from autograder.site.models import GRADED, GRADING, INSTRUCTOR, QUEUED, Grade, Submission, User, open_db
from autograder.site.settings import SiteSettings

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


def _fmt_time(t) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t else ""


class Site:
    def __init__(self, settings: SiteSettings, executor: Executor | None = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.factory: sessionmaker = open_db(settings.url)
        self.sessions = security.Sessions(security.load_secret(settings.data_dir), secure=settings.secure_cookies)
        self.limiter = security.RateLimiter(settings.signin_limit, settings.signin_window_s)
        self.offered = catalog.load(settings.source_dir, settings.release_dir)
        self.max_bytes = settings.max_upload_mb * 2**20
        self.executor = executor or LocalExecutor(settings.grading_workers)
        self.grading = GradingLoop(
            self.factory, self.executor, self.offered, settings.blobs, limits=settings.limits, sandbox=settings.sandbox,
            worker_memory_mb=settings.worker_memory_mb, poll_s=settings.poll_s,
        )

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

    def page(self, handler, *, csrf: bool = False):
        """An endpoint: context, CSRF check on POST, the handler (sync ones in a thread), headers, cookie."""

        async def endpoint(request: Request) -> Response:
            ctx = await run_in_threadpool(self.context, request)
            try:
                if csrf:
                    await self._check_csrf(request, ctx)
                if inspect.iscoroutinefunction(handler):
                    response = await handler(request, ctx)
                else:
                    response = await run_in_threadpool(handler, request, ctx)
            except Deny as deny:
                if deny.status == 401:
                    response = RedirectResponse("/signin", status_code=303)
                else:
                    response = self.render(ctx, "message.html.j2", deny.status, title=deny.title, message=deny.message, kind="error", back="")
            return self._finish(ctx, response)

        return endpoint

    async def _check_csrf(self, request: Request, ctx: Ctx) -> None:
        # Multipart uploads carry the token in the query string too, so that it is checked before the body is read.
        token = request.query_params.get("csrf")
        if token is None and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = await request.form()
            token = form.get("csrf")
        if not self.sessions.csrf_ok(ctx.session, token):
            raise Deny(403, "Form expired", "This form was not sent from this site's page, or the page is too old. Go back, reload the page and try again.")

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
        try:
            sub = db.get(Submission, int(sid))
        except (TypeError, ValueError, OverflowError):
            sub = None
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
        if self.limiter.blocked(*keys):
            return self.render(ctx, "signin.html.j2", 429, title="Sign in", login=login,
                               error="Too many failed attempts. Wait a few minutes, then try again.")

        def check() -> User | None:
            with self.factory() as db:
                user = accounts.find_user(db, login)
            if user is None or not user.active or not user.password_hash:
                security.burn_time(password)
                return None
            return user if security.verify_password(user.password_hash, password) else None

        user = await run_in_threadpool(check)
        if user is None:
            self.limiter.failed(*keys)
            return self.render(ctx, "signin.html.j2", 400, title="Sign in", login=login, error="Wrong id or password.")
        self.limiter.succeeded(keys[0])
        ctx.sign_in(self.sessions, user)
        return RedirectResponse("/assignments", status_code=303)

    def signout(self, request: Request, ctx: Ctx) -> Response:
        ctx.sign_in(self.sessions, None)
        return RedirectResponse("/signin", status_code=303)

    def _link_or_deny(self, db, token: str):
        link = accounts.valid_link(db, token)
        if link is None:
            raise Deny(410, "This link does not work any more",
                       "Sign-in links work once and expire. Sign in with your password, or ask your instructor for a new link.")
        return link

    def link_form(self, request: Request, ctx: Ctx) -> Response:
        token = request.path_params["token"]
        with self.factory() as db:
            link = self._link_or_deny(db, token)
            account = db.get(User, link.user_id)
        return self.render(ctx, "set_password.html.j2", title="Choose a password", account=account, token=token,
                           error="", min_password=accounts.MIN_PASSWORD)

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
            return self.render(ctx, "set_password.html.j2", 400, title="Choose a password", account=account, token=token,
                               error=problem, min_password=accounts.MIN_PASSWORD)
        ctx.sign_in(self.sessions, user)
        return RedirectResponse("/assignments", status_code=303)

    # ------------------------------------------------------------------ students
    def home(self, request: Request, ctx: Ctx) -> Response:
        return RedirectResponse("/assignments", status_code=303)

    def assignments(self, request: Request, ctx: Ctx) -> Response:
        user = self.need_user(ctx)
        with self.factory() as db:
            stats = dict(((a, (best, n)) for a, best, n in db.execute(
                select(Submission.assignment, func.max(Grade.score), func.count(Submission.id))
                .outerjoin(Grade, Grade.submission_id == Submission.id)
                .where(Submission.user_id == user.id)
                .group_by(Submission.assignment)
            )))
        rows = [
            {"name": name, "max": o.spec.max_score, "best": stats.get(name, (None, 0))[0], "count": stats.get(name, (None, 0))[1]}
            for name, o in sorted(self.offered.items())
        ]
        return self.render(ctx, "assignments.html.j2", title="Assignments", rows=rows)

    def _assignment_page(self, ctx: Ctx, offered: catalog.Offered, error: str = "", status: int = 200) -> Response:
        user = self.need_user(ctx)
        with self.factory() as db:
            found = db.execute(
                select(Submission, Grade).outerjoin(Grade, Grade.submission_id == Submission.id)
                .where(Submission.user_id == user.id, Submission.assignment == offered.name)
                .order_by(Submission.id.desc())
            ).all()
            subs = [
                {"id": s.id, "filename": s.filename, "created": _fmt_time(s.created_at), "state": self.grading.state_of(s),
                 "score": g.score if g else None, "max": g.max_score if g else None}
                for s, g in found
            ]
        return self.render(ctx, "assignment.html.j2", status, title=offered.name, a=offered, subs=subs, error=error,
                           max_mb=self.settings.max_upload_mb)

    def assignment_page(self, request: Request, ctx: Ctx) -> Response:
        return self._assignment_page(ctx, self.assignment(request.path_params["name"]))

    def download(self, request: Request, ctx: Ctx) -> Response:
        self.need_user(ctx)
        offered = self.assignment(request.path_params["name"])
        return Response(offered.zip_bytes, media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{offered.name}.zip"'})

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

    def _store(self, user: User, offered: catalog.Offered, filename: str | None, data: bytes) -> storage.Stored:
        stored = storage.store(self.factory, self.settings.blobs, user.id, offered, filename, data, others=self.offered)
        if stored.new:
            self.grading.wake()
        return stored

    async def submit(self, request: Request, ctx: Ctx) -> Response:
        user = self.need_user(ctx)
        offered = self.assignment(request.path_params["name"])
        try:
            filename, data = await self._read_upload(request)
            stored = await run_in_threadpool(self._store, user, offered, filename, data)
        except storage.UploadRefused as refused:
            response = await run_in_threadpool(self._assignment_page, ctx, offered, refused.message, refused.status)
            if refused.status == 413:
                response.headers["Connection"] = "close"  # the rest of the body is not read
            return response
        note = "" if stored.new else "?again=1"
        return RedirectResponse(f"/submissions/{stored.submission.id}{note}", status_code=303)

    def submission_page(self, request: Request, ctx: Ctx) -> Response:
        with self.factory() as db:
            sub = self.visible_submission(db, ctx, request.path_params["id"])
            grade = db.get(Grade, sub.id)
            owner = db.get(User, sub.user_id).login
            state = self.grading.state_of(sub)
            view = {"id": sub.id, "assignment": sub.assignment, "filename": sub.filename, "created": _fmt_time(sub.created_at)}
        note = "You had already submitted this very file; it is graded once." if request.query_params.get("again") else ""
        return self.render(ctx, "submission.html.j2", title=f"Submission {view['id']}", s=view, grade=grade, owner=owner,
                           state=state, note=note, refresh=0 if grade else REFRESH_S)

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
            rows = db.execute(
                select(Submission.id, Submission.user_id, Submission.assignment, Grade.score)
                .join(Grade, Grade.submission_id == Submission.id)
                .order_by(Submission.id)
            ).all()
        cells: dict[tuple[int, str], dict] = {}
        for sid, uid, assignment, score in rows:
            cell = cells.setdefault((uid, assignment), {"id": sid, "score": score, "count": 0})
            cell["count"] += 1
            if score > cell["score"]:  # the best counts; the first of equal scores
                cell["id"], cell["score"] = sid, score
        assignments = [self.offered[n] for n in sorted(self.offered)]
        return self.render(ctx, "class.html.j2", title="Class", students=students, assignments=assignments, cells=cells)

    def queue_page(self, request: Request, ctx: Ctx) -> Response:
        self.need_instructor(ctx)
        with self.factory() as db:
            counts = dict(db.execute(select(Submission.state, func.count()).group_by(Submission.state)).all())
            waiting = db.execute(
                select(Submission, User.login).join(User, User.id == Submission.user_id)
                .where(Submission.state.in_([QUEUED, GRADING])).order_by(Submission.id).limit(500)
            ).all()
            rows = [
                {"id": s.id, "login": login, "assignment": s.assignment, "created": _fmt_time(s.created_at),
                 "state": self.grading.state_of(s), "attempts": s.attempts}
                for s, login in waiting
            ]
        return self.render(ctx, "queue.html.j2", title="Queue", rows=rows, executor=getattr(self.executor, "name", "?"),
                           counts={k: counts.get(k, 0) for k in (QUEUED, GRADING, GRADED)}, refresh=5)

    def assignment_summary(self, request: Request, ctx: Ctx) -> Response:
        self.need_instructor(ctx)
        offered = self.assignment(request.path_params["name"])
        with self.factory() as db:
            rows = db.execute(
                select(User.login, Submission.id, Grade.score, Grade.result_json)
                .join(Submission, Submission.user_id == User.id).join(Grade, Grade.submission_id == Submission.id)
                .where(Submission.assignment == offered.name).order_by(Submission.id)
            ).all()
        best: dict[str, tuple[float, int, str]] = {}
        for login, sid, score, result_json in rows:
            if login not in best or score > best[login][0]:
                best[login] = (score, sid, result_json)
        results = {login: Result.from_dict(json.loads(rj)) for login, (_, _, rj) in best.items()}
        links = {login: f"/submissions/{sid}/feedback" for login, (_, sid, _) in best.items()}
        return HTMLResponse(feedback.render_instructor_summary(offered.spec, results, links))

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
            user = await run_in_threadpool(self._api_user, request)
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
            stored = await run_in_threadpool(self._store, user, offered, filename, b"".join(chunks))
        except Deny as deny:
            return self._finish(None, JSONResponse({"error": deny.title}, status_code=deny.status))
        except storage.UploadRefused as refused:
            return self._finish(None, JSONResponse({"error": refused.message}, status_code=refused.status))
        sub = stored.submission
        body = {"id": sub.id, "assignment": sub.assignment, "new": stored.new,
                "url": f"{self.settings.base_url.rstrip('/')}/submissions/{sub.id}"}
        return self._finish(None, JSONResponse(body, status_code=201 if stored.new else 200))

    def api_status(self, request: Request) -> Response:
        try:
            user = self._api_user(request)
            with self.factory() as db:
                try:
                    sub = db.get(Submission, int(request.path_params["id"]))
                except ValueError:
                    sub = None
                if sub is None or sub.user_id != user.id:
                    raise Deny(404, "no such submission of yours")
                grade = db.get(Grade, sub.id)
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
            Route("/assignments/{name}/submit", p(self.submit, csrf=True), methods=["POST"]),
            Route("/submissions/{id}", p(self.submission_page), methods=["GET"]),
            Route("/submissions/{id}/feedback", p(self.feedback_page), methods=["GET"]),
            Route("/account", p(self.account), methods=["GET"]),
            Route("/account/token", p(self.new_token, csrf=True), methods=["POST"]),
            Route("/instructor", p(self.class_table), methods=["GET"]),
            Route("/instructor/queue", p(self.queue_page), methods=["GET"]),
            Route("/instructor/assignments/{name}", p(self.assignment_summary), methods=["GET"]),
            Route("/api/assignments/{name}/submissions", self.api_submit, methods=["POST"]),
            Route("/api/submissions/{id}", self.api_status_endpoint, methods=["GET"]),
        ]
        book = self.settings.book_dir
        if book is not None and (book / "index.html").is_file():
            routes.append(Mount("/", app=StaticFiles(directory=str(book), html=True), name="book"))
        else:
            routes.append(Route("/", p(self.home), methods=["GET"]))

        @contextlib.asynccontextmanager
        async def lifespan(_app):
            self.grading.start()
            try:
                yield
            finally:
                await run_in_threadpool(self.grading.stop)

        return Starlette(routes=routes, lifespan=lifespan)


def create_app(settings: SiteSettings, executor: Executor | None = None) -> Starlette:
    site = Site(settings, executor)
    app = site.app()
    app.state.site = site
    return app
