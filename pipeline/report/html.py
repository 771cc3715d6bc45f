"""``veille report``: one self-contained HTML file from a replay's output directory.

No JavaScript, no external resource: inline CSS and inline SVG plots (:mod:`pipeline.report.svg`),
so it opens offline, in a mail client's viewer, or attached to a ticket. Every text that comes
from the data (mention texts, terms, handles, brand names) is HTML-escaped.

Contents: headline figures, the incident table, an incident timeline, per brand the volume
against the expected band and the negative share against its baseline (incidents shaded),
the brand's top terms, then one card per incident with its evidence and sample mentions, the
what-if differences when the replay was compared, and the dead letters.

Examples
--------
>>> bins = downsample({"t": [0, 60, 120, 180], "observed": [1, 3, 0, 4], "expected": [1, 1, 1, 1],
...     "lower": [0, 0, 0, 0], "upper": [2, 2, 2, 2], "negative_share": [0, 1, 0, 0.5],
...     "negative_baseline": [.2, .2, .2, .2]}, max_points=2)
>>> bins["t"], bins["observed"], bins["negative_share"]
([0, 120], [2.0, 2.0], [0.75, 0.5])
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from pipeline.replay.run import load_run
from pipeline.replay.summary import _ts
from pipeline.report.svg import (
    MIN_HEIGHT,
    SEVERITY_COLORS,
    Line,
    Span,
    _anchor,
    bar_chart,
    line_chart,
    timeline,
)

MAX_POINTS = 900

CSS = """
*{box-sizing:border-box}body{margin:0;background:#f3f5f8;color:#1f2933;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:980px;margin:0 auto;padding:24px 20px 60px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:34px 0 10px}h3{margin:0 0 6px;font-size:16px}
.sub{color:#5b6573;margin:0 0 18px}.cards{display:flex;flex-wrap:wrap;gap:10px}
.kpi{background:#fff;border-radius:8px;padding:10px 14px;min-width:130px;box-shadow:0 1px 2px #0001}
.kpi b{display:block;font-size:22px}.kpi span{color:#5b6573;font-size:12px}
.panel{background:#fff;border-radius:8px;padding:14px;margin:10px 0;box-shadow:0 1px 2px #0001}
.panel svg{max-width:100%;height:auto;display:block}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e6e9ee;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.sev{display:inline-block;color:#fff;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600}
.row{display:flex;gap:12px;flex-wrap:wrap}.row>div{flex:1 1 420px}
.mention{border-left:3px solid #d64545;background:#fbfbfc;padding:6px 10px;margin:6px 0;
white-space:pre-wrap;word-break:break-word}.muted{color:#5b6573}.tag{display:inline-block;
background:#eef2f7;border-radius:4px;padding:0 6px;margin:2px 3px 2px 0}
.diff-add{color:#1a7f37}.diff-rem{color:#cf222e}.diff-chg{color:#9a6700}
code{font-size:12px}
"""


def _e(s: object) -> str:
    return escape("" if s is None else str(s), quote=True)


def _when(iso: str | None) -> str:
    if not iso:
        return "open"
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%b %d %H:%M")


def _sev(s: str) -> str:
    return f"<span class='sev' style='background:{SEVERITY_COLORS.get(s, '#888')}'>{_e(s)}</span>"


def downsample(s: dict[str, list], max_points: int = MAX_POINTS) -> dict[str, list]:
    """Bucket series averaged into at most ``max_points`` bins (negative share weighted by
    volume, so an empty bucket's 0 % does not dilute a busy one)."""
    n = len(s["t"])
    if n <= max_points:
        return {k: list(s[k]) for k in ("t", "observed", "expected", "lower", "upper",
                                         "negative_share", "negative_baseline")}
    k = -(-n // max_points)
    out: dict[str, list] = {c: [] for c in ("t", "observed", "expected", "lower", "upper",
                                            "negative_share", "negative_baseline")}
    for i in range(0, n, k):
        j = min(i + k, n)
        obs = s["observed"][i:j]
        tot = sum(obs)
        out["t"].append(s["t"][i])
        for c in ("observed", "expected", "lower", "upper", "negative_baseline"):
            vals = [v for v in s[c][i:j] if v is not None]  # NaN (cold model) is null in JSON
            out[c].append(sum(vals) / len(vals) if vals else None)
        share = (sum(a * b for a, b in zip(s["negative_share"][i:j], obs)) / tot) if tot else None
        out["negative_share"].append(share)
    return out


def _brand_spans(incs: list[dict], brand: str) -> list[Span]:
    return [Span(_ts(i["opened_at"]), _ts(i["resolved_at"] or i["last_update"]),
                 SEVERITY_COLORS.get(i["severity"], "#888"),
                 f"{i['id']} ({'→'.join(i['kinds'])}, {i['severity']})")
            for i in incs if i["brand"] == brand]


def plots(run: dict[str, Any]) -> dict[str, str]:
    """Every plot of the report as ``name -> SVG`` (names are file-name safe)."""
    summary, series = run["summary"], run["series"]
    incs = summary["incidents"]
    brands = series.get("brands", {})
    bucket_s = series.get("bucket_s", 60)
    out: dict[str, str] = {}
    all_t = [t for s in brands.values() for t in (s["t"][:1] + s["t"][-1:])]
    if all_t:
        out["timeline"] = timeline(sorted(brands), incs, min(all_t), max(all_t) + bucket_s)
    for b in sorted(brands):
        s = downsample(brands[b])
        if not s["t"]:
            continue
        per = _dur(bucket_s)
        agg = len(brands[b]["t"]) > len(s["t"])
        unit = f"mentions per {per}" + (" (mean per bin)" if agg else "")
        spans = _brand_spans(incs, b)
        safe = _anchor(b)[4:]
        out[f"volume-{safe}"] = line_chart(
            s["t"], [Line(s["expected"], "#3b6fd8", "expected", 1.4, "5 3"),
                     Line(s["observed"], "#1f2933", "observed", 1.5)],
            band=(s["lower"], s["upper"]), spans=spans, y_label=unit,
            title=f"{b} — volume against the expected band")
        out[f"sentiment-{safe}"] = line_chart(
            s["t"], [Line(s["negative_baseline"], "#3b6fd8", "usual negative share", 1.6, "5 3"),
                     Line(s["negative_share"], "#d64545", "negative share", 1.4)],
            spans=spans, y_label="share of mentions", percent=True, y_max=1.0,
            title=f"{b} — negative share against its baseline")
        terms = [(t["term"], t["count"]) for t in run["terms"].get(b, [])[:15]]
        out[f"terms-{safe}"] = bar_chart(terms, title=f"{b} — top terms", width=460)
    for i in incs:
        terms = [(t["term"], t["count"]) for t in i["top_terms"][:10]]
        if terms:
            out[f"incident-{_anchor(i['id'])[4:]}"] = bar_chart(
                terms, title="terms of the burst (count, ranked by lift)", width=460,
                color=SEVERITY_COLORS.get(i["severity"], "#888"))
    return out


def _dur(s: int) -> str:
    if s % 3600 == 0:
        return "hour" if s == 3600 else f"{s // 3600} h"
    if s % 60 == 0:
        return "minute" if s == 60 else f"{s // 60} min"
    return f"{s} s"


def build(outdir: str | Path, title: str | None = None) -> tuple[str, dict[str, str]]:
    """The report's HTML and its plots (``name -> SVG``) for a replay output directory."""
    run = load_run(outdir)
    diff_path = Path(outdir) / "diff.json"
    if diff_path.is_file():
        import orjson

        run["diff"] = orjson.loads(diff_path.read_bytes())
    figs = plots(run)
    return render(run, figs, title), figs


def render(run: dict[str, Any], figs: dict[str, str], title: str | None = None) -> str:
    """HTML of the report (every data text escaped)."""
    s = run["summary"]
    incs = s["incidents"]
    samples = run["samples"]
    brands = s["brands"]
    firsts = [v["first_bucket"] for v in brands.values() if v["first_bucket"] is not None]
    lasts = [v["last_bucket"] for v in brands.values() if v["last_bucket"] is not None]
    period = (f"{_when(_iso(min(firsts)))} → {_when(_iso(max(lasts)))} UTC" if firsts else "")
    det = s.get("settings", {}).get("detection", {})
    title = title or "veille — replay report"
    h: list[str] = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        f"<p class='sub'>{_e(s.get('source', ''))} · {_e(period)} · bucket "
        f"{_e(det.get('bucket_s', '?'))} s, warm-up {_e(det.get('warmup_s', '?'))} s, "
        f"watch ≥ {_e(det.get('watch_score', '?'))}, crisis ≥ {_e(det.get('crisis_score', '?'))}"
        "</p>",
        "<div class='cards'>",
    ]
    dead = sum(s["deadletters"].values())
    for value, label in ((f"{s['mentions']:,}", "mentions replayed"),
                         (str(len(brands)), "brands"),
                         (str(len(incs)), "incidents"),
                         (str(sum(1 for i in incs if i["kind"] == "crisis")), "crises"),
                         (f"{dead:,}", "dead letters"),
                         (f"{s['late']:,}", "late mentions")):
        h.append(f"<div class='kpi'><b>{_e(value)}</b><span>{_e(label)}</span></div>")
    h.append("</div>")

    h.append("<h2>Incidents</h2>")
    if incs:
        h.append("<table><tr><th>brand</th><th>opened (UTC)</th><th>resolved</th><th>kind</th>"
                 "<th>severity</th><th class='num'>mentions</th><th>top terms</th></tr>")
        for i in incs:
            h.append(
                f"<tr><td>{_e(i['brand'])}</td><td><a href='#{_anchor(i['id'])}'>"
                f"{_e(_when(i['opened_at']))}</a></td><td>{_e(_when(i['resolved_at']))}</td>"
                f"<td>{_e('→'.join(i['kinds']))}</td><td>{_sev(i['severity'])}</td>"
                f"<td class='num'>{i['mentions']:,}</td><td>"
                f"{_e(', '.join(t['term'] for t in i['top_terms'][:5]))}</td></tr>")
        h.append("</table>")
    else:
        h.append("<p class='muted'>No incident: nothing crossed the thresholds with these "
                 "settings (see the plots for how close it came).</p>")
    if "timeline" in figs:
        h.append(f"<div class='panel' id='plot-timeline'>{figs['timeline']}</div>")

    for b in sorted(brands):
        safe = _anchor(b)[4:]
        v = brands[b]
        if f"volume-{safe}" not in figs:
            continue
        share = v["negative"] / v["mentions"] if v["mentions"] else 0.0
        dropped = v.get("slow_waiting_dropped", 0)
        h.append(f"<h2 id='brand-{safe}'>{_e(b)}</h2><p class='sub'>{v['mentions']:,} mentions, "
                 f"{share:.0%} negative, {v['incidents']} incident(s), {v['late']:,} late"
                 + (f", {dropped:,} awaited negative mentions dropped from the slow-answer "
                    "measure (detection.risks.slow_max_waiting reached)" if dropped else "")
                 + "</p>")
        for kind in ("volume", "sentiment"):
            h.append(f"<div class='panel' id='plot-{kind}-{safe}'>{figs[f'{kind}-{safe}']}</div>")
        h.append(f"<div class='panel' id='plot-terms-{safe}'>{figs[f'terms-{safe}']}</div>")

    if incs:
        h.append("<h2>Incident evidence</h2>")
    for i in incs:
        h.append(_incident_card(i, figs, samples))

    diff = run.get("diff")
    if diff:
        h.append(f"<h2>What-if against {_e(diff.get('against', ''))}</h2><div class='panel'>"
                 f"<p>{len(diff['added'])} added, {len(diff['removed'])} removed, "
                 f"{len(diff['changed'])} changed, {diff['same']} unchanged.</p><ul>")
        for i in diff["added"]:
            h.append(f"<li class='diff-add'>+ {_e(i['id'])} {_e('→'.join(i['kinds']))} "
                     f"{_e(i['severity'])}</li>")
        for i in diff["removed"]:
            h.append(f"<li class='diff-rem'>− {_e(i['id'])} {_e('→'.join(i['kinds']))} "
                     f"{_e(i['severity'])}</li>")
        for c in diff["changed"]:
            f = "; ".join(f"{k}: {_e(_txt(a))} → {_e(_txt(b_))}"
                          for k, (a, b_) in c["fields"].items())
            h.append(f"<li class='diff-chg'>~ {_e(c['new']['id'])}: {f}</li>")
        h.append("</ul></div>")

    h.append("<h2>Dead letters</h2>")
    if s["deadletters"]:
        h.append("<table><tr><th>reason</th><th class='num'>records</th></tr>")
        for reason, n in s["deadletters"].items():
            h.append(f"<tr><td>{_e(reason)}</td><td class='num'>{n:,}</td></tr>")
        h.append("</table>")
    else:
        h.append("<p class='muted'>None: every record was a valid mention.</p>")
    blank = s.get("blank_lines", 0)
    h.append(f"<p class='muted'>Replayed {s['records']:,} records"
             + (f" (and {blank:,} blank lines of the archive, skipped)" if blank else "")
             + f" in {s['elapsed_s']:.1f} s ({_rate(s['mentions_per_s'])} records/s) with the "
             "worker's engine.</p>")
    h.append("</main></body></html>")
    return "".join(h)


def _rate(v: Any) -> str:
    """A records/s figure as the CLI prints it (7,511), or as is when it is not a number."""
    return f"{v:,.0f}" if isinstance(v, (int, float)) else _e(v)


def _txt(v: Any) -> str:
    return "→".join(v) if isinstance(v, list) else str(v)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).isoformat()


def _incident_card(i: dict[str, Any], figs: dict[str, str], samples: dict[str, Any]) -> str:
    aid = _anchor(i["id"])
    ns, nb = i.get("negative_share"), i.get("negative_baseline")
    neg = f"{ns:.0%} negative vs {nb:.0%} usual" if ns is not None and nb is not None else ""
    h = [f"<div class='panel' id='{aid}'><h3>{_e(i['brand'])} · {_e('→'.join(i['kinds']))} "
         f"{_sev(i['severity'])}</h3>",
         f"<p class='muted'><code>{_e(i['id'])}</code> · opened {_e(_when(i['opened_at']))}, "
         f"peak {_e(_when(i['peak_at']))}, resolved {_e(_when(i['resolved_at']))} · "
         f"{i['updates']} update(s)</p>",
         f"<p>{_e(i['summary'])}</p>",
         f"<p>Peak {i['peak_observed']:g} mentions/bucket vs {i['expected_at_peak']:.1f} "
         f"expected · {i['mentions']:,} mentions while open · {_e(neg)}</p><div class='row'>"]
    fig = figs.get(f"incident-{aid[4:]}")
    h.append(f"<div>{fig}</div>" if fig else "<div class='muted'>No dominant term.</div>")
    h.append("<div>")
    if i["top_hashtags"]:
        h.append("<p><b>Hashtags</b> " + "".join(
            f"<span class='tag'>{_e(t['term'])} {t['count']}</span>" for t in i["top_hashtags"])
            + "</p>")
    if i["top_authors"]:
        h.append("<p><b>Top authors by reach</b><br>" + "<br>".join(
            f"@{_e(a['handle'])} · {a['followers']:,} followers"
            f"{' · verified' if a.get('verified') else ''} · {_e(a.get('sentiment') or '')}"
            for a in i["top_authors"][:5]) + "</p>")
    if i["high_reach_negative_authors"]:
        h.append("<p><b>High-reach negative authors</b> " + ", ".join(
            "@" + _e(a) for a in i["high_reach_negative_authors"]) + "</p>")
    h.append("</div></div>")
    texts = [samples[m] for m in i["sample_mention_ids"] if m in samples]
    if texts:
        h.append("<p><b>Sample negative mentions</b> (highest reach first)</p>")
        for m in texts[:5]:
            h.append(f"<div class='mention'>{_e(m['text'])}</div>")
    h.append("</div>")
    return "".join(h)


def write(outdir: str | Path, path: str | Path | None = None, *, png: bool = False,
          title: str | None = None, on_png: Callable[[int, int], None] | None = None
          ) -> tuple[Path, list[Path]]:
    """Write ``report.html`` (default: in ``outdir``); with ``png``, also one PNG per plot
    in ``plots/`` (SVG files next to them), rendered by headless Chromium; ``on_png`` is
    called with (PNGs done, PNGs to make) as they are made (a second or so each)."""
    html, figs = build(outdir, title)
    target = Path(path) if path else Path(outdir) / "report.html"
    target.write_text(html, encoding="utf-8")
    pngs: list[Path] = []
    if png:
        import re
        from concurrent.futures import ThreadPoolExecutor

        from pipeline.report.chromium import screenshot

        d = target.parent / "plots"
        d.mkdir(exist_ok=True)

        def shoot(name: str, svg: str) -> Path:
            m = re.search(r"viewBox='0 0 (\d+) (\d+)'", svg)
            w, h = (int(m.group(1)), int(m.group(2))) if m else (920, 260)
            h = max(h, MIN_HEIGHT)  # Chromium clips shots of very short windows
            (d / f"{name}.svg").write_text(svg, encoding="utf-8")
            page = d / f".{name}.html"  # zero margins, so the shot is exactly the plot
            page.write_text("<!doctype html><html><body style='margin:0;background:#fff'>"
                            + svg + "</body></html>", encoding="utf-8")
            try:
                return screenshot(page, d / f"{name}.png", w, h)
            finally:
                page.unlink(missing_ok=True)
                if on_png is not None:
                    with lock:
                        done[0] += 1
                        on_png(done[0], len(figs))

        lock, done = threading.Lock(), [0]
        with ThreadPoolExecutor(max_workers=2) as pool:  # one Chromium per plot, two at a time
            pngs = list(pool.map(lambda kv: shoot(*kv), figs.items()))
    return target, pngs
