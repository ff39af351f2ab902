"""Bar charts drawn as inline SVG on the server: no script, no external library, and a text alternative.

The SVG is `role="img"` with a `<title>` and `<desc>` that read out every bar, and the page shows the same numbers
in a table, so the chart adds nothing a screen reader misses.
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 110
CHART_WIDTH = 480
COUNT_WIDTH = 60


def bar_chart(*, chart_id: str, title: str, bars: list[tuple[str, int]]) -> SafeString:
    """A horizontal bar chart, one bar per (label, count); bars scale to the largest count."""
    total = sum(count for _, count in bars)
    largest = max((count for _, count in bars), default=0) or 1
    plot = CHART_WIDTH - LABEL_WIDTH - COUNT_WIDTH
    height = len(bars) * (BAR_HEIGHT + GAP) + GAP
    desc = "; ".join(f"{label}: {count}" for label, count in bars) + f". {total} in all."
    rows = []
    for index, (label, count) in enumerate(bars):
        y = GAP + index * (BAR_HEIGHT + GAP)
        width = round(plot * count / largest) if count else 0
        rows.append(
            (
                LABEL_WIDTH - 8,
                y + BAR_HEIGHT / 2,
                label if len(label) <= 16 else label[:15] + "…",
                LABEL_WIDTH,
                y,
                max(width, 1) if count else 0,
                BAR_HEIGHT,
                LABEL_WIDTH + width + 6,
                y + BAR_HEIGHT / 2,
                count,
            )
        )
    body = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" class="chart__label">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" rx="3" class="chart__bar"></rect>'
        '<text x="{}" y="{}" dominant-baseline="middle" class="chart__value">{}</text>',
        rows,
    )
    return format_html(
        '<svg class="chart" role="img" aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" '
        'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        id=chart_id,
        w=CHART_WIDTH,
        h=height,
        title=title,
        desc=desc,
        body=body,
    )
