"""``/metrics``: the Prometheus text format through prometheus-client, and its bearer token."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from dashboard import create_app
from dashboard.metrics import hub_families, token_accepted
from hub import counter_store, metrics
from storage import connect, immediate
from tapshare.cli import cli
from tests.harness.mqtt import wait_for

TOKEN = "s3cret-token-for-the-scraper"


def _hub_batch(db_path) -> None:
    """Counters as the hub's writer adds them with one batch of seven messages."""
    counters = metrics.new_counters()
    metrics.received(counters, "opinion", 7)
    metrics.observe(counters, metrics.BATCH_SIZE, metrics.BATCH_SIZE_BUCKETS, 7)
    metrics.observe(counters, metrics.COMMIT_SECONDS, metrics.COMMIT_SECONDS_BUCKETS, 0.003)
    counters[(metrics.STORED, metrics.NO_LABELS)] += 6
    counters[(metrics.REJECTED, metrics.labels(reason="bad_signature"))] += 1
    db = connect(db_path)
    with immediate(db):
        counter_store.add_counters(db, counters)
    db.close()


def _lines(client, **headers) -> list[str]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return response.get_data(as_text=True).splitlines()


def test_every_metric_keeps_its_name_and_type(client, dash_db):
    _hub_batch(dash_db)
    client.get("/api/v1/boards/public")
    client.get("/boards/public")
    lines = _lines(client)
    assert "# TYPE tapshare_dashboard_board_requests_total counter" in lines
    assert 'tapshare_dashboard_board_requests_total{kind="api"} 1.0' in lines
    assert 'tapshare_dashboard_board_requests_total{kind="page"} 1.0' in lines
    assert "# TYPE tapshare_dashboard_open_streams gauge" in lines
    assert "tapshare_dashboard_open_streams 0.0" in lines
    assert "# TYPE tapshare_hub_opinions_stored_total counter" in lines
    assert "tapshare_hub_opinions_stored_total 6.0" in lines
    assert 'tapshare_hub_messages_received_total{kind="opinion"} 7.0' in lines
    assert 'tapshare_hub_rejected_total{reason="bad_signature"} 1.0' in lines
    assert lines.count("# TYPE tapshare_hub_batch_size histogram") == 1
    assert 'tapshare_hub_batch_size_bucket{le="5"} 0.0' not in lines  # zero buckets unstored
    assert 'tapshare_hub_batch_size_bucket{le="10"} 1.0' in lines
    assert "tapshare_hub_batch_size_sum 7.0" in lines
    assert "tapshare_hub_commit_seconds_count 1.0" in lines
    assert "# HELP tapshare_hub_opinions_stored_total Opinions stored." in lines
    # The process collector, for free: CPU, memory, open files.
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds"):
        assert any(line.startswith(name + " ") for line in lines), name
    # No _created series beside the counters.
    assert not any("_created" in line for line in lines)


def test_histogram_buckets_come_in_increasing_order():
    (family,) = hub_families(
        [
            ("tapshare_hub_batch_size_bucket", {"le": "+Inf"}, 3.0),
            ("tapshare_hub_batch_size_bucket", {"le": "10"}, 2.0),
            ("tapshare_hub_batch_size_sum", {}, 12.0),
            ("tapshare_hub_batch_size_bucket", {"le": "2"}, 1.0),
            ("tapshare_hub_batch_size_count", {}, 3.0),
        ]
    )
    assert family.type == "histogram"
    names = [(s.name, s.labels.get("le")) for s in family.samples]
    assert names[:3] == [
        ("tapshare_hub_batch_size_bucket", "2"),
        ("tapshare_hub_batch_size_bucket", "10"),
        ("tapshare_hub_batch_size_bucket", "+Inf"),
    ]
    assert sorted(names[3:]) == [
        ("tapshare_hub_batch_size_count", None),
        ("tapshare_hub_batch_size_sum", None),
    ]


def test_two_apps_never_share_counts(dash_db):
    first = create_app(dash_db, start_streams=False).test_client()
    second = create_app(dash_db, start_streams=False).test_client()
    first.get("/api/v1/boards/public")
    assert not any("board_requests_total{" in line for line in _lines(second))


def test_with_a_token_metrics_need_it(dash_db):
    _hub_batch(dash_db)
    client = create_app(dash_db, start_streams=False, metrics_token=TOKEN).test_client()
    refused = [
        {},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer "},
        {"Authorization": f"Bearer {TOKEN} {TOKEN}"},
    ]
    for headers in refused:
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="tapshare metrics"'
        assert "tapshare_hub" not in response.get_data(as_text=True)
    lines = _lines(client, Authorization=f"Bearer {TOKEN}")
    assert "tapshare_hub_opinions_stored_total 6.0" in lines
    assert any(
        line.startswith("tapshare_hub_") for line in _lines(client, Authorization=f"bearer {TOKEN}")
    )
    # The token guards /metrics only: boards and the API answer as before.
    assert client.get("/api/v1/ping").status_code == 200


def test_the_token_comparison():
    assert token_accepted(None, None) and token_accepted(None, "Bearer anything")
    assert token_accepted("abc", "Bearer abc")
    assert not token_accepted("abc", None)
    assert not token_accepted("abc", "Bearer abcd")
    assert not token_accepted("abc", "Bearer ab")
    assert not token_accepted("abc", "Token abc")


def test_bad_token_settings_are_one_line_and_exit_2(runner, dash_db, tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    spaced = tmp_path / "spaced"
    spaced.write_text("two words\n")
    cases = [
        (["--metrics-token-file", str(tmp_path / "missing")], {}, "cannot read"),
        (["--metrics-token-file", str(empty)], {}, "must hold one token"),
        (["--metrics-token-file", str(spaced)], {}, "must hold one token"),
        (["--metrics-token-file", str(tmp_path)], {}, "directory"),
        ([], {"TAPSHARE_METRICS_TOKEN": "  "}, "TAPSHARE_METRICS_TOKEN must hold one token"),
    ]
    for args, env, message in cases:
        result = runner.invoke(
            cli, ["--db", str(dash_db), "dashboard", "--port", "0", *args], env=env
        )
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, result.output


@pytest.mark.parametrize("how", ["file", "env"])
def test_the_dashboard_command_guards_metrics_with_the_token(dash_db, tmp_path, how):
    token_file = tmp_path / "metrics-token"
    token_file.write_text(TOKEN + "\n")
    env = {k: v for k, v in os.environ.items() if k != "TAPSHARE_METRICS_TOKEN"}
    env["TAPSHARE_DB"] = str(dash_db)
    argv = [sys.executable, "-m", "tapshare", "dashboard", "--port", "0", "--threads", "60"]
    if how == "file":
        argv += ["--metrics-token-file", str(token_file)]
    else:
        env["TAPSHARE_METRICS_TOKEN"] = TOKEN
    process = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        url = line.split(" on ")[1].split()[0] + "metrics"

        def status(headers: dict[str, str]) -> int:
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(url, headers=headers), timeout=5
                ) as r:
                    return r.status
            except urllib.error.HTTPError as error:
                return error.code

        assert wait_for(lambda: status({}) == 401, timeout=10)
        assert status({"Authorization": f"Bearer {TOKEN}"}) == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
