"""The demo course of ``autograder serve --demo`` (``make serve``): the demo students of ``demo/<assignment>/``
get accounts, their notebooks are stored as submissions (graded by the server as it starts), and an
instructor account is made. Running it again changes nothing but the printed links (files are
content-addressed, accounts are updated in place)."""

from __future__ import annotations

from pathlib import Path

from autograder import course
from autograder.site import accounts, storage
from autograder.site.catalog import Offered

DEMO_DIR = course.ROOT / "demo"
INSTRUCTOR_LOGIN = "instructor"


def load_demo(factory, blobs: Path, offered: dict[str, Offered], base_url: str, demo_dir: Path = DEMO_DIR) -> list[str]:
    """Create the demo accounts and submissions; return the lines to print (sign-in links)."""
    files = sorted(
        (folder.name, path) for folder in sorted(demo_dir.iterdir()) if folder.name in offered for path in sorted(folder.glob("*.ipynb"))
    )
    logins = sorted({path.stem for _, path in files})
    made = accounts.import_roster(factory, [accounts.Person(x, x.title(), f"{x}@example.org") for x in logins])
    users = {}
    with factory() as db:
        for login in logins:
            users[login] = accounts.find_user(db, login).id
    stored = refused = 0
    for assignment, path in files:
        try:
            storage.store(factory, blobs, users[path.stem], offered[assignment], path.name, path.read_bytes(), others=offered)
            stored += 1
        except storage.UploadRefused:
            refused += 1
    instructor = accounts.add_instructor(factory, INSTRUCTOR_LOGIN, "Demo instructor")
    lines = [
        f"demo course: {len(logins)} students, {stored} demo submissions (graded as the server starts)"
        + (f", {refused} refused" if refused else "")
    ]
    lines.append(f"  instructor sign-in: {accounts.link_url(base_url, instructor)}")
    for person, token, _ in made:
        lines.append(f"  student {person.login}: {accounts.link_url(base_url, token)}")
    return lines
