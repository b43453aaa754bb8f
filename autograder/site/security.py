"""Passwords, sessions, CSRF tokens, sign-in rate limits and secrets of the course site.

* Passwords: argon2id (argon2-cffi's defaults).
* Sessions: a cookie signed with the site's secret key (itsdangerous), HttpOnly, SameSite=Lax (Secure when
  the site is served over https), carrying the user id, the user's ``session_epoch`` (raised to end every
  session of the user) and a random nonce. Every visitor, signed in or not, has one, so the sign-in forms
  are protected against CSRF too.
* CSRF: every form carries ``HMAC(secret, nonce)``; a POST without it, or with another session's, is refused.
* Sign-in links and API tokens are random; only their SHA-256 is stored.
* Sign-in rate limits: failures per login and per address, counted in the database (every process shares them).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import argon2
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, or_, select

from autograder.site.models import SigninAttempt, utcnow

SESSION_COOKIE = "ag_session"
SESSION_MAX_AGE_S = 14 * 24 * 3600
SECRET_FILE = "secret.key"

_hasher = argon2.PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


# A hash to verify against when the login is unknown, so that an unknown login takes as long as a wrong
# password. Made on first use: every process that imports this module would otherwise pay for one hash.
_DUMMY_HASH: str | None = None


def burn_time(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
    verify_password(_DUMMY_HASH, password)


def new_token() -> str:
    """A random URL-safe secret (sign-in links, API tokens)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def load_secret(data_dir: Path) -> str:
    """The site's signing key: $AUTOGRADER_SITE_SECRET, else ``<data dir>/secret.key`` (created on first use, 0600)."""
    env = os.environ.get("AUTOGRADER_SITE_SECRET")
    if env:
        return env
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            # exclusive create: two processes starting together must not end with two keys
            with open(path, "x", encoding="ascii") as fh:
                os.chmod(path, 0o600)
                fh.write(secrets.token_hex(32))
        except FileExistsError:
            pass
    return path.read_text(encoding="ascii").strip()


@dataclasses.dataclass(frozen=True)
class Session:
    nonce: str
    user_id: int | None = None
    epoch: int = 0


class Sessions:
    """Signing and reading the session cookie, and the CSRF token that goes with it."""

    def __init__(self, secret: str, *, secure: bool = False, max_age_s: int = SESSION_MAX_AGE_S) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="autograder-site-session")
        self._csrf_key = hashlib.sha256(("csrf:" + secret).encode()).digest()
        self.secure = secure
        self.max_age_s = max_age_s

    def new(self, user_id: int | None = None, epoch: int = 0) -> Session:
        return Session(secrets.token_urlsafe(16), user_id, epoch)

    def dump(self, session: Session) -> str:
        return self._serializer.dumps({"n": session.nonce, "u": session.user_id, "e": session.epoch})

    def load(self, cookie: str | None) -> Session | None:
        """The session of a cookie, or None when it is missing, forged, signed with another key or too old."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age_s)
        except (BadSignature, ValueError, TypeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            return None
        user = data.get("u")
        epoch = data.get("e", 0)
        if (user is not None and not isinstance(user, int)) or not isinstance(epoch, int):
            return None
        return Session(data["n"], user, epoch)

    def cookie_args(self) -> dict:
        return {
            "key": SESSION_COOKIE,
            "max_age": self.max_age_s,
            "httponly": True,
            "samesite": "lax",
            "secure": self.secure,
            "path": "/",
        }

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._csrf_key, session.nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session | None, token: object) -> bool:
        if session is None or not isinstance(token, str) or not token:
            return False
        return hmac.compare_digest(self.csrf_token(session), token)


class RateLimiter:
    """At most ``limit`` failed sign-ins per key within ``window_s`` seconds, counted in the database (table
    ``signin_attempts``), so every site process on one database shares the counts.

    Keys are the login tried and the client's address, each counted on its own, so neither guessing many
    passwords of one account nor trying one password on many accounts gets far. An attempt is written
    before the password is checked and only then are the attempts counted: of two racing attempts, in
    this process or another, the later to count sees the earlier, so racing ones cannot all slip under the
    limit. A wrong password keeps its rows (the failures), a right one removes them and the login's
    failures; a refused attempt removes its own rows (it checked no password).
    """

    def __init__(self, factory, limit: int = 5, window_s: float = 300.0, clock=None) -> None:
        self.factory = factory
        self.limit = limit
        self.window = dt.timedelta(seconds=window_s)
        self._clock = clock or utcnow  # naive UTC, as every time in the database

    def attempt(self, *keys: str) -> list[int] | None:
        """Count an attempt on every key; its row ids, or None (nothing kept) if a key is past the limit."""
        now = self._clock()
        with self.factory.begin() as db:
            rows = [SigninAttempt(key=k, at=now) for k in keys]
            db.add_all(rows)
            db.flush()
            ids = [r.id for r in rows]
        with self.factory() as db:
            counts = db.execute(
                select(SigninAttempt.key, func.count())
                .where(SigninAttempt.key.in_(keys), SigninAttempt.at > now - self.window)
                .group_by(SigninAttempt.key)
            ).all()
        if any(n > self.limit for _, n in counts):
            self._forget(ids)
            return None
        return ids

    def failed(self, attempt: list[int]) -> None:
        """A wrong password: the attempt's rows stay as failures; rows older than the window go."""
        with self.factory.begin() as db:
            db.execute(delete(SigninAttempt).where(SigninAttempt.at <= self._clock() - self.window))

    def succeeded(self, attempt: list[int], key: str) -> None:
        """The right password: the attempt counts for nothing, and the failures of ``key`` (the login) go."""
        with self.factory.begin() as db:
            db.execute(delete(SigninAttempt).where(or_(SigninAttempt.id.in_(attempt), SigninAttempt.key == key)))

    def _forget(self, ids: list[int]) -> None:
        with self.factory.begin() as db:
            db.execute(delete(SigninAttempt).where(SigninAttempt.id.in_(ids)))
