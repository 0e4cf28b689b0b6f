"""The organiser area's sentences built from a policy and the registry's refusals follow the
page's language: a Dutch organiser reads the editor's rows, the change before saving, the
warnings, the receipts and a refused station in Dutch, an English one in English; the
command line keeps English."""

from __future__ import annotations

import html

import pytest
from flask.testing import FlaskClient

from tests.dashboard.conftest import login
from tests.dashboard.policies import permit, set_policy
from tests.dashboard.test_policy_editor import editor, post

DUTCH = "nl-NL,nl;q=0.9,en;q=0.5"
ENGLISH = "en-GB,en;q=0.9"
#: A festival total for the public beside artworks with 5 visitors for the network: a warning.
RULES = [
    permit("public", min_visitors=10),
    permit("network", level="artwork", min_visitors=5, delay_minutes=60),
]


def _as(client: FlaskClient, language: str) -> str:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return login(client)


def _text(response_html: str) -> str:
    return html.unescape(response_html)


@pytest.mark.parametrize(
    ("language", "row", "network", "warning", "change"),
    [
        (
            DUTCH,
            "Tonen op het openbare bord: festivaltotalen, zodra 10 bezoekers hebben meegedaan",
            "Tonen op de borden van andere festivals: de totalen per kunstwerk, zodra 5 bezoekers "
            "aan een kunstwerk hebben meegedaan, 1 uur later",
            "Het publiek ziet het totaal van het festival op borden, en het netwerk (elk "
            "festival zonder eigen regel) ziet elk kunstwerk met minstens 5 bezoekers op borden.",
            "Tonen op het openbare bord: festivaltotalen, zodra 2 bezoekers hebben meegedaan "
            "(was: festivaltotalen, zodra 10 bezoekers hebben meegedaan).",
        ),
        (
            ENGLISH,
            "Show on the public board: festival totals, once 10 visitors have taken part",
            "Show on other festivals' boards: totals per artwork, once 5 visitors have taken "
            "part on an artwork, 1 hour late",
            "The public sees the festival's total on boards, and the network (every festival "
            "without a rule of its own) sees each artwork with at least 5 visitors on boards.",
            "Show on the public board: festival totals, once 2 visitors have taken part "
            "(was: festival totals, once 10 visitors have taken part).",
        ),
    ],
)
def test_the_editor_speaks_the_organisers_language(
    client, dash_db, language, row, network, warning, change
):
    set_policy(dash_db, "strp", RULES)
    _as(client, language)
    fields = editor(client)
    code, page = post(client, fields, **{"public/display/min_visitors": "2"}, do="preview")
    assert code == 200
    page = _text(page)
    assert network in page
    assert warning in page
    assert change in page
    shown = _text(client.get("/organiser/strp/policy").get_data(as_text=True))
    assert row in shown


def test_a_row_with_a_bad_number_says_so_in_dutch(client, dash_db):
    set_policy(dash_db, "strp", RULES)
    _as(client, DUTCH)
    code, page = post(client, editor(client), **{"public/display/min_visitors": "many"})
    assert code == 400
    assert "moet een heel getal zijn" in _text(page)


@pytest.mark.parametrize(
    ("language", "words", "not_words"),
    [
        (DUTCH, "Tonen op het openbare bord: festivaltotalen", "Show on the public board"),
        (ENGLISH, "Show on the public board: festival totals", "Tonen op het openbare bord"),
    ],
)
def test_receipts_say_each_audience_in_the_organisers_language(
    client, dash_db, language, words, not_words
):
    set_policy(dash_db, "strp", RULES)
    _as(client, language)
    page = _text(client.get("/organiser/strp/receipts").get_data(as_text=True))
    assert words in page
    assert not_words not in page


@pytest.mark.parametrize(
    ("language", "bad", "twice"),
    [
        (
            DUTCH,
            "station-id 'Bad Station' is geen geldige id",
            "kunstwerk 'aw-1' is al geregistreerd voor festival 'strp'",
        ),
        (
            ENGLISH,
            "station id 'Bad Station' is not a valid id",
            "artwork 'aw-1' is already registered for festival 'strp'",
        ),
    ],
)
def test_a_refused_station_or_artwork_is_told_in_the_organisers_language(
    client, language, bad, twice
):
    token = _as(client, language)
    refused = client.post(
        "/organiser/strp/stations", data={"csrf_token": token, "station": "Bad Station"}
    )
    assert refused.status_code == 400
    assert bad in _text(refused.get_data(as_text=True))
    again = client.post(
        "/organiser/strp/artworks", data={"csrf_token": token, "artwork": "aw-1", "title": "X"}
    )
    assert again.status_code == 400
    assert twice in _text(again.get_data(as_text=True))


def test_the_command_line_warns_in_english():
    from consent.boards import policy_warnings
    from consent.policy import Policy

    policy = Policy.model_validate({"rules": RULES})
    english = policy_warnings(policy)
    dutch = policy_warnings(policy, lang="nl")
    assert english[0].startswith("The public sees the festival's total on boards")
    assert dutch[0].startswith("Het publiek ziet het totaal van het festival op borden")
