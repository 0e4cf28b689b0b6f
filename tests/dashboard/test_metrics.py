"""The Prometheus text format."""

from dashboard.metrics import exposition


def test_counters_gauges_and_histograms_get_one_type_line_per_family():
    text = exposition(
        [
            ("tapshare_hub_opinions_total", {"festival": "strp"}, 3.0),
            ("tapshare_hub_batch_size_bucket", {"le": "1"}, 2.0),
            ("tapshare_hub_batch_size_bucket", {"le": "+Inf"}, 5.0),
            ("tapshare_hub_batch_size_sum", {}, 9.0),
            ("tapshare_hub_batch_size_count", {}, 5.0),
            ("tapshare_dashboard_open_streams", {}, 0.5),
            ("odd name", {"why": 'a "quote"\n'}, 1.0),
        ],
        {"tapshare_dashboard_open_streams": "Open streams."},
    )
    lines = text.splitlines()
    assert "# TYPE tapshare_hub_opinions_total counter" in lines
    assert 'tapshare_hub_opinions_total{festival="strp"} 3' in lines
    assert lines.count("# TYPE tapshare_hub_batch_size histogram") == 1
    assert 'tapshare_hub_batch_size_bucket{le="+Inf"} 5' in lines
    assert "tapshare_hub_batch_size_count 5" in lines
    assert "# HELP tapshare_dashboard_open_streams Open streams." in lines
    assert "tapshare_dashboard_open_streams 0.5" in lines
    assert 'odd_name{why="a \\"quote\\"\\n"} 1' in lines
    assert text.endswith("\n")
