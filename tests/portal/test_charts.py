"""Server-side SVG charts: figures, limit lines, and every label escaped."""

from __future__ import annotations

import re

from lakemesh.portal.charts import Series, bar_chart, gauge, human_bytes

HOSTILE = "<script>alert(1)</script>"


def test_bars_carry_their_values_and_labels_escaped() -> None:
    chart = str(
        bar_chart(
            chart_id="c1",
            title=HOSTILE,
            labels=["a", HOSTILE],
            series=[Series("queries", [3, 7]), Series(HOSTILE, [0, 1])],
            limit=8,
        )
    )
    assert "<script" not in chart
    assert chart.count("&lt;script&gt;") >= 4  # title, label, series name, table
    heights = [
        float(h)
        for h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', chart)
    ]
    assert heights[:4] == sorted(heights[:4], key=lambda h: h) or max(heights[:4]) > 0
    assert 'aria-labelledby="c1-title"' in chart
    assert "limit 8" in chart
    assert "<details" in chart
    assert "<td>7</td>" in chart


def test_the_gauge_against_a_limit_and_without_one() -> None:
    over = str(gauge(chart_id="g", title="month", used=3 * 1024**2, limit=2 * 1024**2))
    assert "3.0 MiB of 2.0 MiB (150%)" in over
    assert 'fill="#b00020"' in over
    free = str(gauge(chart_id="g", title="month", used=0, limit=None))
    assert "0 B (no monthly limit)" in free
    assert human_bytes(1536) == "1.5 KiB"
