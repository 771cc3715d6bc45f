"""Tiny inline-SVG plots (no JavaScript, no external files): time series with a band, horizontal
bars, an incident timeline. Every text is XML-escaped.

Examples
--------
>>> svg = line_chart([0, 3600, 7200], [Line([1, 5, 2], "#000", "observed")], title="<b>")
>>> svg.startswith("<svg") and "&lt;b&gt;" in svg and "<b>" not in svg
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape

FONT = "font-family='system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif'"
SEVERITY_COLORS = {"info": "#8aa1b4", "low": "#e3b23c", "medium": "#ef8a3c",
                   "high": "#d64545", "critical": "#8c1c3f"}
GRID = "#e6e9ee"
#: Least plot height: headless Chromium clips screenshots of windows under ~140 px high.
MIN_HEIGHT = 160
AXIS = "#5b6573"


@dataclass
class Line:
    """One series of a :func:`line_chart`."""

    values: Sequence[float | None]
    color: str
    label: str
    width: float = 1.6
    dash: str = ""


@dataclass
class Span:
    """A shaded time span (an incident) on a :func:`line_chart`."""

    t0: float
    t1: float
    color: str
    label: str


def _e(s: object) -> str:
    return escape(str(s), quote=True)


def _nice(hi: float) -> tuple[float, list[float]]:
    """A round upper bound and ticks for [0, hi]."""
    if hi <= 0 or not math.isfinite(hi):
        hi = 1.0
    raw = hi / 4
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    top = step * math.ceil(hi / step)
    n = int(round(top / step))
    return top, [i * step for i in range(n + 1)]


def _fmt_num(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:g}" if abs(v) >= 1 else f"{v:.2g}"


def time_ticks(t0: float, t1: float, target: int = 7) -> list[tuple[float, str]]:
    """Round UTC tick times between ``t0`` and ``t1`` with labels."""
    span = max(t1 - t0, 1.0)
    steps = [60, 300, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400,
             2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400]
    step = next((s for s in steps if span / s <= target), steps[-1])
    first = math.ceil(t0 / step) * step
    ticks = []
    t = first
    while t <= t1:
        d = datetime.fromtimestamp(t, tz=timezone.utc)
        if step >= 86400 or (d.hour == 0 and d.minute == 0):
            label = d.strftime("%b %d")
        else:
            label = d.strftime("%H:%M")
        ticks.append((t, label))
        t += step
    return ticks


def _path(xs: Sequence[float], ys: Sequence[float | None]) -> str:
    parts, pen = [], False
    for x, y in zip(xs, ys):
        if y is None or not math.isfinite(y):
            pen = False
            continue
        parts.append(f"{'L' if pen else 'M'}{x:.1f},{y:.1f}")
        pen = True
    return "".join(parts)


def _ok(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def _runs(xs: Sequence[float], lo: Sequence[float | None], up: Sequence[float | None]
          ) -> list[list[tuple[float, float, float]]]:
    runs: list[list[tuple[float, float, float]]] = [[]]
    for xx, a, b in zip(xs, lo, up):
        if _ok(a) and _ok(b):
            runs[-1].append((xx, a, b))  # type: ignore[arg-type]
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def line_chart(
    t: Sequence[float], lines: Sequence[Line], *, band: tuple[Sequence[float], Sequence[float]]
    | None = None, band_label: str = "expected band", spans: Sequence[Span] = (),
    title: str = "", y_label: str = "", width: int = 920, height: int = 260,
    y_max: float | None = None, percent: bool = False,
) -> str:
    """A time-series chart: lines over an optional band, incident spans shaded behind."""
    left, right, top, bottom = 56, 14, 34, 40
    pw, ph = width - left - right, height - top - bottom
    t0, t1 = (t[0], t[-1]) if len(t) else (0.0, 1.0)
    if t1 <= t0:
        t1 = t0 + 1
    finite = [v for ln in lines for v in ln.values if v is not None and math.isfinite(v)]
    if band:
        finite += [v for v in band[1] if v is not None and math.isfinite(v)]
    hi, ticks = _nice(y_max if y_max is not None else (max(finite) if finite else 1.0))

    def x(v: float) -> float:
        return left + (v - t0) / (t1 - t0) * pw

    def y(v: float) -> float:
        return top + ph - min(max(v, 0.0), hi) / hi * ph

    out = [f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' "
           f"width='{width}' height='{height}' role='img' aria-label='{_e(title)}' {FONT} "
           f"font-size='12'>",
           f"<rect width='{width}' height='{height}' fill='#fff'/>",
           f"<text x='{left}' y='20' font-size='14' font-weight='600' fill='#1f2933'>"
           f"{_e(title)}</text>"]
    for s in spans:
        xa, xb = x(max(s.t0, t0)), x(min(s.t1, t1))
        out.append(f"<rect x='{xa:.1f}' y='{top}' width='{max(xb - xa, 2):.1f}' height='{ph}' "
                   f"fill='{s.color}' fill-opacity='0.16'><title>{_e(s.label)}</title></rect>")
    for v in ticks:
        yy = y(v)
        lab = f"{v:.0%}" if percent else _fmt_num(v)
        out.append(f"<line x1='{left}' x2='{left + pw}' y1='{yy:.1f}' y2='{yy:.1f}' "
                   f"stroke='{GRID}'/><text x='{left - 6}' y='{yy + 4:.1f}' text-anchor='end' "
                   f"fill='{AXIS}'>{lab}</text>")
    for tv, lab in time_ticks(t0, t1):
        xx = x(tv)
        out.append(f"<line x1='{xx:.1f}' x2='{xx:.1f}' y1='{top + ph}' y2='{top + ph + 4}' "
                   f"stroke='{AXIS}'/><text x='{xx:.1f}' y='{top + ph + 17}' "
                   f"text-anchor='middle' fill='{AXIS}'>{_e(lab)}</text>")
    out.append(f"<line x1='{left}' x2='{left + pw}' y1='{top + ph}' y2='{top + ph}' "
               f"stroke='{AXIS}'/>")
    if y_label:
        out.append(f"<text transform='translate(14,{top + ph / 2:.0f}) rotate(-90)' "
                   f"text-anchor='middle' fill='{AXIS}'>{_e(y_label)}</text>")
    xs = [x(v) for v in t]
    if band and xs:
        for run in _runs(xs, *band):  # one polygon per stretch where the band is known
            pts = [f"{xx:.1f},{y(u):.1f}" for xx, _, u in run]
            pts += [f"{xx:.1f},{y(lo):.1f}" for xx, lo, _ in reversed(run)]
            out.append(f"<polygon points='{' '.join(pts)}' fill='#5b8def' fill-opacity='0.18' "
                       f"stroke='none'><title>{_e(band_label)}</title></polygon>")
    for ln in lines:
        d = _path(xs, [None if v is None else y(v) for v in ln.values])
        if d:
            dash = f" stroke-dasharray='{ln.dash}'" if ln.dash else ""
            out.append(f"<path d='{d}' fill='none' stroke='{ln.color}' "
                       f"stroke-width='{ln.width}' stroke-linejoin='round'{dash}>"
                       f"<title>{_e(ln.label)}</title></path>")
    # legend
    lx = left + pw
    items = [(ln.label, ln.color, ln.dash) for ln in reversed(lines)]
    if band:
        items.append((band_label, "#5b8def", "band"))
    for label, color, dash in items:
        w = 7 * len(label) + 26
        lx -= w
        if dash == "band":
            out.append(f"<rect x='{lx:.0f}' y='12' width='16' height='9' fill='{color}' "
                       f"fill-opacity='0.25'/>")
        else:
            da = f" stroke-dasharray='{dash}'" if dash else ""
            out.append(f"<line x1='{lx:.0f}' x2='{lx + 16:.0f}' y1='16' y2='16' stroke='{color}' "
                       f"stroke-width='2'{da}/>")
        out.append(f"<text x='{lx + 20:.0f}' y='20' fill='{AXIS}'>{_e(label)}</text>")
    out.append("</svg>")
    return "".join(out)


def _count(v: float) -> str:
    """A bar's value: a count in full with thousands separators (``{:g}`` turns 1,234,567
    into 1.23457e+06), else three significant digits.

    >>> _count(1234567), _count(12.0), _count(0.256)
    ('1,234,567', '12', '0.256')
    """
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.3g}"


def bar_chart(items: Sequence[tuple[str, float]], *, title: str = "", width: int = 440,
              color: str = "#5b8def", bar_h: int = 18) -> str:
    """Horizontal bars (label, value), largest first as given.

    >>> svg = bar_chart([("acme", 1234567), ("leak", 12)])
    >>> ">1,234,567</text>" in svg and ">12</text>" in svg and "e+06" not in svg
    True
    """
    left, top = 130, 32
    height = max(top + bar_h * max(len(items), 1) + 14, MIN_HEIGHT)
    hi = max((v for _, v in items), default=1) or 1
    pw = width - left - 50
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' "
           f"width='{width}' height='{height}' role='img' aria-label='{_e(title)}' {FONT} "
           f"font-size='12'>", f"<rect width='{width}' height='{height}' fill='#fff'/>",
           f"<text x='8' y='20' font-size='14' font-weight='600' fill='#1f2933'>"
           f"{_e(title)}</text>"]
    if not items:
        out.append(f"<text x='8' y='{top + 12}' fill='{AXIS}'>no terms</text>")
    for i, (label, v) in enumerate(items):
        yy = top + i * bar_h
        w = max(v / hi * pw, 1)
        lab = label if len(label) <= 18 else label[:17] + "…"
        out.append(f"<text x='{left - 6}' y='{yy + bar_h - 5}' text-anchor='end' "
                   f"fill='#1f2933'>{_e(lab)}</text><rect x='{left}' y='{yy + 2}' "
                   f"width='{w:.1f}' height='{bar_h - 5}' rx='2' fill='{color}'>"
                   f"<title>{_e(label)}: {_count(v)}</title></rect><text x='{left + w + 4:.1f}' "
                   f"y='{yy + bar_h - 5}' fill='{AXIS}'>{_count(v)}</text>")
    out.append("</svg>")
    return "".join(out)


def timeline(brands: Sequence[str], incidents: Sequence[dict], t0: float, t1: float, *,
             title: str = "Incident timeline", width: int = 920) -> str:
    """One lane per brand, one bar per incident coloured by severity (id in the tooltip)."""
    from pipeline.replay.summary import _ts

    left, top, lane = 120, 34, 26
    pw = width - left - 14
    height = max(top + lane * max(len(brands), 1) + 44, MIN_HEIGHT)
    if t1 <= t0:
        t1 = t0 + 1

    def x(v: float) -> float:
        return left + (min(max(v, t0), t1) - t0) / (t1 - t0) * pw

    out = [f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' "
           f"width='{width}' height='{height}' role='img' aria-label='{_e(title)}' {FONT} "
           f"font-size='12'>", f"<rect width='{width}' height='{height}' fill='#fff'/>",
           f"<text x='8' y='20' font-size='14' font-weight='600' fill='#1f2933'>"
           f"{_e(title)}</text>"]
    row = {b: i for i, b in enumerate(brands)}
    for b, i in row.items():
        yy = top + i * lane
        fill = "#f6f8fa" if i % 2 == 0 else "#fff"
        out.append(f"<rect x='{left}' y='{yy}' width='{pw}' height='{lane}' fill='{fill}'/>"
                   f"<text x='{left - 8}' y='{yy + 17}' text-anchor='end' fill='#1f2933'>"
                   f"{_e(b)}</text>")
    bottom = top + lane * len(brands)
    for tv, lab in time_ticks(t0, t1, target=9):
        xx = x(tv)
        out.append(f"<line x1='{xx:.1f}' x2='{xx:.1f}' y1='{top}' y2='{bottom + 4}' "
                   f"stroke='{GRID}'/><text x='{xx:.1f}' y='{bottom + 17}' text-anchor='middle' "
                   f"fill='{AXIS}'>{_e(lab)}</text>")
    for inc in incidents:
        if inc["brand"] not in row:
            continue
        yy = top + row[inc["brand"]] * lane
        a = _ts(inc["opened_at"])
        b = _ts(inc["resolved_at"] or inc["last_update"])
        xa, xb = x(a), x(b)
        color = SEVERITY_COLORS.get(inc["severity"], "#888")
        out.append(f"<a href='#{_e(_anchor(inc['id']))}'><rect x='{xa:.1f}' y='{yy + 4}' "
                   f"width='{max(xb - xa, 4):.1f}' height='{lane - 8}' rx='3' fill='{color}'>"
                   f"<title>{_e(inc['id'])}: {_e('→'.join(inc['kinds']))}, "
                   f"{_e(inc['severity'])}</title></rect></a>")
    lx = left
    for sev, color in SEVERITY_COLORS.items():
        out.append(f"<rect x='{lx}' y='{bottom + 26}' width='12' height='10' rx='2' "
                   f"fill='{color}'/><text x='{lx + 16}' y='{bottom + 35}' fill='{AXIS}'>"
                   f"{sev}</text>")
        lx += 80
    out.append("</svg>")
    return "".join(out)


def _anchor(incident_id: str) -> str:
    return "inc-" + "".join(c if c.isalnum() else "-" for c in incident_id)
