"""Charts drawn on the server as SVG (no script, nothing fetched): privilege removed over time,
proposals by state, and one rollout's IAMErrorRate against its threshold during its bakes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from markupsafe import Markup

from alpha.app.console import PrivilegePoint, RolloutWatch, StageChecks

__all__ = ["error_rate_chart", "removed_chart", "states_chart"]

WIDTH, HEIGHT, PAD = 640, 220, 44
MAX_POINTS = 400
STATE_COLOURS = {
    "proposed": "#3b82f6",
    "approved": "#6366f1",
    "rejected": "#a855f7",
    "expired": "#9ca3af",
    "sandbox": "#eab308",
    "canary": "#f59e0b",
    "production": "#d97706",
    "succeeded": "#16a34a",
    "rolled_back": "#dc2626",
    "failed": "#991b1b",
}


def _svg(label: str, body: str, height: int = HEIGHT) -> Markup:
    return Markup(
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {WIDTH} '
        f'{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>{body}</svg>'
    )


def _x(at: datetime, start: datetime, span: float) -> float:
    return PAD + (WIDTH - 2 * PAD) * ((at - start).total_seconds() / span if span else 0.5)


def _y(value: float, top: float) -> float:
    return HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value / top if top else 0)


def _axes(start: datetime, end: datetime, top_label: str) -> str:
    base = HEIGHT - PAD
    return (
        f'<line class="axis" x1="{PAD}" y1="{base}" x2="{WIDTH - PAD}" y2="{base}"/>'
        f'<line class="axis" x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{base}"/>'
        f'<text x="{PAD}" y="{base + 16}">{start:%Y-%m-%d %H:%M}</text>'
        f'<text x="{WIDTH - PAD}" y="{base + 16}" text-anchor="end">{end:%Y-%m-%d %H:%M}</text>'
        f'<text x="{PAD - 4}" y="{PAD + 4}" text-anchor="end">{escape(top_label)}</text>'
        f'<text x="{PAD - 4}" y="{base}" text-anchor="end">0</text>'
    )


def _thinned(points: Sequence[PrivilegePoint]) -> list[PrivilegePoint]:
    """At most MAX_POINTS, the last always kept (cumulative series: thinning loses no total)."""
    if len(points) <= MAX_POINTS:
        return list(points)
    step = len(points) / MAX_POINTS
    return [points[int(i * step)] for i in range(MAX_POINTS)] + [points[-1]]


def removed_chart(points: Sequence[PrivilegePoint]) -> Markup:
    label = "Privilege removed over time (grants)"
    if not points:
        return _svg(label, '<text x="50%" y="50%" text-anchor="middle">no proposals yet</text>')
    shown = _thinned(points)
    start, end = shown[0].at, shown[-1].at
    span = (end - start).total_seconds()
    top = max(1, shown[-1].proposed, shown[-1].applied)
    body = _axes(start, end, f"{top:,}")
    for name, css in (("proposed", "series-proposed"), ("applied", "series-applied")):
        coords = " ".join(
            f"{_x(p.at, start, span):.1f},{_y(getattr(p, name), top):.1f}" for p in shown
        )
        body += f'<polyline class="{css}" fill="none" points="{coords}"/>'
    last = shown[-1]
    body += (
        f'<text class="legend series-proposed" x="{WIDTH - PAD}" y="{PAD - 20}" '
        f'text-anchor="end">proposed: {last.proposed:,} grants</text>'
        f'<text class="legend series-applied" x="{WIDTH - PAD}" y="{PAD - 6}" '
        f'text-anchor="end">applied (in production): {last.applied:,} grants</text>'
    )
    return _svg(label, body)


def states_chart(by_state: dict[str, int]) -> Markup:
    label = "Proposals by state"
    rows = [(state, count) for state, count in by_state.items() if count]
    if not rows:
        return _svg(label, '<text x="50%" y="50%" text-anchor="middle">no proposals yet</text>')
    height = 24 * len(rows) + 16
    top = max(count for _, count in rows)
    body = ""
    for index, (state, count) in enumerate(rows):
        y = 8 + 24 * index
        width = (WIDTH - 200) * count / top
        colour = STATE_COLOURS.get(state, "#6b7280")
        body += (
            f'<text x="110" y="{y + 14}" text-anchor="end">{escape(state)}</text>'
            f'<rect class="bar" data-state="{escape(state)}" x="120" y="{y}" '
            f'width="{max(width, 2):.1f}" height="18" fill="{colour}"/>'
            f'<text x="{126 + width:.1f}" y="{y + 14}">{count:,}</text>'
        )
    return _svg(label, body, height)


def error_rate_chart(watch: RolloutWatch) -> Markup:
    """Each watched stage's bake as a band; its checks as points at the time they were made;
    the rate of its latest check (the one the stage was judged on) across the band; the
    threshold as a dashed line. A point over the threshold is red."""
    label = f"IAMErrorRate of {watch.principal} during its bakes"
    checks = [(s, c) for s in watch.stages for c in s.checks]
    if not checks:
        return _svg(label, '<text x="50%" y="50%" text-anchor="middle">no checks yet</text>')
    moments = [c.at for _, c in checks]
    moments += [m for s in watch.stages for m in (s.bake_since, s.bake_until) if m is not None]
    start, end = min(moments), max(moments)
    span = (end - start).total_seconds()
    threshold = watch.max_error_rate if watch.max_error_rate is not None else 0.0
    top = max(0.05, threshold * 1.25, *(c.error_rate * 1.1 for _, c in checks))
    body = _axes(start, end, f"{top:.0%}")
    for stage in watch.stages:
        body += _bake_band(stage, start, span, top)
    y = _y(threshold, top)
    body += (
        f'<line class="threshold" x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - PAD}" y2="{y:.1f}"/>'
        f'<text class="threshold" x="{WIDTH - PAD}" y="{y - 4:.1f}" text-anchor="end">'
        f"{escape(_threshold_text(watch))}</text>"
    )
    for stage, check in checks:
        css = "check breach" if _breaches(watch, check.denied, check.error_rate) else "check"
        body += (
            f'<circle class="{css}" cx="{_x(check.at, start, span):.1f}" '
            f'cy="{_y(check.error_rate, top):.1f}" r="4"><title>{stage.stage.value} '
            f"{check.at:%Y-%m-%d %H:%M}Z: {check.denied} AccessDenied of {check.calls} call(s), "
            f"{check.error_rate:.2%}</title></circle>"
        )
    return _svg(label, body)


def _bake_band(stage: StageChecks, start: datetime, span: float, top: float) -> str:
    if stage.bake_since is None:
        return ""
    left = _x(stage.bake_since, start, span)
    right = _x(stage.bake_until or stage.bake_since, start, span)
    band = (
        f'<rect class="bake" x="{left:.1f}" y="{PAD}" width="{max(right - left, 1):.1f}" '
        f'height="{HEIGHT - 2 * PAD}"/>'
        f'<text class="bake" x="{left + 3:.1f}" y="{PAD + 10}">{stage.stage.value} bake</text>'
    )
    if stage.checks:
        y = _y(stage.checks[-1].error_rate, top)
        band += (
            f'<line class="series-rate" x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" '
            f'y2="{y:.1f}"/>'
        )
    return band


def _threshold_text(watch: RolloutWatch) -> str:
    parts = []
    if watch.max_new_denials is not None:
        parts.append(f"at most {watch.max_new_denials} AccessDenied")
    if watch.max_error_rate is not None:
        parts.append(f"at most {watch.max_error_rate:.2%}")
    return "threshold: " + (" and ".join(parts) or "none")


def _breaches(watch: RolloutWatch, denied: int, rate: float) -> bool:
    over_count = watch.max_new_denials is not None and denied > watch.max_new_denials
    over_rate = watch.max_error_rate is not None and rate > watch.max_error_rate
    return over_count or over_rate
