"""``tapshare poster``: printable posters for a festival's artworks (docs/cli.md)."""

from __future__ import annotations

from pathlib import Path

import click

from tapshare.context import Settings, fail, open_database

LANGUAGES = ("en", "nl")


@click.command("poster")
@click.argument("festival_id", metavar="FESTIVAL")
@click.option("--artwork", metavar="ARTWORK", help="Only this artwork's poster (default: all).")
@click.option(
    "--paper", type=click.Choice(["a4", "a5"]), default="a4", show_default=True, help="Paper size."
)
@click.option(
    "--lang", type=click.Choice(LANGUAGES), default="en", show_default=True, help="Language."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the HTML here (default: standard output).",
)
@click.pass_obj
def poster(
    settings: Settings,
    festival_id: str,
    artwork: str | None,
    paper: str,
    lang: str,
    output: Path | None,
) -> None:
    """Write print-ready HTML posters, one page per artwork: its title, how to tap (and
    vote by phone where it has a sticker), a QR code of the festival's transparency page
    under --public-url and what the festival shares. Print it, or save it as PDF, from a
    browser."""
    from dashboard import create_app
    from dashboard.database import get_db
    from dashboard.festivals import UnknownFestival
    from dashboard.posters import UnknownArtwork, poster_page

    with open_database(settings):
        pass  # brings the schema up to date, or fails with one clear line
    app = create_app(settings.db, start_streams=False)
    context = app.test_request_context(
        "/", base_url=settings.public_url + "/", headers={"Accept-Language": lang}
    )
    with context:
        try:
            html = poster_page(get_db(), festival_id, artwork=artwork, paper=paper, standalone=True)
        except (UnknownFestival, UnknownArtwork) as exc:
            fail(str(exc))
    if output is None:
        click.echo(html)
        return
    try:
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    click.echo(f"wrote {output}", err=True)


COMMANDS = [poster]
