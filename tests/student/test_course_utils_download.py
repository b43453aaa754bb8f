"""load_dataset without local files: the download from the course's book, served here on 127.0.0.1.

Each test builds a student's bundle as release leaves it (a copy of course_utils.py with a course_data.json
beside it) and loads the module from there, as a notebook in that folder would.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import importlib.util
import json
import socket
import threading
import uuid

import pytest

from autograder import course
from tests.student.test_course_utils import assert_loaded, write_signs

NAMES = ("train_signs.h5", "test_signs.h5")


class Handler(http.server.BaseHTTPRequestHandler):
    """GET /data/<name>: the bytes in ``files`` (404 for others); every path asked for is noted."""

    def __init__(self, *args, files, asked, **kwargs):
        self.files, self.asked = files, asked
        super().__init__(*args, **kwargs)

    def do_GET(self):
        self.asked.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def book(tmp_path, monkeypatch):
    """A loopback server publishing real SIGNS-format files under /data/; yields an object with
    ``base`` (URL of data/), ``files`` (path -> bytes, editable), ``asked`` (paths requested), ``arrays``."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    arrays = write_signs(tmp_path / "published")
    files = {f"/data/{n}": (tmp_path / "published" / n).read_bytes() for n in NAMES}
    asked: list[str] = []
    handler = functools.partial(Handler, files=files, asked=asked)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    class Book:
        pass

    b = Book()
    b.base, b.files, b.asked, b.arrays = f"http://127.0.0.1:{httpd.server_address[1]}/data/", files, asked, arrays
    try:
        yield b
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def student(tmp_path, monkeypatch):
    """A student's machine: no COURSE_DATA_DIR, an empty working folder, a cache folder of its own."""
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path / "cache" / "course-signs"


def digests(files):
    return {p.rsplit("/", 1)[1]: {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)} for p, b in files.items()}


def bundle(folder, base_url, files):
    """course_utils.py and course_data.json in ``folder``; returns the module loaded from there."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course_utils.py").write_bytes((course.STUDENT_HELPERS / "course_utils.py").read_bytes())
    (folder / "course_data.json").write_text(json.dumps({"base_url": base_url, "files": files}))
    spec = importlib.util.spec_from_file_location(f"course_utils_{uuid.uuid4().hex}", folder / "course_utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_downloads_into_the_cache_once_and_loads(book, student, tmp_path, capsys):
    cu = bundle(tmp_path / "bundle", book.base, digests(book.files))
    assert_loaded(cu.load_dataset(), book.arrays)
    assert sorted(book.asked) == ["/data/test_signs.h5", "/data/train_signs.h5"]
    assert sorted(p.name for p in student.iterdir()) == sorted(NAMES)  # no temporary file left
    assert f"{book.base}train_signs.h5" in capsys.readouterr().out  # the student sees what is downloaded
    # The next load (any assignment's bundle) uses the checked cache.
    other = bundle(tmp_path / "other_bundle", book.base, digests(book.files))
    assert_loaded(other.load_dataset(), book.arrays)
    assert len(book.asked) == 2


def test_local_files_win_over_the_download(book, student, tmp_path):
    cu = bundle(tmp_path / "bundle", book.base, digests(book.files))
    local = write_signs(tmp_path / "work" / "datasets", seed=7)
    assert_loaded(cu.load_dataset(), local)
    assert book.asked == []


def test_a_corrupted_download_is_refused_and_nothing_is_kept(book, student, tmp_path):
    cu = bundle(tmp_path / "bundle", book.base, digests(book.files))
    good = book.files["/data/train_signs.h5"]
    book.files["/data/train_signs.h5"] = good[:-1] + bytes([good[-1] ^ 1])  # same size, one bit off
    with pytest.raises(cu.DataDownloadError) as info:
        cu.load_dataset()
    message = str(info.value)
    assert f"{book.base}train_signs.h5" in message and "not the course's train_signs.h5" in message
    assert "train_signs.h5" not in [p.name for p in student.iterdir()]
    assert [p.name for p in student.iterdir() if p.name.startswith(".")] == []
    # A server sending more than the file's size is refused too.
    book.files["/data/train_signs.h5"] = good + b"x" * (3 << 20)
    with pytest.raises(cu.DataDownloadError, match="not the course's train_signs.h5"):
        cu.load_dataset()
    assert "train_signs.h5" not in [p.name for p in student.iterdir()]


def test_a_damaged_cached_file_is_downloaded_again(book, student, tmp_path):
    cu = bundle(tmp_path / "bundle", book.base, digests(book.files))
    cu.load_dataset()
    (student / "test_signs.h5").write_bytes(b"half a file")
    assert_loaded(cu.load_dataset(), book.arrays)
    assert book.asked.count("/data/test_signs.h5") == 2 and book.asked.count("/data/train_signs.h5") == 1


def test_offline_says_which_url_failed_and_how_to_place_the_files(student, tmp_path):
    with socket.socket() as s:  # a port nothing listens on: the connection is refused, as when offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}/data/"
    cu = bundle(tmp_path / "bundle", base, {n: {"sha256": "0" * 64, "bytes": 10} for n in NAMES})
    with pytest.raises(cu.DataDownloadError) as info:
        cu.load_dataset()
    message = str(info.value)
    assert f"downloading {base}train_signs.h5 failed" in message
    assert f"by hand from {base}" in message and str(student) in message and "COURSE_DATA_DIR" in message
    assert list(student.iterdir()) == []


def test_a_missing_file_on_the_server_is_an_http_error(book, student, tmp_path):
    cu = bundle(tmp_path / "bundle", book.base, digests(book.files))
    del book.files["/data/test_signs.h5"]
    with pytest.raises(cu.DataDownloadError, match=r"test_signs.h5 failed: HTTP 404"):
        cu.load_dataset()
    assert "test_signs.h5" not in [p.name for p in student.iterdir()]


def test_no_address_offers_no_download(book, student, tmp_path):
    cu = bundle(tmp_path / "bundle", None, digests(book.files))
    with pytest.raises(FileNotFoundError) as info:
        cu.load_dataset()
    assert "folder named datasets beside the notebook" in str(info.value) and "repository" not in str(info.value)
    assert book.asked == [] and not student.exists()


def test_an_explicit_data_folder_never_downloads(book, student, tmp_path, monkeypatch):
    # The grader names its read-only data folder with COURSE_DATA_DIR: a graded run must not go online, even
    # with a course_data.json that offers a download beside the helper.
    cu = bundle(tmp_path / "bundle", book.base, digests(book.files))
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="COURSE_DATA_DIR="):
        cu.load_dataset()
    monkeypatch.delenv("COURSE_DATA_DIR")
    with pytest.raises(FileNotFoundError, match="the data_dir given"):
        cu.load_dataset(tmp_path / "empty")
    assert book.asked == []
