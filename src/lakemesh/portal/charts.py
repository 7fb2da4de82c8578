"""Charts drawn on the server as SVG: no script, no other origin, every label escaped.

A chart is an ``<svg role="img">`` with a title, bars carrying their value in a ``<title>``
(the browser's tooltip), and the same figures in a table after it, for screen readers and for
people who would rather read. Colours are presentation attributes, which a Content-Security-Policy
without ``'unsafe-inline'`` styles still allows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from lakemesh.audit.activity import DailyActivity
from lakemesh.model.statuses import SubscriptionStatus
from lakemesh.query.usage import WorkgroupUsage

PALETTE = ("#2f6db5", "#c0392b", "#2e8b57", "#8e44ad", "#d35400")
"""Series colours, in order (contrast ≥ 3:1 against white, as WCAG asks of graphics)."""

WIDTH, HEIGHT = 640, 220
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 64, 48, 12


@dataclass(frozen=True)
class Series:
    """One named row of figures, one per label of the chart."""

    name: str
    values: Sequence[float]


def human_bytes(value: float) -> str:
    """``1536`` -> ``1.5 KiB``.

    >>> human_bytes(0), human_bytes(1536), human_bytes(3 * 1024**3)
    ('0 B', '1.5 KiB', '3.0 GiB')
    """
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def plain_number(value: float) -> str:
    """``1234.0`` -> ``1,234``."""
    return f"{value:,.0f}"


def _nice_top(value: float) -> float:
    """The smallest of 1, 2, 5 times 10^k at or above ``value`` (the axis' top)."""
    if value <= 0:
        return 1.0
    scale = 1.0
    while scale * 10 <= value:
        scale *= 10
    while scale > value:
        scale /= 10
    for step in (1, 2, 5, 10):
        if step * scale >= value:
            return step * scale
    return 10 * scale


def bar_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    format_value: Callable[[float], str] = plain_number,
    limit: float | None = None,
    limit_label: str = "limit",
) -> Markup:
    """Bars per label, side by side per series, with an optional horizontal limit line.

    ``chart_id`` must be unique in the page (it names the title for ``aria-labelledby``).
    """
    peak = max([0.0, *(v for s in series for v in s.values), *([limit] if limit else [])])
    top = _nice_top(peak)
    plot_width = WIDTH - MARGIN_LEFT - 8
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    base = MARGIN_TOP + plot_height
    slot = plot_width / max(1, len(labels))
    bar = max(1.0, slot * 0.8 / max(1, len(series)))
    title_id = f"{chart_id}-title"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" aria-labelledby="{escape(title_id)}">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
    ]
    for fraction in (0, 0.5, 1):
        y = base - fraction * plot_height
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#d0d0d0" stroke-width="1"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#333">{escape(format_value(top * fraction))}</text>'
        )
    every = max(1, len(labels) // 12)  # at most about twelve labels under the axis
    for i, label in enumerate(labels):
        x0 = MARGIN_LEFT + i * slot + slot * 0.1
        for k, one in enumerate(series):
            value = float(one.values[i]) if i < len(one.values) else 0.0
            height = plot_height * value / top
            parts.append(
                f'<rect x="{x0 + k * bar:.1f}" y="{base - height:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{PALETTE[k % len(PALETTE)]}">'
                f"<title>{escape(one.name)}, {escape(label)}: {escape(format_value(value))}"
                "</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text x="{MARGIN_LEFT + (i + 0.5) * slot:.1f}" y="{base + 16}" '
                f'text-anchor="middle" font-size="11" fill="#333">{escape(label)}</text>'
            )
    if limit:
        y = base - plot_height * limit / top
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#b00020" stroke-width="2" stroke-dasharray="6 4"/>'
            f'<text x="{WIDTH - 10}" y="{y - 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#b00020">{escape(limit_label)} {escape(format_value(limit))}</text>'
        )
    for k, one in enumerate(series):
        x = MARGIN_LEFT + k * 160
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 16}" width="10" height="10" '
            f'fill="{PALETTE[k % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{HEIGHT - 7}" font-size="11" fill="#333">'
            f"{escape(one.name)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts)) + _data_table(title, labels, series, format_value)


def _data_table(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    format_value: Callable[[float], str],
) -> Markup:
    """The chart's figures as a table (collapsed under a ``details`` element)."""
    head = "".join(f'<th scope="col">{escape(s.name)}</th>' for s in series)
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th>'
        + "".join(
            f"<td>{escape(format_value(s.values[i] if i < len(s.values) else 0))}</td>"
            for s in series
        )
        + "</tr>"
        for i, label in enumerate(labels)
    )
    return Markup(
        f'<details class="chart-data"><summary>Figures of “{escape(title)}”</summary>'
        f'<table><thead><tr><th scope="col">—</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></details>"
    )


def gauge(
    *,
    chart_id: str,
    title: str,
    used: float,
    limit: float | None,
    format_value: Callable[[float], str] = human_bytes,
) -> Markup:
    """A horizontal bar: ``used`` against ``limit`` (no limit: the bar is drawn against itself)."""
    width, height = 480, 40
    share = min(1.0, used / limit) if limit else (1.0 if used else 0.0)
    colour = "#b00020" if limit and used >= limit else PALETTE[0]
    text = (
        f"{format_value(used)} of {format_value(limit)} ({100 * used / limit:.0f}%)"
        if limit
        else f"{format_value(used)} (no monthly limit)"
    )
    title_id = f"{chart_id}-title"
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart gauge" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-labelledby="{escape(title_id)}">'
        f'<title id="{escape(title_id)}">{escape(title)}: {escape(text)}</title>'
        f'<rect x="0" y="4" width="{width}" height="18" fill="#e6e6e6"/>'
        f'<rect x="0" y="4" width="{width * share:.1f}" height="18" fill="{colour}"/>'
        f'<text x="0" y="36" font-size="12" fill="#333">{escape(text)}</text></svg>'
    )


def usage_chart(found: WorkgroupUsage) -> Markup:
    """Bytes scanned in a workgroup per day (by one principal, or by every one), with the month
    so far against the workgroup's monthly limit (which counts every principal's)."""
    chart_id = f"usage-{found.workgroup}"
    whose = (
        f"Workgroup {found.workgroup}, every principal"
        if found.principal is None
        else f"Workgroup {found.workgroup}, {found.principal}'s queries"
    )
    return gauge(
        chart_id=f"{chart_id}-month",
        title=f"{whose}: bytes scanned this month (the monthly limit counts every principal's)",
        used=found.bytes_this_month,
        limit=found.max_bytes_per_month,
    ) + bar_chart(
        chart_id=chart_id,
        title=f"{whose}: bytes scanned per day",
        labels=[day.strftime("%m-%d") for day, _ in found.daily],
        series=[Series("bytes scanned", [n for _, n in found.daily])],
        format_value=human_bytes,
    )


def activity_chart(days: Sequence[DailyActivity]) -> Markup:
    """Queries and denials per day (the audit view)."""
    return bar_chart(
        chart_id="activity",
        title="Queries and denials per day",
        labels=[d.day.strftime("%m-%d") for d in days],
        series=[
            Series("queries", [d.queries for d in days]),
            Series("denials", [d.denials for d in days]),
        ],
    )


def subscriptions_chart(per_product: Mapping[str, Mapping[str, int]]) -> Markup:
    """Subscriptions per product, by status (the producer inbox)."""
    names = sorted(per_product)
    statuses = [str(status) for status in SubscriptionStatus]
    return bar_chart(
        chart_id="subscriptions",
        title="Subscriptions per product",
        labels=names,
        series=[
            Series(status, [per_product[name].get(status, 0) for name in names])
            for status in statuses
        ],
    )
