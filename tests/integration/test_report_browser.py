"""The HTML report in headless Chromium: it renders its plots, runs no script, and mention texts
carrying HTML/script stay text. PNG export gives one picture per plot at the plot's size."""

from __future__ import annotations

import re
import struct

import orjson
import pytest

from pipeline.replay import Archive, OfflineReplay
from pipeline.report import write
from pipeline.report.chromium import find_chromium, run, screenshot
from pipeline.settings import Settings
from tests.support.streams import stream

PAYLOAD = ("<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
           "<b id='injected'>bold</b>")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    if find_chromium() is None:
        pytest.fail("no chromium binary: apt-get install -y chromium (make system-deps)",
                    pytrace=False)
    d = tmp_path_factory.mktemp("report")
    acme = stream("acme", 11, 6, seed=1, bursts=[(10.0, 30, 40, "angry")])
    for m in acme:  # every mention of the angry burst carries markup
        if "leak" in m["text"] or "fuite" in m["text"]:
            m["text"] += " " + PAYLOAD
    mentions = sorted(acme + stream("nord<i>air</i>", 11, 6, seed=2),
                      key=lambda m: m["created_at"])
    archive = d / "a.jsonl"
    archive.write_bytes(b"\n".join(orjson.dumps(m) for m in mentions))
    out = d / "out"
    summary = OfflineReplay(Settings(detection={"warmup_s": 6 * 3600}), out).run(
        Archive(archive).records())
    crisis = [i for i in summary["incidents"] if i["kind"] == "crisis"]
    assert crisis and crisis[0]["sample_mention_ids"]
    return out


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_report_renders_plots_without_scripts_and_escapes_mentions(report_dir):
    html_path, _ = write(report_dir)
    html = html_path.read_text()
    assert "<script" not in html.lower().replace("&lt;script", "")  # no script of ours either
    assert "&lt;script&gt;document.title=" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing remote
    res = run(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000", "--dump-dom",
               html_path.as_uri()])
    dom = res.stdout.decode()
    err = res.stderr.decode()
    assert res.returncode == 0, err[-2000:]
    assert "<title>veille — replay report</title>" in dom  # the payload never ran
    assert 'id="injected"' not in dom and "<img" not in dom.lower()
    assert "&lt;b id='injected'&gt;" in dom or "&lt;b id=\"injected\"&gt;" in dom
    assert "nord&lt;i&gt;air&lt;/i&gt;" in dom and "<i>air</i>" not in dom
    assert "Uncaught" not in err and "Refused to" not in err
    svgs = re.findall(r"<svg[^>]*role=\"img\"", dom)
    assert len(svgs) >= 1 + 3 * 2 + 1  # timeline, volume/sentiment/terms per brand, incident
    for plot in ("plot-timeline", "plot-volume-acme", "plot-sentiment-acme"):
        assert f'id="{plot}"' in dom
    # the volume plot really draws: a band polygon and an observed path with many points
    vol = dom.split('id="plot-volume-acme"', 1)[1].split("</svg>", 1)[0]
    assert "<polygon" in vol and len(re.findall(r"L\d", vol)) > 300

    shot = screenshot(html_path, report_dir / "page.png", 1000, 2400)
    assert _png_size(shot) == (1000, 2400) and shot.stat().st_size > 60_000  # not a blank page


def test_png_export_one_picture_per_plot(report_dir):
    seen: list[tuple[int, int]] = []
    _, pngs = write(report_dir, png=True, on_png=lambda n, total: seen.append((n, total)))
    assert seen == [(n, len(pngs)) for n in range(1, len(pngs) + 1)]  # progress, in order
    names = {p.stem for p in pngs}
    assert {"timeline", "volume-acme", "sentiment-acme", "terms-acme"} <= names
    for p in pngs:
        svg = p.with_suffix(".svg").read_text()
        w, h = map(int, re.search(r"viewBox='0 0 (\d+) (\d+)'", svg).groups())
        assert _png_size(p) == (w, h)
        assert p.stat().st_size > 3_000
