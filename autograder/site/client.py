"""``autograder submit``: send a notebook to the course site from a terminal or a Jupyter cell.

Standard library only (urllib), so it works wherever the package is installed. The site's address and
the student's token come from the flags, else $AUTOGRADER_URL / $AUTOGRADER_TOKEN, else
``~/.config/autograder/site.toml`` (``url = "..."``, ``token = "..."``).
"""

from __future__ import annotations

import json
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from autograder import config
from autograder.errors import AutograderError, UsageError

CONFIG_FILE = Path.home() / ".config" / "autograder" / "site.toml"


class SubmitRefused(AutograderError):
    """The site refused the submission (its message says why)."""

    exit_code = 1


def _from_file() -> dict:
    try:
        return tomllib.loads(CONFIG_FILE.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _request(url: str, token: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        return exc.code, body if isinstance(body, dict) else {}
    except (urllib.error.URLError, OSError) as exc:
        raise UsageError(f"cannot reach the site at {url}: {getattr(exc, 'reason', exc)}") from None


def submit(path: Path, assignment: str, url: str, token: str) -> dict:
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    target = f"{url.rstrip('/')}/api/assignments/{urllib.parse.quote(assignment, safe='')}/submissions"
    status, body = _request(
        target, token, path.read_bytes(), {"Content-Type": "application/x-ipynb+json", "X-Filename": urllib.parse.quote(path.name)}
    )
    if status not in (200, 201):
        raise SubmitRefused(f"the site refused the submission ({status}): {body.get('error') or 'no reason given'}")
    return body


def status(url: str, token: str, sid: int) -> dict:
    code, body = _request(f"{url.rstrip('/')}/api/submissions/{sid}", token)
    if code != 200:
        raise SubmitRefused(f"cannot read submission {sid} ({code}): {body.get('error') or ''}")
    return body


def run(cmd: config.Submit) -> int:
    saved = _from_file()
    url = cmd.url or saved.get("url")
    token = cmd.token or saved.get("token")
    if not url or not token:
        raise UsageError(f"give --url and --token (or set AUTOGRADER_URL and AUTOGRADER_TOKEN, or write them in {CONFIG_FILE})")
    body = submit(cmd.notebook, cmd.assignment, str(url), str(token))
    again = "" if body.get("new") else " (you had already submitted this very file: it is graded once)"
    print(f"submitted {cmd.notebook.name} to {body['assignment']} as submission {body['id']}{again}\n  status and feedback: {body['url']}")
    if not cmd.wait:
        return 0
    deadline = time.monotonic() + cmd.timeout
    while time.monotonic() < deadline:
        info = status(str(url), str(token), int(body["id"]))
        if info.get("state") == "graded":
            print(f"graded: {info['score']:g} / {info['max_score']:g} ({info['status']})")
            return 0
        time.sleep(1.0)
    print(f"not graded within {cmd.timeout:g} s; see {body['url']}")
    return 1
