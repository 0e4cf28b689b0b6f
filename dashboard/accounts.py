"""Organiser accounts: password hashing, festival memberships, sessions and login throttling.

Passwords are hashed with scrypt (RFC 7914) and a random salt; the parameters are stored
with each hash so that they can be raised later without locking anyone out. Sessions live
in the database (only a hash of their token), so logging out ends them for good.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlite_utils import Database

from storage import immediate, now_text

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
SESSION_LIFETIME = timedelta(hours=12)
# Throttling: this many failures within the window lock the account (or the client
# address, which gets a higher limit because many people may share one) for the window,
# counted from the failure that reached the limit.
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


class AccountError(ValueError):
    """A request about accounts that cannot be honoured, with a message for the user."""


@dataclass(frozen=True)
class Organiser:
    """A logged-in organiser and the festivals they manage."""

    id: int
    email: str
    festivals: tuple[str, ...]


def _now() -> datetime:
    return datetime.now(UTC)


def hash_password(password: str, *, n: int = SCRYPT_N) -> str:
    """``scrypt$N$r$p$salt$hash`` for ``password``, with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, maxmem=2**27, dklen=32
    )
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (a :func:`hash_password` result)."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=2**27,
            dklen=32,
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)


# Checked against when the email is unknown, so that a wrong email costs as much time as a
# wrong password and response times do not tell which accounts exist.
_DUMMY_HASH = hash_password(secrets.token_hex(16), n=SCRYPT_N)


def normalise_email(email: str) -> str:
    """The email as accounts are keyed: trimmed and lower-case; raises on an odd one."""
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in email) or len(email) > 254:
        raise AccountError(f"not an email address: {email!r}")
    return email


def check_password_rules(password: str) -> None:
    """Raise :class:`AccountError` when a new password is too weak or too long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")


def add_organiser(db: Database, festival: str, email: str, password: str) -> bool:
    """Let ``email`` manage ``festival``; return True when a new account was created.

    An existing account gains the festival only when ``password`` is its password, so that
    nobody can take over an account by adding it to another festival.
    """
    email = normalise_email(email)
    row = next(db["dashboard_organisers"].rows_where("email = ?", [email]), None)
    now = now_text(_now())
    with immediate(db):
        if row is None:
            check_password_rules(password)
            organiser_id = (
                db.table("dashboard_organisers")
                .insert(
                    {"email": email, "password_hash": hash_password(password), "created_at": now}
                )
                .last_pk
            )
            created = True
        else:
            if not verify_password(password, row["password_hash"]):
                raise AccountError(
                    f"{email} already has an account; give its current password to add "
                    f"{festival} to it"
                )
            organiser_id = row["id"]
            created = False
        db.table("dashboard_memberships").insert(
            {"organiser_id": organiser_id, "festival": festival, "added_at": now},
            ignore=True,
        )
    return created


def festival_organisers(db: Database, festival: str) -> list[tuple[str, str]]:
    """The organisers of ``festival``: (email, when they were added), by email."""
    rows = db.execute(
        "select o.email, m.added_at from dashboard_memberships m join dashboard_organisers o "
        "on o.id = m.organiser_id where m.festival = ? order by o.email",
        [festival],
    ).fetchall()
    return [(str(email), str(added)) for email, added in rows]


def remove_organiser(db: Database, festival: str, email: str) -> None:
    """Stop ``email`` managing ``festival`` (at once, in every open session of theirs).

    The last organiser of a festival cannot be removed, so that it is never left without
    anyone who can change its policy.
    """
    email = normalise_email(email)
    with immediate(db):
        row = db.execute(
            "select o.id from dashboard_memberships m join dashboard_organisers o "
            "on o.id = m.organiser_id where m.festival = ? and o.email = ?",
            [festival, email],
        ).fetchone()
        if row is None:
            raise AccountError(f"{email} does not manage {festival}")
        count = db.execute(
            "select count(*) from dashboard_memberships where festival = ?", [festival]
        ).fetchone()[0]
        if count == 1:
            raise AccountError(
                f"{email} is the only organiser of {festival}; add another before removing them"
            )
        db.execute(
            "delete from dashboard_memberships where organiser_id = ? and festival = ?",
            [row[0], festival],
        )


def _festivals_of(db: Database, organiser_id: int) -> tuple[str, ...]:
    rows = db.execute(
        "select festival from dashboard_memberships where organiser_id = ? order by festival",
        [organiser_id],
    ).fetchall()
    return tuple(row[0] for row in rows)


@dataclass(frozen=True)
class Lockout:
    """Logins paused by a limit: ``limit`` is ``"account"`` or ``"address"``, ``key`` the
    account's email or the client key (an IPv4 address or an IPv6 /64), ``until`` when the
    pause ends and ``seconds_left`` how long that is from when it was looked up."""

    limit: Literal["account", "address"]
    key: str
    until: datetime
    seconds_left: int


class LoginPaused(Exception):
    """A login refused unchecked because a limit pauses it."""

    def __init__(self, lockout: Lockout) -> None:
        super().__init__(f"logins for {lockout.limit} {lockout.key} paused until {lockout.until}")
        self.lockout = lockout


class ChecksBusy(Exception):
    """Every password-check slot is taken; the login was not tried."""


class PasswordChecks:
    """A bound on password checks running at once.

    Each scrypt check holds about 32 MiB (128 * r * N bytes) while it runs, so without a
    bound a burst of logins can exhaust the server's memory. A login that finds every slot
    taken is refused at once (:class:`ChecksBusy`) rather than queued: waiting would hold a
    server thread per request instead.
    """

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("at least one password check must be allowed")
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self.running = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for a check; raises :class:`ChecksBusy` when none is free."""
        if not self._free.acquire(blocking=False):
            raise ChecksBusy
        with self._lock:
            self.running += 1
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1
            self._free.release()


# How each limit's failures are keyed in dashboard_login_failures.
_KEY_PREFIX = {"account": "email:", "address": "addr:"}


def _lockout_of(
    db: Database, limit: Literal["account", "address"], key: str, most: int, now: datetime
) -> Lockout | None:
    """The pause on ``key`` when ``most`` failures of it fell within one window whose last
    failure is less than a window ago: the pause lasts a full window from the failure that
    caused it, however the failures before it were spread."""
    rows = db.execute(
        "select at from dashboard_login_failures where key = ? and at >= ? "
        "order by at desc limit ?",
        [_KEY_PREFIX[limit] + key, now_text(now - 2 * FAILURE_WINDOW), most],
    ).fetchall()
    if len(rows) < most:
        return None
    latest, earliest = (datetime.fromisoformat(row[0]) for row in (rows[0], rows[-1]))
    if latest - earliest <= FAILURE_WINDOW and now - latest < FAILURE_WINDOW:
        until = latest + FAILURE_WINDOW
        return Lockout(limit, key, until, max(1, math.ceil((until - now).total_seconds())))
    return None


def lockout(db: Database, email: str, address: str, now: datetime | None = None) -> Lockout | None:
    """What pauses logins for this account or from this client key, if anything; when both
    do, the pause that ends last (that is when a login can succeed again)."""
    now = now or _now()
    found = [
        pause
        for pause in (
            _lockout_of(db, "account", email.strip().lower(), MAX_FAILURES_PER_ACCOUNT, now),
            _lockout_of(db, "address", address, MAX_FAILURES_PER_ADDRESS, now),
        )
        if pause is not None
    ]
    return max(found, key=lambda pause: pause.until) if found else None


def _begin_attempt(db: Database, email: str, address: str, now: datetime) -> int:
    """Check the limits and record the attempt as a failure in one write transaction.

    Taking the write lock first (``BEGIN IMMEDIATE``) makes concurrent attempts queue for
    it, so each sees every attempt before it, even those whose check is still running: no
    more than a limit's number of checks can start. Returns the id of the address's row;
    raises :class:`LoginPaused` and writes nothing when a limit pauses the login.
    """
    with immediate(db):
        pause = lockout(db, email, address, now)
        if pause is not None:
            raise LoginPaused(pause)
        insert = "insert into dashboard_login_failures (key, at) values (?, ?)"
        db.execute(insert, [_KEY_PREFIX["account"] + email, now_text(now)])
        address_row = db.execute(
            insert, [_KEY_PREFIX["address"] + address, now_text(now)]
        ).lastrowid
        # Two windows are kept: a pause is judged from failures up to a window before the
        # latest one.
        db.execute(
            "delete from dashboard_login_failures where at < ?",
            [now_text(now - 2 * FAILURE_WINDOW)],
        )
    return address_row or 0


def authenticate(db: Database, email: str, password: str, address: str) -> Organiser | None:
    """The organiser when the credentials are right, else None; raises
    :class:`LoginPaused` (checking nothing) while a limit pauses the login.

    ``address`` is the client's key (:func:`dashboard.clients.client_key`). Every attempt
    counts as a failure of both the account and the address from before its check starts;
    a right password then takes back the account's failures and this attempt's own.
    """
    key_email = email.strip().lower()
    address_row = _begin_attempt(db, key_email, address, _now())
    row = next(db["dashboard_organisers"].rows_where("email = ?", [key_email]), None)
    ok = verify_password(password, row["password_hash"] if row else _DUMMY_HASH)
    if not (ok and row):
        return None
    with immediate(db):
        db.execute(
            "delete from dashboard_login_failures where key = ?",
            [_KEY_PREFIX["account"] + key_email],
        )
        db.execute("delete from dashboard_login_failures where id = ?", [address_row])
    return Organiser(row["id"], row["email"], _festivals_of(db, row["id"]))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: Database, organiser: Organiser) -> str:
    """Start a session for ``organiser``; return its token (kept by the browser only)."""
    token = secrets.token_urlsafe(32)
    now = _now()
    with immediate(db):
        db.execute("delete from dashboard_sessions where expires_at < ?", [now_text(now)])
        db.table("dashboard_sessions").insert(
            {
                "token_hash": _token_hash(token),
                "organiser_id": organiser.id,
                "created_at": now_text(now),
                "expires_at": now_text(now + SESSION_LIFETIME),
            }
        )
    return token


def session_organiser(db: Database, token: str) -> Organiser | None:
    """The organiser of a live session, or None for an unknown or expired token."""
    row = db.execute(
        "select o.id, o.email from dashboard_sessions s join dashboard_organisers o "
        "on o.id = s.organiser_id where s.token_hash = ? and s.expires_at > ?",
        [_token_hash(token), now_text(_now())],
    ).fetchone()
    if row is None:
        return None
    organiser_id, email = row
    return Organiser(organiser_id, email, _festivals_of(db, organiser_id))


def close_session(db: Database, token: str) -> None:
    """End a session (logout)."""
    with immediate(db):
        db.execute("delete from dashboard_sessions where token_hash = ?", [_token_hash(token)])


def secret_key(db: Database) -> str:
    """The key that signs the dashboard's cookies, created once and kept in the database
    so that every process serving the dashboard, and every restart, agrees on it."""
    with immediate(db):
        db.execute(
            "insert or ignore into dashboard_settings (name, value) values ('secret_key', ?)",
            [secrets.token_hex(32)],
        )
    row = db.execute("select value from dashboard_settings where name = 'secret_key'").fetchone()
    return str(row[0])
