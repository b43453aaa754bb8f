"""Accounts: the roster import, instructors, one-time sign-in links and API tokens.

A student account is created without a password; the instructor hands out its sign-in link, through which
the student sets one. A link works once and expires; only its SHA-256 is stored, so the database alone
cannot sign anyone in.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from autograder.errors import UsageError
from autograder.site import security
from autograder.site.models import INSTRUCTOR, STUDENT, SigninLink, User, utcnow

LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
DEFAULT_LINK_DAYS = 7.0
MIN_PASSWORD = 10


class RosterError(UsageError):
    """The roster file cannot be imported as it is (nothing was written)."""


@dataclasses.dataclass(frozen=True)
class Person:
    login: str
    name: str
    email: str


def read_roster(path: Path) -> list[Person]:
    """The rows of a roster CSV with the columns id, name, email (header required); errors name the line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"cannot read the roster {path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if not {"id", "name", "email"} <= set(fields):
        raise RosterError(f"{path}: the first line must name the columns id,name,email (found: {','.join(fields) or 'nothing'})")
    people, seen, problems = [], set(), []
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
        login = row.get("id", "")
        if not login and not any(row.values()):
            continue  # a blank line
        if not LOGIN_RE.match(login):
            problems.append(f"line {line}: id {login!r} must be letters, digits and . _ @ - (at most 100)")
            continue
        if login.lower() in seen:
            problems.append(f"line {line}: id {login!r} appears twice")
            continue
        seen.add(login.lower())
        people.append(Person(login, row.get("name", "")[:200], row.get("email", "")[:320]))
    if problems:
        raise RosterError(f"{path}: nothing was imported:\n  " + "\n  ".join(problems[:20]))
    return people


def find_user(db: Session, login: str) -> User | None:
    return db.scalar(select(User).where(User.login == login))


def make_link(db: Session, user: User, days: float = DEFAULT_LINK_DAYS) -> str:
    """A new one-time sign-in token for ``user`` (the caller commits); earlier unused links stay valid."""
    token = security.new_token()
    db.add(SigninLink(token_hash=security.token_digest(token), user_id=user.id, expires_at=utcnow() + dt.timedelta(days=days)))
    return token


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/signin/link/{token}"


def import_roster(factory: sessionmaker, people: list[Person], days: float = DEFAULT_LINK_DAYS) -> list[tuple[Person, str, bool]]:
    """Create the students that do not exist yet and give every listed student a new sign-in link.

    Returns (person, token, created). An existing account keeps its password and submissions; its name and
    email are updated. An instructor's login in the roster is refused (roles never change by import).
    """
    out = []
    with factory.begin() as db:
        for person in people:
            user = find_user(db, person.login)
            created = user is None
            if user is None:
                user = User(login=person.login, name=person.name, email=person.email, role=STUDENT)
                db.add(user)
                db.flush()
            elif user.role != STUDENT:
                raise RosterError(f"{person.login} is an instructor account, not a student; nothing was imported")
            else:
                user.name, user.email, user.active = person.name, person.email, True
            out.append((person, make_link(db, user, days), created))
    return out


def add_instructor(factory: sessionmaker, login: str, name: str = "", email: str = "", days: float = DEFAULT_LINK_DAYS) -> str:
    """Create (or promote) an instructor account and return a sign-in token for it."""
    if not LOGIN_RE.match(login):
        raise UsageError(f"login {login!r} must be letters, digits and . _ @ - (at most 100)")
    with factory.begin() as db:
        user = find_user(db, login)
        if user is None:
            user = User(login=login, name=name, email=email, role=INSTRUCTOR)
            db.add(user)
            db.flush()
        else:
            user.role, user.active = INSTRUCTOR, True
            user.name, user.email = name or user.name, email or user.email
            user.session_epoch += 1  # sessions opened under the old role end
        return make_link(db, user, days)


def instructors(factory: sessionmaker) -> list[tuple[str, str, bool]]:
    with factory() as db:
        return [(u.login, u.name, u.active) for u in db.scalars(select(User).where(User.role == INSTRUCTOR).order_by(User.login))]


def new_link(factory: sessionmaker, login: str, days: float = DEFAULT_LINK_DAYS) -> str:
    with factory.begin() as db:
        user = find_user(db, login)
        if user is None:
            raise UsageError(f"no account {login!r}")
        return make_link(db, user, days)


def remove_user(factory: sessionmaker, login: str) -> None:
    """Deactivate an account: its sessions, links and API token stop working; its submissions stay."""
    with factory.begin() as db:
        user = find_user(db, login)
        if user is None:
            raise UsageError(f"no account {login!r}")
        user.active = False
        user.token_hash = None
        user.session_epoch += 1


def valid_link(db: Session, token: str) -> SigninLink | None:
    """The unused, unexpired link of ``token`` whose account is active, else None."""
    link = db.get(SigninLink, security.token_digest(token))
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    user = db.get(User, link.user_id)
    return link if user is not None and user.active else None


def use_link(db: Session, token: str, password: str) -> User | None:
    """Set the password through a link, which is then used up; None when the link is not (or no longer) valid.

    The link is marked used by a conditional UPDATE, so two requests racing with one link cannot both win.
    """
    link = valid_link(db, token)
    if link is None:
        return None
    won = db.execute(
        update(SigninLink).where(SigninLink.token_hash == link.token_hash, SigninLink.used_at.is_(None)).values(used_at=utcnow())
    ).rowcount
    if won != 1:
        return None
    user = db.get(User, link.user_id)
    user.password_hash = security.hash_password(password)
    user.session_epoch += 1  # whoever held a session of this account before is signed out
    return user


def password_problem(password: str, again: str) -> str | None:
    if password != again:
        return "The two passwords differ."
    if len(password) < MIN_PASSWORD:
        return f"Choose a password of at least {MIN_PASSWORD} characters."
    if len(password) > 1000:
        return "That password is too long."
    return None


def new_api_token(db: Session, user: User) -> str:
    """A new API token for ``user`` (the previous one stops working); shown once, stored as its SHA-256."""
    token = security.new_token()
    user.token_hash = security.token_digest(token)
    return token


def user_of_token(db: Session, token: str) -> User | None:
    if not token:
        return None
    user = db.scalar(select(User).where(User.token_hash == security.token_digest(token)))
    return user if user is not None and user.active else None
