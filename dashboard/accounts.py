"""Organiser accounts: password hashing, festival memberships, sessions and login throttling.

Passwords are hashed with scrypt (RFC 7914) and a random salt; the parameters are stored
with each hash so that they can be raised later without locking anyone out. Sessions live
in the database (only a hash of their token), so logging out ends them for good.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

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


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    now = _stamp(_now())
    with db.conn:
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


def _festivals_of(db: Database, organiser_id: int) -> tuple[str, ...]:
    rows = db.execute(
        "select festival from dashboard_memberships where organiser_id = ? order by festival",
        [organiser_id],
    ).fetchall()
    return tuple(row[0] for row in rows)


def _locked_key(db: Database, key: str, limit: int, now: datetime) -> bool:
    """Whether ``limit`` failures of ``key`` fell within one window whose last failure is
    less than a window ago: the pause lasts a full window from the failure that caused
    it, however the failures before it were spread."""
    rows = db.execute(
        "select at from dashboard_login_failures where key = ? and at >= ? "
        "order by at desc limit ?",
        [key, _stamp(now - 2 * FAILURE_WINDOW), limit],
    ).fetchall()
    if len(rows) < limit:
        return False
    latest, earliest = (datetime.fromisoformat(row[0]) for row in (rows[0], rows[-1]))
    return latest - earliest <= FAILURE_WINDOW and now - latest < FAILURE_WINDOW


def locked_out(db: Database, email: str, address: str, now: datetime | None = None) -> bool:
    """Whether logins for this account or from this address are paused after failures."""
    now = now or _now()
    return _locked_key(
        db, f"email:{email.strip().lower()}", MAX_FAILURES_PER_ACCOUNT, now
    ) or _locked_key(db, f"addr:{address}", MAX_FAILURES_PER_ADDRESS, now)


def authenticate(db: Database, email: str, password: str, address: str) -> Organiser | None:
    """The organiser when the credentials are right and no lockout applies, else None.

    Every failure is recorded against both the account and the client address.
    """
    key_email = email.strip().lower()
    now = _now()
    if locked_out(db, key_email, address, now):
        return None
    row = next(db["dashboard_organisers"].rows_where("email = ?", [key_email]), None)
    ok = verify_password(password, row["password_hash"] if row else _DUMMY_HASH)
    with db.conn:
        if not (ok and row):
            db.table("dashboard_login_failures").insert_all(
                [
                    {"key": f"email:{key_email}", "at": _stamp(now)},
                    {"key": f"addr:{address}", "at": _stamp(now)},
                ]
            )
            # Two windows are kept: a pause is judged from failures up to a window
            # before the latest one.
            db.execute(
                "delete from dashboard_login_failures where at < ?",
                [_stamp(now - 2 * FAILURE_WINDOW)],
            )
            return None
        db.execute("delete from dashboard_login_failures where key = ?", [f"email:{key_email}"])
    return Organiser(row["id"], row["email"], _festivals_of(db, row["id"]))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: Database, organiser: Organiser) -> str:
    """Start a session for ``organiser``; return its token (kept by the browser only)."""
    token = secrets.token_urlsafe(32)
    now = _now()
    with db.conn:
        db.execute("delete from dashboard_sessions where expires_at < ?", [_stamp(now)])
        db.table("dashboard_sessions").insert(
            {
                "token_hash": _token_hash(token),
                "organiser_id": organiser.id,
                "created_at": _stamp(now),
                "expires_at": _stamp(now + SESSION_LIFETIME),
            }
        )
    return token


def session_organiser(db: Database, token: str) -> Organiser | None:
    """The organiser of a live session, or None for an unknown or expired token."""
    row = db.execute(
        "select o.id, o.email from dashboard_sessions s join dashboard_organisers o "
        "on o.id = s.organiser_id where s.token_hash = ? and s.expires_at > ?",
        [_token_hash(token), _stamp(_now())],
    ).fetchone()
    if row is None:
        return None
    return Organiser(row[0], row[1], _festivals_of(db, row[0]))


def close_session(db: Database, token: str) -> None:
    """End a session (logout)."""
    with db.conn:
        db.execute("delete from dashboard_sessions where token_hash = ?", [_token_hash(token)])


def secret_key(db: Database) -> str:
    """The key that signs the dashboard's cookies, created once and kept in the database
    so that every process serving the dashboard, and every restart, agrees on it."""
    with db.conn:
        db.execute(
            "insert or ignore into dashboard_settings (name, value) values ('secret_key', ?)",
            [secrets.token_hex(32)],
        )
    row = db.execute("select value from dashboard_settings where name = 'secret_key'").fetchone()
    return str(row[0])
