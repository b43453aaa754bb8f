"""Uploads: bad files get a clear message and leave nothing behind; the same file twice is one submission;
a good one is on disk and in the database before the answer."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from autograder import course
from autograder.site.models import Submission
from autograder.site.storage import blob_path
from tests import toy_course
from tests.site.conftest import BOTH, csrf_of, notebook_bytes, people, set_password, upload, wait_for

DATABASES = BOTH  # each test once on SQLite, once on PostgreSQL (conftest)


@pytest.fixture
def alice(held_site):
    app, make_client, executor = held_site
    client = make_client()
    set_password(client, people(app, "alice")["alice"])
    return app, client, executor


def stored(app) -> tuple[int, list]:
    site = app.state.site
    with site.factory() as db:
        count = db.scalar(select(func.count(Submission.id)))
    blobs = [p for p in site.settings.blobs.rglob("*") if p.is_file()] if site.settings.blobs.exists() else []
    return count, blobs


def solved_bytes(app) -> bytes:
    return notebook_bytes(toy_course.solved(app.state.site.offered["toy"].spec.folder))


TF_BASICS = course.RELEASE_DIR / "tf_basics" / "tf_basics.ipynb"

BAD = {
    "empty": (b"", "The file is empty"),
    "blank": (b"  \n\t ", "The file is empty"),
    "pdf": (b"%PDF-1.7\n...", "it looks like a PDF document"),
    "html": (b"<!DOCTYPE html><html></html>", "an HTML page"),
    "invalid_json": (b'{"cells": [', "not valid JSON"),
    "json_not_notebook": (b'{"hello": "world"}', "not a Jupyter notebook"),
    "binary": (bytes(range(256)) * 4, "This is not a notebook"),
    "blank_cells": (
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
        "This is not a notebook of toy: none of its graded cells are there",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_uploads_get_a_message_and_store_nothing(alice, case):
    app, client, executor = alice
    data, message = BAD[case]
    r = upload(client, "toy", data, filename=f"{case}.ipynb")
    assert r.status_code == 400, r.text
    assert message in r.text
    assert stored(app) == (0, [])
    assert executor.submitted == []
    # the pages a student opens next still work
    assert client.get("/assignments/toy").status_code == 200
    assert client.get("/assignments").status_code == 200


def test_another_assignments_notebook_is_refused(alice):
    app, client, _ = alice
    r = upload(client, "toy", TF_BASICS.read_bytes(), filename="tf_basics.ipynb")
    assert r.status_code == 400
    assert "This is not a notebook of toy" in r.text and "Submit the toy.ipynb you downloaded" in r.text
    assert stored(app) == (0, [])


def test_over_size_upload_is_refused_while_reading(alice):
    app, client, _ = alice
    big = b'{"cells": [' + b" " * (60 * 2**20) + b"]}"  # 60 MiB; the fixture's limit is 2 MiB
    r = upload(client, "toy", big)
    assert r.status_code == 413 and "larger than the limit of 2 MiB" in r.text
    assert stored(app) == (0, [])


def test_over_size_without_content_length_is_cut_while_reading(alice):
    """A chunked body (no Content-Length) is counted as it arrives."""
    app, client, _ = alice
    csrf = csrf_of(client.get("/assignments/toy").text)
    boundary = "xyz"

    def body():
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="notebook"; filename="a.ipynb"\r\n\r\n'.encode()
        for _ in range(40):
            yield b" " * 2**20
        yield f"\r\n--{boundary}--\r\n".encode()

    r = client.post(
        f"/assignments/toy/submit?csrf={csrf}", content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert r.status_code == 413
    assert stored(app) == (0, [])


def test_no_file_chosen(alice):
    app, client, _ = alice
    csrf = csrf_of(client.get("/assignments/toy").text)
    r = client.post(f"/assignments/toy/submit?csrf={csrf}", data={"other": "x"})
    assert r.status_code == 400 and "No file was chosen" in r.text


def test_unknown_assignment(alice):
    app, client, _ = alice
    csrf = csrf_of(client.get("/assignments/toy").text)
    r = client.post(f"/assignments/nope/submit?csrf={csrf}", files={"notebook": ("a.ipynb", solved_bytes(app))})
    assert r.status_code == 404
    assert stored(app) == (0, [])


def test_good_upload_is_stored_before_the_answer_and_once(alice):
    app, client, executor = alice
    data = solved_bytes(app)
    first = upload(client, "toy", data, filename="../../etc/my toy.ipynb")
    assert first.status_code == 303
    sid = int(first.headers["location"].rsplit("/", 1)[-1])
    site = app.state.site
    with site.factory() as db:
        sub = db.get(Submission, sid)
    assert blob_path(site.settings.blobs, sub.sha256).read_bytes() == data
    assert sub.filename == "my toy.ipynb"  # the name only, never a path
    again = upload(client, "toy", data, filename="renamed.ipynb")
    assert again.headers["location"] == f"/submissions/{sid}?again=1"
    assert "already submitted this very file" in client.get(again.headers["location"]).text
    assert stored(app)[0] == 1 and len(stored(app)[1]) == 1
    wait_for(lambda: len(executor.submitted) == 1)
    # another student's same file is their own submission (same blob on disk)
    tokens = people(app, "bob")
    from starlette.testclient import TestClient

    with TestClient(app) as other:
        set_password(other, tokens["bob"])
        assert upload(other, "toy", data).status_code == 303
    count, blobs = stored(app)
    assert count == 2 and len(blobs) == 1


def test_api_upload_edge_cases(alice):
    app, client, executor = alice
    page = client.post("/account/token", data={"csrf": csrf_of(client.get("/account").text)})
    token = page.text.split('<pre id="token">')[1].split("<")[0]
    headers = {"Authorization": f"Bearer {token}", "X-Filename": "toy.ipynb"}
    for data, status, message in [
        (b"", 400, "empty"),
        (b"%PDF-1.4", 400, "PDF"),
        (b'{"cells": [', 400, "not valid JSON"),
        (TF_BASICS.read_bytes(), 400, "not a notebook of toy"),
        (b" " * (3 * 2**20), 413, "larger than the limit"),
    ]:
        r = client.post("/api/assignments/toy/submissions", content=data, headers=headers)
        assert r.status_code == status and message in r.json()["error"], (status, r.text)
    assert client.post("/api/assignments/toy/submissions", content=b"{}", headers={"X-Filename": "a"}).status_code == 401
    assert client.post("/api/assignments/none/submissions", content=b"{}", headers=headers).status_code == 404
    assert stored(app) == (0, [])
    good = client.post("/api/assignments/toy/submissions", content=solved_bytes(app), headers=headers)
    assert good.status_code == 201 and good.json()["new"] is True
    again = client.post("/api/assignments/toy/submissions", content=solved_bytes(app), headers=headers)
    assert again.status_code == 200 and again.json()["id"] == good.json()["id"] and again.json()["new"] is False
    status = client.get(f"/api/submissions/{good.json()['id']}", headers=headers).json()
    assert status["state"] in ("queued", "running")


def test_a_submission_id_that_is_no_row_is_not_found_in_every_form(alice):
    app, client, _ = alice
    page = client.post("/account/token", data={"csrf": csrf_of(client.get("/account").text)})
    token = page.text.split('<pre id="token">')[1].split("<")[0]
    good = upload(client, "toy", solved_bytes(app))
    sid = good.headers["location"].rsplit("/", 1)[-1]
    assert client.get(f"/submissions/{sid}").status_code == 200
    # past SQLite's and PostgreSQL's integers, negative, zero, not a number
    for bad in ("9" * 30, str(2**63), "-1", "0", "1e3", "x"):
        assert client.get(f"/submissions/{bad}").status_code == 404, bad
        assert client.get(f"/submissions/{bad}/feedback").status_code == 404, bad
        r = client.get(f"/api/submissions/{bad}", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 404 and r.json()["error"] == "no such submission of yours", bad
