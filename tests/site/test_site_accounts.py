"""Accounts and sessions: sign-in links work once and expire, cookies must carry this site's signature,
every form needs its CSRF token, sign-in is rate-limited, a removed student's token and session stop working."""

from __future__ import annotations

import datetime as dt

import argon2
import pytest
from sqlalchemy import update

from autograder import cli
from autograder.site import accounts, security
from autograder.site.models import SigninLink, User
from tests.site.conftest import BOTH, PASSWORD, REAL_HASHER, csrf_of, db_args, people, set_password, sign_in

DATABASES = BOTH  # each test once on SQLite, once on PostgreSQL (conftest)


def test_sign_in_link_works_once(held_site):
    app, make_client, _ = held_site
    token = people(app, "alice")["alice"]
    first = make_client()
    response = set_password(first, token)
    assert response.status_code == 303 and response.headers["location"] == "/assignments"
    assert first.get("/assignments").status_code == 200  # signed in
    again = make_client()
    assert again.get(f"/signin/link/{token}").status_code == 410
    # posting with a valid CSRF token of the anonymous session still cannot reuse it
    csrf = csrf_of(again.get("/signin").text)
    r = again.post(f"/signin/link/{token}", data={"csrf": csrf, "password": "another password!", "again": "another password!"})
    assert r.status_code == 410
    assert sign_in(again, "alice", "another password!").status_code == 400
    assert sign_in(again, "alice").status_code == 303


def test_expired_link_is_refused(held_site):
    app, make_client, _ = held_site
    token = people(app, "alice")["alice"]
    with app.state.site.factory.begin() as db:
        db.execute(update(SigninLink).values(expires_at=dt.datetime(2000, 1, 1)))
    client = make_client()
    assert client.get(f"/signin/link/{token}").status_code == 410
    assert client.get("/signin/link/not-a-token").status_code == 410


def test_password_rules(held_site):
    app, make_client, _ = held_site
    token = people(app, "alice")["alice"]
    client = make_client()
    csrf = csrf_of(client.get(f"/signin/link/{token}").text)
    short = client.post(f"/signin/link/{token}", data={"csrf": csrf, "password": "short", "again": "short"})
    assert short.status_code == 400 and "at least" in short.text
    assert client.get(f"/signin/link/{token}").status_code == 200  # a refused password does not use the link up


def test_cookie_signed_with_another_key_is_refused(held_site, tmp_path):
    app, make_client, _ = held_site
    token = people(app, "alice")["alice"]
    client = make_client()
    set_password(client, token)
    assert client.get("/assignments").status_code == 200
    with app.state.site.factory() as db:
        alice = accounts.find_user(db, "alice")
    forged = security.Sessions("another key").dump(security.Session("n0nce", alice.id, alice.session_epoch))
    intruder = make_client()
    intruder.cookies.set(security.SESSION_COOKIE, forged)
    r = intruder.get("/assignments", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin"
    # the right key but a tampered payload
    good = client.cookies.get(security.SESSION_COOKIE)
    intruder.cookies.set(security.SESSION_COOKIE, good[:-2] + ("AA" if not good.endswith("AA") else "BB"))
    assert intruder.get("/assignments", follow_redirects=False).status_code == 303


def test_session_cookie_flags(held_site):
    app, make_client, _ = held_site
    token = people(app, "alice")["alice"]
    response = set_password(make_client(), token)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # http://127.0.0.1 in the settings; https turns it on
    assert security.Sessions("k", secure=True).cookie_args()["secure"] is True


@pytest.mark.parametrize("csrf", [None, "", "0" * 64])
def test_forms_without_the_right_csrf_token_are_refused(held_site, csrf):
    app, make_client, executor = held_site
    token = people(app, "alice")["alice"]
    client = make_client()
    set_password(client, token)
    extra = {} if csrf is None else {"csrf": csrf}
    assert client.post("/account/token", data=extra).status_code == 403
    assert client.post("/signout", data=extra).status_code == 403
    assert client.get("/assignments").status_code == 200  # still signed in
    query = "" if csrf is None else f"?csrf={csrf}"
    r = client.post(f"/assignments/toy/submit{query}", files={"notebook": ("toy.ipynb", b"{}", "application/json")})
    assert r.status_code == 403
    anonymous = make_client()
    anonymous.get("/signin")
    assert anonymous.post("/signin", data={**extra, "login": "alice", "password": PASSWORD}).status_code == 403
    link = people(app, "carol")["carol"]
    assert anonymous.post(f"/signin/link/{link}", data={**extra, "password": PASSWORD, "again": PASSWORD}).status_code == 403
    assert anonymous.get(f"/signin/link/{link}").status_code == 200  # not used up


def test_csrf_token_of_another_session_is_refused(held_site):
    app, make_client, _ = held_site
    tokens = people(app, "alice", "bob")
    alice, bob = make_client(), make_client()
    set_password(alice, tokens["alice"])
    set_password(bob, tokens["bob"])
    bobs = csrf_of(bob.get("/account").text)
    assert alice.post("/account/token", data={"csrf": bobs}).status_code == 403
    assert alice.post("/account/token", data={"csrf": csrf_of(alice.get("/account").text)}).status_code == 200


def test_sign_in_is_rate_limited(held_site):
    app, make_client, _ = held_site
    set_password(make_client(), people(app, "alice")["alice"])
    client = make_client()
    limit = app.state.site.settings.signin_limit
    for _ in range(limit):
        assert sign_in(client, "alice", "wrong password").status_code == 400
    blocked = sign_in(client, "alice")  # the right password, but too many failures just before
    assert blocked.status_code == 429 and "Too many" in blocked.text
    # the limit is per login and per address: another login from the same address is blocked too
    assert sign_in(client, "nobody", "x").status_code == 429


def test_rate_limiter_window(site_settings):
    from autograder.site.models import open_db

    site_settings.data_dir.mkdir(parents=True)
    now = [dt.datetime(2025, 3, 1, 12, 0, 0)]
    limiter = security.RateLimiter(open_db(site_settings.url), limit=2, window_s=10, clock=lambda: now[0])
    limiter.failed(limiter.attempt("a"))
    limiter.failed(limiter.attempt("a"))
    assert limiter.attempt("a") is None  # a third failure is not even tried
    assert limiter.attempt("a", "b") is None  # blocked when any key is past the limit, and nothing counted ...
    ok = limiter.attempt("b")  # ... so b has one attempt so far
    assert ok is not None
    limiter.succeeded(ok, "b")
    now[0] += dt.timedelta(seconds=10.5)
    again = limiter.attempt("a")
    assert again is not None  # the failures left the window
    limiter.succeeded(again, "a")
    limiter.failed(limiter.attempt("a"))
    limiter.failed(limiter.attempt("a"))
    assert limiter.attempt("a") is None


def two_sites(site_settings) -> list:
    """Two site instances (as two processes behind one proxy would be) on one database; no grading loop."""
    from autograder.site.app import create_app
    from tests.site.conftest import HeldExecutor

    return [create_app(site_settings, HeldExecutor()) for _ in range(2)]


def client_of(app):
    from starlette.testclient import TestClient

    return TestClient(app)  # outside a with block: the lifespan (the grading loop) does not run


def test_two_site_processes_share_the_sign_in_limit(site_settings):
    apps = two_sites(site_settings)
    set_password(client_of(apps[0]), people(apps[0], "alice")["alice"])
    limit = site_settings.signin_limit
    for i in range(limit):  # the failures alternate between the two sites
        assert sign_in(client_of(apps[i % 2]), "alice", "wrong password").status_code == 400
    for app in apps:  # neither site lets even the right password in now
        assert sign_in(client_of(app), "alice").status_code == 429


def test_racing_sign_ins_on_two_sites_do_not_pass_the_limit_together(site_settings):
    import concurrent.futures

    apps = two_sites(site_settings)
    set_password(client_of(apps[0]), people(apps[0], "alice")["alice"])
    limit = site_settings.signin_limit
    tries = 4 * limit
    clients = [client_of(apps[i % 2]) for i in range(tries)]
    with concurrent.futures.ThreadPoolExecutor(tries) as pool:
        codes = list(pool.map(lambda c: sign_in(c, "alice", "wrong password").status_code, clients))
    assert set(codes) <= {400, 429} and 429 in codes
    # racing attempts may refuse each other (never the other way): one after another, the rest of the
    # limit is used up, and no more; then not even the right password gets in, on either site
    checked = codes.count(400)
    for i in range(limit):
        code = sign_in(client_of(apps[i % 2]), "alice", "wrong password").status_code
        checked += code == 400
    assert checked == limit
    for app in apps:
        assert sign_in(client_of(app), "alice").status_code == 429


def test_removed_student_token_and_session_stop_working(held_site, capsys):
    app, make_client, _ = held_site
    client = make_client()
    set_password(client, people(app, "alice")["alice"])
    page = client.post("/account/token", data={"csrf": csrf_of(client.get("/account").text)})
    api_token = page.text.split('<pre id="token">')[1].split("<")[0]
    headers = {"Authorization": f"Bearer {api_token}"}
    assert client.get("/api/submissions/1", headers=headers).status_code == 404  # a valid token, no such submission
    assert client.get("/api/submissions/1", headers={"Authorization": "Bearer nope"}).status_code == 401
    site = app.state.site
    assert cli.main(["roster", "remove", "alice", *db_args(site.settings)]) == 0
    assert client.get("/api/submissions/1", headers=headers).status_code == 401
    assert client.get("/assignments", follow_redirects=False).status_code == 303
    assert sign_in(make_client(), "alice").status_code == 400


def test_new_token_replaces_the_old_one(held_site):
    app, make_client, _ = held_site
    client = make_client()
    set_password(client, people(app, "alice")["alice"])

    def new() -> str:
        page = client.post("/account/token", data={"csrf": csrf_of(client.get("/account").text)})
        return page.text.split('<pre id="token">')[1].split("<")[0]

    old, current = new(), new()
    assert client.get("/api/submissions/1", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.get("/api/submissions/1", headers={"Authorization": f"Bearer {current}"}).status_code == 404
    with app.state.site.factory() as db:
        stored = accounts.find_user(db, "alice").token_hash
    assert stored == security.token_digest(current) and current not in stored


def test_roster_import_cli_prints_links_and_refuses_bad_rows(tmp_path, capsys, db_url):
    data = tmp_path / "site"
    where = ["--data-dir", str(data)] + (["--db-url", db_url] if db_url else [])
    roster = tmp_path / "students.csv"
    roster.write_text("id,name,email\nalice,Alice A,alice@example.org\nbob,Bob B,bob@example.org\n")
    out = tmp_path / "links.csv"
    assert cli.main(["roster", "import", str(roster), *where, "--base-url", "https://course.example", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 students (2 new, 0 updated)" in printed
    assert printed.count("https://course.example/signin/link/") == 2
    assert out.read_text().count("https://course.example/signin/link/") == 2 and out.stat().st_mode & 0o077 == 0
    # again: the accounts are updated, not doubled; everyone gets a fresh link
    assert cli.main(["roster", "import", str(roster), *where]) == 0
    assert "2 students (0 new, 2 updated)" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,email\ncarol,C,c@x\nalice/../x,Evil,e@x\ncarol,C2,c2@x\n")
    assert cli.main(["roster", "import", str(bad), *where]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "line 4" in err and "nothing was imported" in err
    assert cli.main(["roster", "import", str(tmp_path / "missing.csv"), *where]) == 2
    from autograder.site.models import open_db

    with open_db(db_url or f"sqlite:///{data / 'site.db'}")() as db:
        assert sorted(u.login for u in db.query(User)) == ["alice", "bob"]


def test_instructor_add_cli(tmp_path, capsys, db_url):
    data = tmp_path / "site"
    where = ["--data-dir", str(data)] + (["--db-url", db_url] if db_url else [])
    assert cli.main(["instructor", "add", "prof", "--name", "Prof", *where]) == 0
    assert "http://127.0.0.1:8000/signin/link/" in capsys.readouterr().out
    assert cli.main(["instructor", "list", *where]) == 0
    assert "prof\tProf" in capsys.readouterr().out
    roster = tmp_path / "students.csv"
    roster.write_text("id,name,email\nprof,P,p@x\n")
    assert cli.main(["roster", "import", str(roster), *where]) == 2  # an import never demotes an instructor
    assert "instructor account" in capsys.readouterr().err


def test_passwords_are_hashed_with_argon2id_at_the_librarys_default_cost(monkeypatch):
    monkeypatch.setattr(security, "_hasher", REAL_HASHER)
    monkeypatch.setattr(security, "_DUMMY_HASH", None)
    defaults = argon2.PasswordHasher()
    stored = security.hash_password("correct horse")
    cost = f"$argon2id$v=19$m={defaults.memory_cost},t={defaults.time_cost},p={defaults.parallelism}$"
    assert stored.startswith(cost) and defaults.memory_cost >= 65536 and defaults.time_cost >= 3
    assert security.verify_password(stored, "correct horse") and not security.verify_password(stored, "wrong horse")
    # an unknown login costs what a wrong password does: the dummy hash has the same parameters
    security.burn_time("a guess")
    assert security._DUMMY_HASH.startswith(cost)
