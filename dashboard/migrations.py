"""Schema migrations of the dashboard's tables (organiser accounts, login attempts,
screen keys)."""

from sqlite_utils import Database, Migrations

from storage import rewrite_times

MIGRATIONS = Migrations("dashboard")


@MIGRATIONS()
def create_organisers(db: Database) -> None:
    """Organiser accounts, the festivals each may manage, and their server-side sessions."""
    db.table("dashboard_organisers").create(
        {"id": int, "email": str, "password_hash": str, "created_at": str},
        pk="id",
        not_null={"email", "password_hash", "created_at"},
    )
    db.table("dashboard_organisers").create_index(["email"], unique=True)
    db.table("dashboard_memberships").create(
        {"organiser_id": int, "festival": str, "added_at": str},
        pk=("organiser_id", "festival"),
        foreign_keys=[("organiser_id", "dashboard_organisers", "id")],
        not_null={"added_at"},
    )
    # Only a hash of the session token is stored: a copy of the database does not let
    # anyone take over a live session.
    db.table("dashboard_sessions").create(
        {
            "token_hash": str,
            "organiser_id": int,
            "created_at": str,
            "expires_at": str,
        },
        pk="token_hash",
        foreign_keys=[("organiser_id", "dashboard_organisers", "id")],
        not_null={"created_at", "expires_at"},
    )


@MIGRATIONS()
def create_login_failures(db: Database) -> None:
    """Failed logins, by account and by client address, for throttling."""
    db.table("dashboard_login_failures").create(
        {"id": int, "key": str, "at": str},
        pk="id",
        not_null={"key", "at"},
    )
    db.table("dashboard_login_failures").create_index(["key", "at"])


@MIGRATIONS()
def create_settings(db: Database) -> None:
    """Settings the dashboard keeps for itself, such as the key that signs its cookies."""
    db.table("dashboard_settings").create({"name": str, "value": str}, pk="name")


@MIGRATIONS()
def create_screen_keys(db: Database) -> None:
    """Keys of a festival's screens; only a hash of each key is kept."""
    db.table("dashboard_screen_keys").create(
        {
            "key_hash": str,
            "festival": str,
            "name": str,
            "created_at": str,
            "last_used_at": str,
        },
        pk="key_hash",
        not_null={"festival", "name", "created_at"},
    )
    db.table("dashboard_screen_keys").create_index(["festival", "name"], unique=True)


@MIGRATIONS(name="0005_times_in_milliseconds")
def times_in_milliseconds(db: Database) -> None:
    """Times in the one format of the database (RFC 3339 UTC, milliseconds): accounts had
    them with microseconds, screen keys to the second."""
    rewrite_times(db, "dashboard_organisers", ["created_at"])
    rewrite_times(db, "dashboard_memberships", ["added_at"])
    rewrite_times(db, "dashboard_sessions", ["created_at", "expires_at"])
    rewrite_times(db, "dashboard_login_failures", ["at"])
    rewrite_times(db, "dashboard_screen_keys", ["created_at", "last_used_at"])
