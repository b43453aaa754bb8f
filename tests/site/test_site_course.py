"""The course rules on the site (a held executor: the worker is not the point): uploads refused before the
opening, after the hard deadline and past the daily limit with nothing stored; late ones graded and flagged
with the penalty in the counted score; extensions on a page and by command; best or latest; regrade all;
the CSV and nbgrader's gradebook over the counted scores; the SIGNS files and the book."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import re
import sqlite3

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from autograder import cli
from autograder.grading.result import CheckResult, Code, GroupResult, Reason, Result, Why
from autograder.site import accounts, rules
from autograder.site.app import create_app
from autograder.site.models import Grade, Submission
from autograder.site.settings import SiteSettings
from tests import toy_course
from tests.site.conftest import HeldExecutor, csrf_of, make_course, notebook_bytes, people, set_password, upload, wait_for

S = dt.timedelta(seconds=1)
# Europe/Zurich goes from CET to CEST on 2025-03-30: the opening is in winter time, the deadline in summer time.
COURSE_TOML = """
[course]
timezone = "Europe/Zurich"

[assignments.toy]
opens = 2025-03-24T09:00:00
deadline = 2025-03-31T12:00:00
late_penalty = 0.1
hard_deadline = 2025-04-02T12:00:00
daily_limit = 3
"""
OPENS = dt.datetime(2025, 3, 24, 8)  # UTC
DEADLINE = dt.datetime(2025, 3, 31, 10)
HARD = dt.datetime(2025, 4, 2, 10)


@pytest.fixture(scope="module")
def course_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("ruled-course")
    source, _ = make_course(root)
    (source / "course.toml").write_text(COURSE_TOML)
    return root


class Clock:
    def __init__(self, t: dt.datetime) -> None:
        self.t = t

    def __call__(self) -> dt.datetime:
        return self.t


@pytest.fixture
def ruled(request, tmp_path, course_root):
    executor = HeldExecutor()
    settings = SiteSettings(
        data_dir=tmp_path / "site",
        source_dir=course_root / "source_solutions",
        release_dir=course_root / "assignments",
        sandbox=False,
        poll_s=0.1,
        grading_workers=2,  # two regrade jobs at once
        gradebook_process=getattr(request, "param", False),  # the served default; two seconds to start
    )
    app = create_app(settings, executor)
    clients = []
    with TestClient(app) as anonymous:
        clients.append(anonymous)
        site = app.state.site
        site.now = Clock(OPENS)
        tokens = people(app, "alice", "bob")
        for login in ("alice", "bob"):
            c = TestClient(app)
            clients.append(c)
            set_password(c, tokens[login])
        prof = TestClient(app)
        clients.append(prof)
        set_password(prof, accounts.add_instructor(site.factory, "prof"))
        yield app, site, executor, clients[1], clients[2], prof
    for c in clients:
        c.close()


def variant(site, i: int) -> bytes:
    """A solved toy notebook, made a distinct file by ``i``."""
    nb = copy.deepcopy(toy_course.solved(site.offered["toy"].spec.folder))
    nb.metadata["variant"] = i
    return notebook_bytes(nb)


def toy_result(spec, job, lost=()) -> Result:
    groups = []
    for g in spec.groups:
        checks = [
            CheckResult(
                name=c.name,
                group=g.grade_id,
                points=0.0 if c.name in lost else c.points,
                max_points=c.points,
                passed=c.name not in lost,
                visible=c.visible,
                code=Code.WRONG_VALUES if c.name in lost else Code.PASSED,
            )
            for c in g.checks
        ]
        groups.append(GroupResult(g.grade_id, g.title, sum(c.points for c in checks), g.max_points, checks))
    return Result(assignment=spec.name, submission=job.label, score=sum(x.score for x in groups), max_score=spec.max_score, groups=groups)


def count(site) -> tuple[int, int]:
    with site.factory() as db:
        rows = db.scalar(select(func.count(Submission.id)))
    blobs = site.settings.blobs
    return rows, len([p for p in blobs.rglob("*.ipynb")]) if blobs.exists() else 0


def grade_all(site, executor, lost_by_sid: dict[int, tuple] | None = None) -> None:
    """Finish every handed-out job: full marks, or without the checks ``lost_by_sid[sid]``."""
    spec = site.offered["toy"].spec
    lost_by_sid = lost_by_sid or {}

    def make(job):
        sid = int(job.job_id.split("-")[1]) if job.job_id.startswith("submission-") else int(job.job_id.split("-")[2])
        return toy_result(spec, job, lost_by_sid.get(sid, ()))

    executor.finish_all(make)


def graded_count(site) -> int:
    with site.factory() as db:
        return db.scalar(select(func.count()).select_from(Grade))


def cell(prof, login="alice") -> str:
    page = prof.get("/instructor").text
    found = re.search(rf'data-student="{login}" data-assignment="toy">(.*?)</td>', page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).split()


def test_uploads_are_refused_before_the_opening_and_after_the_hard_deadline(ruled):
    app, site, _, alice, _, _ = ruled
    site.now.t = OPENS - S
    r = upload(alice, "toy", variant(site, 1))
    assert r.status_code == 403 and "toy opens on 2025-03-24 09:00 CET" in r.text
    assert count(site) == (0, 0)
    site.now.t = OPENS
    assert upload(alice, "toy", variant(site, 1)).status_code == 303
    site.now.t = DEADLINE - S
    on_time = upload(alice, "toy", variant(site, 2)).headers["location"]
    site.now.t = DEADLINE + S
    late = upload(alice, "toy", variant(site, 3)).headers["location"]
    assert 'id="late"' not in alice.get(on_time).text
    page = alice.get(late).text
    assert "submitted 2025-03-31 12:00:01 CEST" in page  # shown in the course's zone, summer time
    assert re.search(r'id="late">1 d late: 90% of the score counts', page)
    site.now.t = HARD + S
    before = count(site)
    r = upload(alice, "toy", variant(site, 4))
    assert r.status_code == 403 and "The hard deadline of toy was 2025-04-02 12:00 CEST" in r.text
    assert count(site) == before == (3, 3)
    # the API (the CLI's path) says the same
    token = alice.post("/account/token", data={"csrf": csrf_of(alice.get("/account").text)}).text.split('<pre id="token">')[1].split("<")[0]
    api = alice.post("/api/assignments/toy/submissions", content=variant(site, 5), headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 403 and "hard deadline" in api.json()["error"]
    assert count(site) == before
    page = alice.get("/assignments/toy").text
    assert 'Due <strong id="deadline">2025-03-31 12:00 CEST</strong>' in page and "At most 3 submissions in any 24 hours" in page


def test_the_daily_limit_counts_24_hours_back(ruled):
    _, site, _, alice, bob, _ = ruled
    t0 = OPENS + dt.timedelta(hours=5)
    for i in range(3):
        site.now.t = t0 + i * dt.timedelta(minutes=10)
        assert upload(alice, "toy", variant(site, i)).status_code == 303
    site.now.t = t0 + rules.DAY - S
    r = upload(alice, "toy", variant(site, 9))
    assert r.status_code == 429 and "You have submitted toy 3 times in the last 24 hours" in r.text
    assert "You can submit again from 2025-03-25 14:00 CET" in r.text
    assert count(site) == (3, 3)
    again = upload(alice, "toy", variant(site, 0))  # the same file again is no new submission: not refused
    assert again.status_code == 303 and again.headers["location"].endswith("?again=1")
    assert upload(bob, "toy", variant(site, 9)).status_code == 303  # the limit is per student
    site.now.t = t0 + rules.DAY  # the first one is 24 hours old now
    assert upload(alice, "toy", variant(site, 9)).status_code == 303
    assert upload(alice, "toy", variant(site, 10)).status_code == 429


def test_late_penalty_extensions_and_which_submission_counts(ruled, capsys):
    app, site, executor, alice, _, prof = ruled
    site.now.t = DEADLINE - S
    upload(alice, "toy", variant(site, 1))
    site.now.t = DEADLINE + S
    upload(alice, "toy", variant(site, 2))
    wait_for(lambda: len(executor.submitted) == 2)
    grade_all(site, executor, {1: ("scale.visible", "scale.hidden", "scale.hidden_shape", "count_positive.hidden")})  # 6 on time
    wait_for(lambda: graded_count(site) == 2)
    # best after the penalty: the late 10 counts as 9, more than the 6 on time
    assert cell(prof) == ["9", "(2)", "1", "d", "late"]
    csv_text = prof.get("/instructor/assignments/toy/grades.csv").text
    row = next(r for r in csv.DictReader(io.StringIO(csv_text)) if r["student"] == "alice")
    assert (row["total"], row["late_days"], row["counted"], row["submitted"]) == ("10", "1", "9", "2025-03-31 12:00:01 CEST")
    # an extension by one hour, on the page (CSRF needed), makes the late one on time
    page = prof.get("/instructor/assignments/toy/extensions").text
    form = {"login": "alice", "action": "grant", "until": "2025-03-31T13:00"}
    assert prof.post("/instructor/assignments/toy/extensions", data=form).status_code == 403
    r = prof.post("/instructor/assignments/toy/extensions", data={**form, "csrf": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303
    assert "2025-03-31 13:00 CEST" in prof.get("/instructor/assignments/toy/extensions").text
    assert cell(prof) == ["10", "(2)", "ext."]
    assert 'Due <strong id="deadline">2025-03-31 13:00 CEST</strong> (your extension' in alice.get("/assignments/toy").text
    bad = prof.post("/instructor/assignments/toy/extensions", data={**form, "until": "2025-03-30T02:30", "csrf": csrf_of(page)})
    assert bad.status_code == 400 and "does not exist" in bad.text
    # by command: revoke it, and the penalty is back
    data = ["--data-dir", str(site.settings.data_dir), "--source-dir", str(site.settings.source_dir)]
    assert cli.main(["extension", "list", *data]) == 0
    assert "alice\ttoy\t2025-03-31 13:00 CEST\tprof" in capsys.readouterr().out
    assert cli.main(["extension", "revoke", "alice", "toy", *data]) == 0
    assert cell(prof) == ["9", "(2)", "1", "d", "late"]
    assert cli.main(["extension", "grant", "alice", "toy", "--days", "2", *data]) == 0
    assert "2025-04-02 12:00 CEST" in capsys.readouterr().out
    assert cli.main(["extension", "grant", "nobody", "toy", "--days", "2", *data]) == 2
    # under counts = "latest" the latest graded submission counts, whatever its score
    site.course = rules.parse(
        {
            "course": {"timezone": "Europe/Zurich"},
            "assignments": {"toy": {"deadline": dt.datetime(2025, 3, 31, 12), "late_penalty": 0.1, "counts": "latest"}},
        }
    )
    site.now.t = DEADLINE + dt.timedelta(hours=30)
    upload(alice, "toy", variant(site, 3))
    wait_for(lambda: len(executor.submitted) == 3)
    grade_all(site, executor, {3: ("count_positive.visible", "count_positive.hidden")})
    wait_for(lambda: graded_count(site) == 3)
    assert cell(prof) == ["8", "(3)", "ext."]  # 8 points, within the two-day extension: no penalty


@pytest.mark.parametrize("ruled", [True], indirect=True, ids=["written-by-its-own-process"])
def test_gradebook_has_the_counted_scores_for_nbgrader_export(ruled, tmp_path):
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin

    _, site, executor, alice, bob, prof = ruled
    site.now.t = DEADLINE + S
    upload(alice, "toy", variant(site, 1))
    site.now.t = DEADLINE - S
    upload(bob, "toy", variant(site, 2))
    wait_for(lambda: len(executor.submitted) == 2)
    grade_all(site, executor, {2: ("count_positive.hidden",)})
    wait_for(lambda: graded_count(site) == 2)
    r = prof.get("/instructor/gradebook.db")
    assert r.status_code == 200 and r.content.startswith(b"SQLite format 3")
    path = tmp_path / "gradebook.db"
    path.write_bytes(r.content)
    out = tmp_path / "grades.csv"
    gb = Gradebook(f"sqlite:///{path}", course_id="course")
    try:
        CsvExportPlugin(to=str(out)).export(gb)
    finally:
        gb.close()
    rows = {r["student_id"]: r for r in csv.DictReader(out.open())}
    assert (float(rows["alice"]["raw_score"]), float(rows["alice"]["late_submission_penalty"]), float(rows["alice"]["score"])) == (10, 1, 9)
    assert (float(rows["bob"]["raw_score"]), float(rows["bob"]["score"])) == (9, 9)
    assert rows["alice"]["duedate"].startswith("2025-03-31 10:00:00")
    # kept in sync: the server's own copy has both students without any download
    with sqlite3.connect(site.settings.data_dir / "gradebook.db") as conn:
        assert sorted(x for (x,) in conn.execute("SELECT student_id FROM submitted_assignment")) == ["alice", "bob"]


def test_regrade_all_keeps_the_old_grade_until_the_new_one_is_stored(ruled):
    _, site, executor, alice, bob, prof = ruled
    site.now.t = DEADLINE - dt.timedelta(days=1)
    upload(alice, "toy", variant(site, 1))
    upload(bob, "toy", variant(site, 2))
    wait_for(lambda: len(executor.submitted) == 2)
    grade_all(site, executor, {1: ("scale.hidden",), 2: ("scale.hidden",)})
    wait_for(lambda: graded_count(site) == 2)
    assert cell(prof) == ["9", "(1)"]
    page = prof.get("/instructor/assignments/toy").text
    assert 'id="plot-scores"' in page and 'id="plot-times"' in page
    assert re.search(r"<code>scale.hidden</code>.*?0% passed \(0 of 2\).*?<td class=\"num wide\">0 / 2</td>.*?wrong values 2", page, re.S)
    assert page.index("<code>scale.hidden</code>") < page.index("<code>scale.visible</code>")  # the most failed first
    assert prof.post("/instructor/assignments/toy/regrade", data={"scope": "counted"}).status_code == 403  # no CSRF
    assert (
        alice.post(
            "/instructor/assignments/toy/regrade", data={"scope": "counted", "csrf": csrf_of(alice.get("/account").text)}
        ).status_code
        == 403
    )
    r = prof.post("/instructor/assignments/toy/regrade", data={"scope": "counted", "csrf": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303
    wait_for(lambda: len(executor.submitted) == 4)
    assert {j.job_id for j in executor.submitted[2:]} == {"regrade-1-1-1", "regrade-1-2-1"}
    page = prof.get("/instructor/assignments/toy").text
    assert re.search(r"<strong>0 of 2</strong> graded again", page) and 'id="regrade-state">running' in page
    assert '<meta http-equiv="refresh" content="3">' in page
    assert cell(prof) == ["9", "(1)"]  # the old grade stays meanwhile
    # alice's regrade passes everything now; bob's fails on the grader's side: his old grade stays
    spec = site.offered["toy"].spec
    for job in executor.submitted[2:]:
        future = executor._futures[job.job_id][1]
        if job.job_id == "regrade-1-1-1":
            future.set_result(toy_result(spec, job))
        else:
            future.set_result(Result("toy", job.label, 0.0, 10.0, status="incomplete", reasons=[Reason(Why.NO_KERNEL, "no kernel")]))
    wait_for(lambda: 'id="regrade-state">finished' in prof.get("/instructor/assignments/toy").text)
    page = prof.get("/instructor/assignments/toy").text
    assert re.search(r"<strong>2 of 2</strong> graded again, 1 failed on the grader's side", page) and "1 scores changed" in page
    assert cell(prof, "alice") == ["10", "(1)"] and cell(prof, "bob") == ["9", "(1)"]
    assert "10" in alice.get("/submissions/1").text.split('class="total">')[1][:5]


def test_regrade_with_a_broken_grading_toml_starts_nothing(ruled, tmp_path):
    _, site, executor, alice, _, prof = ruled
    spec_file = site.offered["toy"].spec.spec_path
    text = spec_file.read_text()
    page = prof.get("/instructor/assignments/toy").text
    try:
        spec_file.write_text(text.replace('compare = "allclose"', 'compare = "roughly"', 1))
        r = prof.post("/instructor/assignments/toy/regrade", data={"scope": "all", "csrf": csrf_of(page)})
    finally:
        spec_file.write_text(text)
    assert r.status_code == 400 and "Nothing was regraded" in r.text and "roughly" in r.text
    assert executor.submitted == []


def test_signs_files_only_where_the_notebook_loads_them(tmp_path):
    source, release = make_course(tmp_path)
    toy_course.copy_as(source / "toy", "signs_toy")
    (release / "signs_toy").mkdir()
    nb = toy_course.blank(source / "toy")
    nb.cells.insert(
        1,
        type(nb.cells[0])(
            cell_type="code",
            source="X_train, Y_train, X_test, Y_test, classes = load_dataset()",
            metadata={},
            outputs=[],
            execution_count=None,
        ),
    )
    (release / "signs_toy" / "toy.ipynb").write_bytes(notebook_bytes(nb))
    data = tmp_path / "datasets"
    data.mkdir()
    (data / "train_signs.h5").write_bytes(b"\x89HDF\r\n\x1a\n train")
    (data / "test_signs.h5").write_bytes(b"\x89HDF\r\n\x1a\n test")
    (data / "secret.txt").write_text("not offered")
    settings = SiteSettings(data_dir=tmp_path / "site", source_dir=source, release_dir=release, sandbox=False, datasets_dir=data)
    app = create_app(settings, HeldExecutor())
    with TestClient(app) as anonymous:
        alice = TestClient(app)
        set_password(alice, people(app, "alice")["alice"])
        page = alice.get("/assignments/signs_toy").text
        assert re.findall(r'href="(/assignments/signs_toy/data/[^"]+)"', page) == [
            "/assignments/signs_toy/data/train_signs.h5",
            "/assignments/signs_toy/data/test_signs.h5",
        ]
        assert "/data/" not in alice.get("/assignments/toy").text
        r = alice.get("/assignments/signs_toy/data/train_signs.h5")
        assert r.status_code == 200 and r.content == b"\x89HDF\r\n\x1a\n train"
        assert 'filename="train_signs.h5"' in r.headers["content-disposition"]
        for url in (
            "/assignments/toy/data/train_signs.h5",
            "/assignments/signs_toy/data/secret.txt",
            "/assignments/signs_toy/data/..%2Fdatasets%2Fsecret.txt",
            "/assignments/signs_toy/data/grading.toml",
        ):
            assert alice.get(url).status_code == 404, url
        assert anonymous.get("/assignments/signs_toy/data/train_signs.h5", follow_redirects=False).headers["location"] == "/signin"
        alice.close()


def test_the_book_is_served_read_only_at_the_root(tmp_path):
    source, release = make_course(tmp_path)
    book = tmp_path / "_build" / "html"
    (book / "chapter").mkdir(parents=True)
    (book / "index.html").write_text("<html><body>The course book</body></html>")
    (book / "chapter" / "one.html").write_text("<html><body>Chapter one</body></html>")
    (book / "leak.html").symlink_to(source / "toy" / "grading.toml")
    settings = SiteSettings(data_dir=tmp_path / "site", source_dir=source, release_dir=release, sandbox=False, book_dir=book)
    app = create_app(settings, HeldExecutor())
    with TestClient(app) as anonymous:
        r = anonymous.get("/")
        assert r.status_code == 200 and "The course book" in r.text
        assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
        assert "Chapter one" in anonymous.get("/chapter/one.html").text
        assert anonymous.get("/leak.html").status_code == 404  # a link out of the book is not followed
        assert anonymous.get("/../source_solutions/toy/grading.toml").status_code == 404
        assert anonymous.post("/index.html").status_code == 405
        assert anonymous.get("/signin").status_code == 200  # the site's own pages come first
        # every answer says how long the server took, book files and refusals too (load benchmarks read it)
        for url in ("/", "/signin", "/leak.html", "/assignments"):
            timing = anonymous.get(url, follow_redirects=False).headers["server-timing"]
            assert re.fullmatch(r"app;dur=\d+\.\d", timing), (url, timing)
    with pytest.raises(rules.RulesError, match="overlaps the source folder"):
        create_app(
            SiteSettings(data_dir=tmp_path / "site2", source_dir=source, release_dir=release, sandbox=False, book_dir=tmp_path),
            HeldExecutor(),
        )


def test_a_regrade_that_cannot_be_stored_is_regraded_again_and_the_old_grade_stays(ruled):
    from sqlalchemy import event

    _, site, executor, alice, _, prof = ruled
    site.now.t = DEADLINE - dt.timedelta(days=1)
    site.grading.retry_s = 0.3
    upload(alice, "toy", variant(site, 1))
    wait_for(lambda: len(executor.submitted) == 1)
    grade_all(site, executor, {1: ("scale.hidden",)})
    wait_for(lambda: graded_count(site) == 1)
    page = prof.get("/instructor/assignments/toy").text
    prof.post("/instructor/assignments/toy/regrade", data={"scope": "counted", "csrf": csrf_of(page)})
    wait_for(lambda: len(executor.submitted) == 2)
    engine, refused = site.factory.kw["bind"], []

    def refuse_once(conn, cursor, statement, *rest):
        if statement.lstrip().upper().startswith("UPDATE GRADES") and not refused:
            refused.append(statement)
            raise RuntimeError("disk I/O error (the test's)")

    event.listen(engine, "before_cursor_execute", refuse_once)
    try:
        grade_all(site, executor)  # full marks now, but storing them fails
        wait_for(lambda: len(executor.submitted) == 3)  # queued again, and regraded after the wait
        assert refused and executor.submitted[2].job_id == "regrade-1-1-2"
        assert cell(prof) == ["9", "(1)"] and 'id="regrade-state">running' in prof.get("/instructor/assignments/toy").text
        grade_all(site, executor)
        wait_for(lambda: 'id="regrade-state">finished' in prof.get("/instructor/assignments/toy").text)
    finally:
        event.remove(engine, "before_cursor_execute", refuse_once)
    assert cell(prof) == ["10", "(1)"] and "1 scores changed" in prof.get("/instructor/assignments/toy").text
