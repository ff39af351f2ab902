"""Inline SVG bar charts for the sequence statistics page, drawn on the server: no script, no library.

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` that says in words what the bars show, and the
page prints the same numbers in a table, so the figures never depend on seeing the picture.
"""

from dataclasses import dataclass
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 480
LABEL_WIDTH = 110
VALUE_WIDTH = 110
ROW = 30
BAR = 18
PLOT = WIDTH - LABEL_WIDTH - VALUE_WIDTH
AXIS = 20


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # what the bar's length shows, from 0 to `scale`
    text: str  # the number written after the bar
    low: float | None = None  # a confidence interval drawn as a whisker, same scale as `value`
    high: float | None = None
    highlight: bool = False


def _x(value: float, scale: float) -> float:
    return round(LABEL_WIDTH + PLOT * (max(0.0, min(value, scale)) / scale if scale else 0), 1)


def bar_chart(bars: list[Bar], *, title: str, description: str, scale: float, chart_id: str) -> SafeString:
    """Horizontal bars, one a row, with optional interval whiskers; `scale` is the value of a full-length bar."""
    height = ROW * len(bars) + 8 + AXIS
    rows = []
    for index, bar in enumerate(bars):
        y = 4 + index * ROW
        mid = y + ROW / 2
        end = _x(bar.value, scale)
        css = "chart__bar chart__bar--win" if bar.highlight else "chart__bar"
        parts = [
            format_html(
                '<text class="chart__label" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
                LABEL_WIDTH - 8,
                mid,
                bar.label,
            ),
            format_html(
                '<rect class="chart__track" x="{}" y="{}" width="{}" height="{}" rx="3"/>',
                LABEL_WIDTH,
                mid - BAR / 2,
                PLOT,
                BAR,
            ),
            format_html(
                '<rect class="{}" x="{}" y="{}" width="{}" height="{}" rx="3"/>',
                css,
                LABEL_WIDTH,
                mid - BAR / 2,
                round(end - LABEL_WIDTH, 1),
                BAR,
            ),
        ]
        if bar.low is not None and bar.high is not None:
            low, high = _x(bar.low, scale), _x(bar.high, scale)
            parts.append(
                format_html(
                    '<path class="chart__interval" d="M{} {}H{}M{} {}V{}M{} {}V{}"/>',
                    low,
                    mid,
                    high,
                    low,
                    mid - 5,
                    mid + 5,
                    high,
                    mid - 5,
                    mid + 5,
                )
            )
        parts.append(
            format_html(
                '<text class="chart__value" x="{}" y="{}" dominant-baseline="middle">{}</text>',
                LABEL_WIDTH + PLOT + 8,
                mid,
                bar.text,
            )
        )
        rows.append(mark_safe("".join(parts)))
    # The axis: the share of the full bar, in per cent, under the plot.
    base = ROW * len(bars) + 8
    ticks = [
        format_html(
            '<line class="chart__axis" x1="{}" y1="{}" x2="{}" y2="{}"/>', LABEL_WIDTH, base, LABEL_WIDTH + PLOT, base
        )
    ]
    for fraction in (0, 0.5, 1):
        x = round(LABEL_WIDTH + PLOT * fraction, 1)
        ticks.append(
            format_html(
                '<text class="chart__tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                x,
                base + 14,
                percent(scale * fraction),
            )
        )
    rows.append(mark_safe("".join(ticks)))
    body = format_html_join("", "{}", ((row,) for row in rows))
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img" aria-labelledby="{}-title {}-desc" '
        'preserveAspectRatio="xMinYMin meet"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        WIDTH,
        height,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        body,
    )


def percent(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.1f} %".replace(".0 %", " %")


FUNNEL = (("sent", "Sent"), ("opened", "Opened"), ("clicked", "Clicked"), ("replied", "Replied"))
TESTS = {"z": "two-proportion z-test", "fisher": "Fisher's exact test"}


def funnel_chart(step: dict[str, Any], *, title: str, chart_id: str) -> SafeString:
    """Sent → opened → clicked → replied for one message step, each bar as a share of those sent."""
    sent = step.get("sent", 0) or 0
    bars = []
    words = []
    for key, label in FUNNEL:
        count = step.get(key, 0) or 0
        share = count / sent if sent else 0.0
        text = f"{count:,}" if key == "sent" else f"{count:,} ({percent(share)})"
        bars.append(Bar(label=label, value=share if key != "sent" else (1.0 if sent else 0.0), text=text))
        words.append(f"{label.lower()} {text}")
    return bar_chart(bars, title=title, description="; ".join(words) + ".", scale=1.0, chart_id=chart_id)


def variant_chart(
    variants: list[dict[str, Any]], metric: str, *, title: str, chart_id: str, winner: str | None
) -> SafeString:
    """One metric's rate per variant, with its 95 % interval as a whisker; the winner, if any, highlighted."""
    rates = [v.get(f"{metric}_rate", 0.0) or 0.0 for v in variants]
    highs = [(v.get(f"{metric}_interval") or [0, 0])[1] for v in variants]
    # The axis ends at the highest interval (rounded up to 10 %), so small rates are still readable.
    top = max([*rates, *highs, 0.1])
    scale = min(1.0, (int(top * 10) + 1) / 10)
    bars, words = [], []
    for variant, rate in zip(variants, rates, strict=True):
        low, high = variant.get(f"{metric}_interval") or [None, None]
        text = f"{percent(rate)} of {variant.get('sent', 0):,}"
        bars.append(
            Bar(
                label=f"Variant {variant['label']}",
                value=rate,
                text=text,
                low=low,
                high=high,
                highlight=variant["label"] == winner,
            )
        )
        interval = f", 95 % interval {percent(low)} to {percent(high)}" if low is not None else ""
        words.append(f"variant {variant['label']} {text}{interval}")
    description = "; ".join(words) + "."
    return bar_chart(bars, title=title, description=description, scale=scale, chart_id=chart_id)
