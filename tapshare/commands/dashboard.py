"""``tapshare dashboard`` and ``tapshare organiser add|list|remove``."""

from __future__ import annotations

import ipaddress
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from protocol.broker import BrokerURL
from storage import connect
from tapshare.context import Settings, fail, flag_option, number_option, open_database
from tapshare.database import migrate

if TYPE_CHECKING:
    from dashboard.web_votes import WebVotes

DEFAULT_THREADS = 1050
# Kept here rather than imported, so that `tapshare --help` does not load Flask.
DEFAULT_STREAMS_PER_CLIENT = 50
METRICS_TOKEN_ENV = "TAPSHARE_METRICS_TOKEN"
DEFAULT_PROXY_HEADERS = "x-forwarded-for,x-forwarded-proto"


def _trusted_proxy(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None or value == "*":
        return value
    try:
        # waitress compares the peer's address as text, so write it as sockets do.
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise click.BadParameter(
            f"must be the proxy's IP address (or * for any peer), not {value!r}",
            ctx=ctx,
            param=param,
        ) from None


def _proxy_headers(ctx: click.Context, param: click.Parameter, value: str) -> frozenset[str]:
    from waitress.proxy_headers import PROXY_HEADERS

    known = {name.lower().replace("_", "-") for name in PROXY_HEADERS}
    headers = frozenset(name.strip().lower() for name in value.replace(",", " ").split())
    unknown = sorted(headers - known)
    if unknown or not headers:
        raise click.BadParameter(
            f"unknown header {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(sorted(known))}",
            ctx=ctx,
            param=param,
        )
    if "forwarded" in headers and len(headers) > 1:
        raise click.BadParameter(
            "forwarded cannot be combined with the x-forwarded-* headers", ctx=ctx, param=param
        )
    return headers


def _migrated(settings: Settings) -> None:
    try:
        migrate(settings.db)
    except Exception as exc:  # a file that is not a database, a read-only directory
        fail(f"cannot open {settings.db}: {exc}")


def _metrics_token(path: Path | None) -> str | None:
    """The bearer token of ``/metrics``: from the file, else env TAPSHARE_METRICS_TOKEN."""
    if path is not None:
        where = f"the metrics token file {path}"
        try:
            token = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {where}: {getattr(exc, 'strerror', None) or exc}")
    elif METRICS_TOKEN_ENV in os.environ:
        where, token = METRICS_TOKEN_ENV, os.environ[METRICS_TOKEN_ENV]
    else:
        return None
    token = token.strip()
    if not token or any(c.isspace() for c in token):
        fail(f"{where} must hold one token: no spaces, not empty")
    return token


@click.command("dashboard")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@number_option("--port", 8000, (0, 65535), help="Port to listen on.")
@number_option(
    "--threads",
    DEFAULT_THREADS,
    (60, 20000),
    help="Worker threads; each open live board holds one (50 stay for requests).",
)
@number_option(
    "--max-streams-per-client",
    DEFAULT_STREAMS_PER_CLIENT,
    (1, None),
    help="Live boards one client (an address, an IPv6 /64) may hold open; more get 429.",
    metavar="N",
)
@flag_option("--secure-cookies", help="Send login cookies over HTTPS only (behind a TLS proxy).")
@click.option(
    "--metrics-token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file holding the bearer token /metrics asks for (env TAPSHARE_METRICS_TOKEN "
    "holds the token itself); without either, /metrics is open to anyone who reaches it.",
)
@click.option(
    "--trusted-proxy",
    metavar="ADDR",
    envvar="TAPSHARE_TRUSTED_PROXY",
    callback=_trusted_proxy,
    help="The reverse proxy's IP address: its forwarding headers give the client's address "
    "(env TAPSHARE_TRUSTED_PROXY; see docs/operator.md).",
)
@click.option(
    "--trusted-proxy-headers",
    metavar="LIST",
    envvar="TAPSHARE_TRUSTED_PROXY_HEADERS",
    default=DEFAULT_PROXY_HEADERS,
    show_default=True,
    callback=_proxy_headers,
    help="Which of the trusted proxy's headers to believe, comma-separated "
    "(env TAPSHARE_TRUSTED_PROXY_HEADERS).",
)
@number_option(
    "--password-checks",
    4,
    (1, 64),
    help="Login password checks run at once (each takes about 32 MiB); a login beyond "
    "them gets 503 (env TAPSHARE_PASSWORD_CHECKS).",
    envvar="TAPSHARE_PASSWORD_CHECKS",
)
@flag_option(
    "--dev",
    help="Development mode: Flask's reloading server with debug pages; never in production.",
)
@click.pass_obj
def dashboard_command(
    settings: Settings,
    host: str,
    port: int,
    threads: int,
    max_streams_per_client: int,
    secure_cookies: bool,
    metrics_token_file: Path | None,
    trusted_proxy: str | None,
    trusted_proxy_headers: frozenset[str],
    password_checks: int,
    dev: bool,
) -> None:
    """Serve the web dashboard (boards, organiser area, JSON API, vote pages for phones) on
    --db; with --broker, votes from phones are published there as the web stations'."""
    from dashboard import create_app
    from dashboard.server import bound_port, make_server, streams_for

    click_context = click.get_current_context()
    headers_given = click_context.get_parameter_source("trusted_proxy_headers") not in (
        None,
        click.core.ParameterSource.DEFAULT,
    )
    if headers_given and trusted_proxy is None:
        fail("--trusted-proxy-headers needs --trusted-proxy")
    if dev and trusted_proxy is not None:
        fail("--trusted-proxy needs the production server; leave out --dev")
    _migrated(settings)
    votes = web_votes_for(settings)
    app = create_app(
        settings.db,
        max_streams=streams_for(threads),
        max_streams_per_client=max_streams_per_client,
        secure_cookies=secure_cookies,
        metrics_token=_metrics_token(metrics_token_file),
        password_checks=password_checks,
        web_votes=votes,
        # Where stations reach the broker: the address without the dashboard's own login.
        station_broker=str(
            BrokerURL(settings.broker.host, settings.broker.port, settings.broker.tls)
        ),
    )
    if dev:
        app.run(host=host, port=port, debug=True, threaded=True)
        return
    streams = app.extensions["tapshare_streams"]
    try:
        server = make_server(
            app,
            host,
            port,
            threads=threads,
            trusted_proxy=trusted_proxy,
            trusted_proxy_headers=trusted_proxy_headers,
        )
    except OSError as exc:
        streams.stop()
        if votes is not None:
            votes.stop()
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    trusting = ""
    if trusted_proxy is not None:
        trusting = f"; trusting {', '.join(sorted(trusted_proxy_headers))} from {trusted_proxy}"
    click.echo(
        f"tapshare dashboard on http://{host}:{bound_port(server)}/ (db {settings.db}{trusting})",
        err=True,
    )
    # A service manager's SIGTERM ends open streams and closes sockets like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        streams.stop()
        server.close()
        if votes is not None:
            votes.stop()


def web_outbox_dir(db: Path) -> Path:
    """Where the dashboard keeps votes from phones until the broker has them."""
    return db.with_name(db.name + ".web-outbox")


def web_votes_for(settings: Settings) -> WebVotes | None:
    """The festivals' web stations publishing to --broker; None when none was given."""
    from dashboard.web_votes import WebVotes

    if not settings.broker_given:
        return None
    votes = WebVotes(settings.db, settings.broker, web_outbox_dir(settings.db))
    try:
        votes.start()
    except OSError as exc:
        fail(f"cannot keep votes from phones in {votes.outbox_dir}: {exc}")
    return votes


@click.group("organiser")
def organiser_group() -> None:
    """Manage organiser accounts of the dashboard."""


@organiser_group.command("add")
@click.argument("festival")
@click.argument("email")
@click.pass_obj
def organiser_add(settings: Settings, festival: str, email: str) -> None:
    """Let EMAIL manage FESTIVAL in the dashboard; the password is read from standard input
    (an existing account keeps its password, which must be given)."""
    from dashboard.accounts import AccountError, add_organiser
    from hub import registry_store

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("no password on standard input")
    _migrated(settings)
    db = connect(settings.db)
    try:
        if registry_store.get_festival(db, festival) is None:
            fail(f"unknown festival: {festival}")
        created = add_organiser(db, festival, email, password)
    except AccountError as exc:
        fail(str(exc))
    finally:
        db.close()
    what = "created the account" if created else "added the festival to the account"
    click.echo(f"{what} {email.strip().lower()} for {festival}")


@organiser_group.command("list")
@click.argument("festival")
@click.pass_obj
def organiser_list(settings: Settings, festival: str) -> None:
    """List the organisers of FESTIVAL (never their passwords)."""
    from dashboard.accounts import festival_organisers
    from tapshare.commands.registry import print_table

    with open_database(settings) as db:
        _known_festival(db, festival)
        rows = festival_organisers(db, festival)
    print_table(("EMAIL", "ADDED"), rows)


@organiser_group.command("remove")
@click.argument("festival")
@click.argument("email")
@click.pass_obj
def organiser_remove(settings: Settings, festival: str, email: str) -> None:
    """Stop EMAIL managing FESTIVAL, at once (the account keeps its other festivals; the
    last organiser of a festival cannot be removed)."""
    from dashboard.accounts import AccountError, remove_organiser

    with open_database(settings) as db:
        _known_festival(db, festival)
        try:
            remove_organiser(db, festival, email)
        except AccountError as exc:
            fail(str(exc))
    click.echo(f"{email.strip().lower()} no longer manages {festival}")


def _known_festival(db: Any, festival: str) -> None:
    from hub import registry_store

    if registry_store.get_festival(db, festival) is None:
        fail(f"unknown festival: {festival}")


COMMANDS = [dashboard_command, organiser_group]
