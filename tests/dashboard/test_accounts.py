"""Passwords, accounts, sessions and login throttling, against a real database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dashboard import accounts
from storage import connect
from tapshare.database import migrate


@pytest.fixture
def db(db_path: Path):
    migrate(db_path)
    database = connect(db_path)
    yield database
    database.close()


def test_password_hash_is_salted_scrypt_and_verifies():
    first = accounts.hash_password("a long passphrase")
    second = accounts.hash_password("a long passphrase")
    assert first.startswith("scrypt$") and first != second
    assert accounts.verify_password("a long passphrase", first)
    assert not accounts.verify_password("a long passphrasE", first)
    assert not accounts.verify_password("a long passphrase", "md5$abc")
    assert not accounts.verify_password("x", "scrypt$nonsense")


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", "long enough password", "not an email"),
        ("a@b.example", "short", "at least"),
    ],
)
def test_bad_accounts_are_refused(db, email, password, message):
    with pytest.raises(accounts.AccountError, match=message):
        accounts.add_organiser(db, "strp", email, password)
    assert db["dashboard_organisers"].count == 0


def test_an_account_gains_a_festival_only_with_its_password(db):
    assert accounts.add_organiser(db, "strp", "Ann@Example.org", "first password!")
    with pytest.raises(accounts.AccountError, match="current password"):
        accounts.add_organiser(db, "ddw", "ann@example.org", "another password")
    assert not accounts.add_organiser(db, "ddw", "ann@example.org", "first password!")
    organiser = accounts.authenticate(db, "ann@example.org", "first password!", "10.0.0.1")
    assert organiser is not None and organiser.festivals == ("ddw", "strp")


def test_sessions_open_resolve_and_close(db):
    accounts.add_organiser(db, "strp", "ann@example.org", "first password!")
    organiser = accounts.authenticate(db, "ann@example.org", "first password!", "10.0.0.1")
    assert organiser is not None
    token = accounts.open_session(db, organiser)
    assert accounts.session_organiser(db, token) == organiser
    # Only a hash is stored.
    assert token not in {row["token_hash"] for row in db["dashboard_sessions"].rows}
    accounts.close_session(db, token)
    assert accounts.session_organiser(db, token) is None
    assert accounts.session_organiser(db, "forged") is None


def test_repeated_failures_lock_the_account_even_for_the_right_password(db):
    accounts.add_organiser(db, "strp", "ann@example.org", "first password!")
    for _ in range(accounts.MAX_FAILURES_PER_ACCOUNT):
        assert accounts.authenticate(db, "ann@example.org", "wrong", "10.0.0.1") is None
    pause = accounts.lockout(db, "ann@example.org", "10.0.0.2")
    assert pause is not None and (pause.limit, pause.key) == ("account", "ann@example.org")
    assert 0 < pause.seconds_left <= accounts.FAILURE_WINDOW.total_seconds()
    with pytest.raises(accounts.LoginPaused):
        accounts.authenticate(db, "ann@example.org", "first password!", "10.0.0.2")
    later = accounts._now() + accounts.FAILURE_WINDOW + timedelta(seconds=1)
    assert accounts.lockout(db, "ann@example.org", "10.0.0.2", later) is None


def test_an_address_with_many_failures_is_paused(db):
    for attempt in range(accounts.MAX_FAILURES_PER_ADDRESS):
        accounts.authenticate(db, f"user{attempt}@example.org", "wrong", "10.9.9.9")
    pause = accounts.lockout(db, "someone@example.org", "10.9.9.9")
    assert pause is not None and (pause.limit, pause.key) == ("address", "10.9.9.9")
    assert accounts.lockout(db, "someone@example.org", "10.9.9.8") is None


def test_a_paused_attempt_is_refused_before_its_check_and_records_nothing(db):
    for _ in range(accounts.MAX_FAILURES_PER_ACCOUNT):
        accounts.authenticate(db, "ann@example.org", "wrong", "10.0.0.1")
    before = db["dashboard_login_failures"].count
    with pytest.raises(accounts.LoginPaused) as paused:
        accounts.authenticate(db, "ann@example.org", "wrong", "10.0.0.1")
    assert paused.value.lockout.limit == "account"
    assert db["dashboard_login_failures"].count == before


def test_a_right_password_takes_back_its_own_attempt_only(db):
    accounts.add_organiser(db, "strp", "ann@example.org", "first password!")
    accounts.authenticate(db, "bob@example.org", "wrong", "10.0.0.1")
    assert accounts.authenticate(db, "ann@example.org", "first password!", "10.0.0.1")
    keys = sorted(row["key"] for row in db["dashboard_login_failures"].rows)
    assert keys == ["addr:10.0.0.1", "email:bob@example.org"]


def test_password_checks_refuse_beyond_their_slots():
    checks = accounts.PasswordChecks(1)
    with checks.slot():
        assert checks.running == 1
        with pytest.raises(accounts.ChecksBusy), checks.slot():
            pass
    with checks.slot():
        assert checks.running == 1
    assert checks.running == 0
    with pytest.raises(ValueError):
        accounts.PasswordChecks(0)


def test_the_secret_key_is_made_once(db):
    assert accounts.secret_key(db) == accounts.secret_key(db)
