"""The download path, without the internet: a zip in the upstream layout served on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import os
import tempfile
import threading
import zipfile

import h5py
import numpy as np
import pytest

from autograder import cli, course
from autograder.data import signs

TOP = f"Sign-Language-Digits-Dataset-{course.UPSTREAM_COMMIT}"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve ``tmp_path/www`` on a free loopback port; yields (folder, base URL)."""
    # A proxy set in the environment must not carry loopback requests away from this machine.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def make_archive(path, dataset_dir, classes, change=lambda c, name: False):
    """A zip like GitHub's: TOP/Dataset/<c>/*.JPG, plus a README and a class the build must ignore."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{TOP}/README.md", "Sign Language Digits Dataset\n")
        zf.writestr(f"{TOP}/Dataset/9/IMG_9999.JPG", b"a class the SIGNS build does not use")
        for c in classes:
            zf.writestr(f"{TOP}/Dataset/{c}/", b"")  # GitHub's archives list folders too
            for photo in sorted((dataset_dir / str(c)).iterdir()):
                data = photo.read_bytes()
                if change(c, photo.name):
                    data += b"\0"
                zf.writestr(f"{TOP}/Dataset/{c}/{photo.name}", data)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Point tempfile at a fresh folder, so a test can see that the download folder is removed."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_download_builds_the_same_arrays_as_a_local_copy(tmp_path, server, small_source, small_spec, small_manifest, private_tmp):
    root, base = server
    make_archive(root / "signs.zip", small_source / "Dataset", small_spec.classes)
    said = []
    signs.build(tmp_path / "dl", url=f"{base}/signs.zip", spec=small_spec, manifest=small_manifest, progress=False, log=said.append)
    assert f"{base}/signs.zip" in said[0] and "Wrote" in said[-1]
    signs.build(tmp_path / "local", source=small_source, spec=small_spec, manifest=small_manifest, progress=False, log=lambda *_: None)
    for name in ("train_signs.h5", "test_signs.h5"):
        with h5py.File(tmp_path / "dl" / name, "r") as a, h5py.File(tmp_path / "local" / name, "r") as b:
            assert set(a) == set(b)
            for key in a:
                assert np.array_equal(a[key][()], b[key][()]) and a[key].dtype == b[key].dtype
    assert os.listdir(private_tmp) == []  # the downloaded archive and unpacked photos are gone


def test_changed_image_in_archive_is_a_checksum_mismatch(
    tmp_path, server, small_source, small_spec, small_manifest, private_tmp, leftovers
):
    root, base = server
    # Change every photo of class 2 so one the build chooses is certainly changed.
    make_archive(root / "changed.zip", small_source / "Dataset", small_spec.classes, change=lambda c, _: c == 2)
    out = tmp_path / "out"
    with pytest.raises(signs.DataError, match=r"checksum mismatch for .*Dataset/2/IMG_\w+\.JPG"):
        signs.build(out, url=f"{base}/changed.zip", spec=small_spec, manifest=small_manifest, progress=False, log=lambda *_: None)
    assert leftovers(out) == []
    assert os.listdir(private_tmp) == []


def test_one_changed_photo_is_named(tmp_path, server, small_source, small_spec, small_manifest):
    root, base = server
    train, test = signs.select(signs.list_images(small_source / "Dataset", small_spec.classes), small_spec)
    chosen = test[0][0]  # "<class>/<file>", certainly used by the build
    make_archive(root / "one.zip", small_source / "Dataset", small_spec.classes, change=lambda c, name: f"{c}/{name}" == chosen)
    with pytest.raises(signs.DataError) as info:
        signs.build(tmp_path / "out", url=f"{base}/one.zip", spec=small_spec, manifest=small_manifest, progress=False, log=lambda *_: None)
    assert str(info.value).startswith("checksum mismatch for ") and chosen in str(info.value)


def test_404_names_the_url_and_reason(tmp_path, server, small_spec, small_manifest, leftovers, private_tmp):
    _, base = server
    url = f"{base}/missing.zip"
    out = tmp_path / "out"
    with pytest.raises(signs.DataError) as info:
        signs.build(out, url=url, spec=small_spec, manifest=small_manifest, progress=False, log=lambda *_: None)
    assert str(info.value) == f"download of {url} failed: HTTP 404 File not found"
    assert leftovers(out) == []
    assert os.listdir(private_tmp) == []


def test_404_through_the_cli(tmp_path, server, monkeypatch, capsys, leftovers):
    _, base = server
    monkeypatch.delenv("SIGNS_SOURCE", raising=False)  # no local copy: the CLI must download
    out = tmp_path / "out"
    assert cli.main(["data", "build", "--url", f"{base}/gone.zip", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert f"downloading {base}/gone.zip" in captured.out
    err = captured.err.strip()
    assert err.endswith(f"error: download of {base}/gone.zip failed: HTTP 404 File not found")
    assert "Traceback" not in err
    assert leftovers(out) == []


def test_unreachable_server(tmp_path, small_spec, small_manifest):
    # A port nobody listens on: taken from a socket that is closed again.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/signs.zip"
    with pytest.raises(signs.DataError, match=rf"download of {url} failed: .*[Rr]efused"):
        signs.build(tmp_path / "out", url=url, spec=small_spec, manifest=small_manifest, progress=False, log=lambda *_: None)


def test_not_a_zip(tmp_path, server, small_spec, small_manifest, leftovers):
    root, base = server
    (root / "page.zip").write_text("<html>rate limited</html>")
    with pytest.raises(signs.DataError, match=r"not a usable zip archive"):
        signs.build(tmp_path / "out", url=f"{base}/page.zip", spec=small_spec, manifest=small_manifest, progress=False, log=lambda *_: None)
    assert leftovers(tmp_path / "out") == []


def test_archive_without_the_classes(tmp_path, server, small_spec, small_manifest):
    root, base = server
    with zipfile.ZipFile(root / "other.zip", "w") as zf:
        zf.writestr(f"{TOP}/README.md", "nothing here")
    with pytest.raises(signs.DataError, match=r"holds no images under Dataset/\{0,1,2\}/"):
        signs.build(
            tmp_path / "out", url=f"{base}/other.zip", spec=small_spec, manifest=small_manifest, progress=False, log=lambda *_: None
        )


def test_member_names_cannot_escape_the_temp_folder(tmp_path, small_spec):
    from autograder.data import download

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x/Dataset/0/../../../../escaped.JPG", b"no")
        zf.writestr("x/Dataset/1/ok.JPG", b"yes")
    dataset = download.extract_dataset(archive, tmp_path / "unpacked", small_spec.classes)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "evil.zip",
        "unpacked/Dataset/1/ok.JPG",
    ]
    assert dataset == tmp_path / "unpacked" / "Dataset"


def test_connection_cut_mid_download(tmp_path, monkeypatch, small_spec, small_manifest, leftovers):
    # A server that promises more bytes than it sends, then hangs up.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")

    class Truncating(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"PK" + b"\0" * 1000)
            self.close_connection = True

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Truncating)
    thread = threading.Thread(target=httpd.handle_request, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/signs.zip"
    try:
        with pytest.raises(signs.DataError, match=rf"download of {url} failed: .*(1002|IncompleteRead|incomplete)"):
            signs.build(tmp_path / "out", url=url, spec=small_spec, manifest=small_manifest, progress=False, log=lambda *_: None)
    finally:
        thread.join(timeout=5)
        httpd.server_close()
    assert leftovers(tmp_path / "out") == []
