"""The transparency page: every promise derived from the festival's current policy."""

from __future__ import annotations

import re
from html import unescape

import pytest

from hub import registry
from tapshare.database import connect
from tests.dashboard.policies import permit, set_policy

DUTCH = {"Accept-Language": "nl"}


def promises(client, headers=None) -> list[str]:
    html = client.get("/festivals/strp", headers=headers or {}).get_data(as_text=True)
    block = html.split('<ul class="plain">', 1)[1].split("</ul>", 1)[0]
    return [unescape(line) for line in re.findall(r"<li>(.*?)</li>", block)]


def set_board_minimum(db_path, minimum: int) -> None:
    db = connect(db_path)
    registry.set_festival(db, "strp", board_min_visitors=minimum)
    db.close()


def test_a_cell_of_one_visitor_for_the_operator_is_said_and_nothing_promises_otherwise(
    client, dash_db
):
    set_policy(dash_db, "strp", [permit("platform", "analyse", level="artwork", min_visitors=1)])
    lines = promises(client)
    assert (
        "The operator of this platform sees STRP's totals per artwork in its reports once at "
        "least 1 visitor has given an opinion on an artwork." in lines
    )
    assert lines[-1] == (
        "A figure of 1 visitor shows what that one visitor chose, without saying who."
    )
    page = client.get("/festivals/strp").get_data(as_text=True)
    assert "never as what one person said" not in page


@pytest.mark.parametrize(
    ("board_min", "rules", "promise"),
    [
        (5, [permit("public", min_visitors=10)], "nobody sees a figure of fewer than 5 visitors"),
        (
            10,
            [permit("network", level="artwork", min_visitors=3)],
            "nobody sees a figure of fewer than 3 visitors",
        ),
        (1, [permit("public", min_visitors=10)], "A figure of 1 visitor shows"),
    ],
)
def test_the_smallest_figure_promised_is_the_real_one(client, dash_db, board_min, rules, promise):
    set_board_minimum(dash_db, board_min)
    set_policy(dash_db, "strp", rules)
    assert any(promise in line for line in promises(client))


def test_singular_and_plural_minimums(client, dash_db):
    set_board_minimum(dash_db, 1)
    assert "once at least 1 visitor has given an opinion on an artwork" in promises(client)[0]
    set_board_minimum(dash_db, 2)
    assert "once at least 2 visitors have given an opinion on an artwork" in promises(client)[0]
    assert "minstens 2 bezoekers" in promises(client, DUTCH)[0]


def test_the_policy_version_has_a_date_and_the_page_links_back_to_the_boards(client, dash_db):
    html = client.get("/festivals/strp").get_data(as_text=True)
    assert "STRP has set no sharing policy yet." in html
    set_policy(dash_db, "strp", [permit("public")])
    html = client.get("/festivals/strp").get_data(as_text=True)
    found = re.search(r"Sharing policy version 1, in force since ([^<]+)\.<", html)
    assert found, html
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2} CES?T", found.group(1))
    assert 'href="/boards/public"' in html and 'href="/boards/strp"' in html
    dutch = client.get("/festivals/strp", headers=DUTCH).get_data(as_text=True)
    assert re.search(r"Deelbeleid versie 1, van kracht sinds \d{1,2} [a-z]{3}\.? \d{4}", dutch)


def test_choices_and_station_states_are_in_words(client, dash_db):
    html = client.get("/festivals/strp", headers=DUTCH).get_data(as_text=True)
    assert "Vind ik leuk" in html and "nog niets van gehoord" in html
