"""Risk detectors' hot-path shortcuts (issues 8 and 9) give exactly what the plain code gives."""

from __future__ import annotations

import math
import random

import orjson
import pytest

from pipeline.risks._base import MAX_CATCH_UP, Ticker
from pipeline.risks._testing import NEG, mention
from pipeline.risks.raid import suspicious_age


def _reference_advance(state: dict, ts: float, bucket_s: int) -> list[float]:
    """Ticker.advance as it was: bucket indices compared on every call."""
    idx = int(ts // bucket_s)
    nxt = state.get("next")
    if nxt is None:
        state["next"] = idx
        return []
    if idx <= nxt:
        return []
    state["next"] = idx
    return [float(i * bucket_s) for i in range(max(nxt, idx - MAX_CATCH_UP), idx)]


def test_ticker_until_shortcut_closes_the_same_buckets():
    r = random.Random(1)
    for bucket_s in (1, 7, 60, 300):
        t, ref, ts = Ticker(bucket_s), {}, 1_767_571_200.0 + r.random()
        for i in range(20_000):
            step = r.choice([0.0, 0.001, r.random() * bucket_s, -r.random() * bucket_s,
                             bucket_s * r.randint(1, 100), 0.0])
            ts = max(0.0, ts + step)
            if r.random() < 0.05:  # exactly on a boundary, or an ulp either side
                ts = float(int(ts // bucket_s) * bucket_s)
                ts = r.choice([ts, ts - 2.4e-7, ts + 2.4e-7])
            assert list(t.advance(ts)) == _reference_advance(ref, ts, bucket_s), (bucket_s, ts)
            assert t.next_close == ref.get("next")
            if i % 997 == 0:  # a restored ticker continues the same way
                restored = Ticker(bucket_s)
                restored.load_state(t.to_state())
                assert restored.until == t.until
                t = restored


def test_suspicious_age_is_the_settings_rule():
    for age_days in (None, 0.5, 29.9, 30.0, 200.0, 364.9, 365.0, 900.0):
        for followers in (0, 49, 50, 5_000):
            m = mention("x", age_days=age_days, followers=followers)
            got = suspicious_age(m.author, m.ts, 30.0, 50)
            if age_days is None:
                want = -1.0 if followers < 50 else None
            else:
                age = (m.ts - m.author.created_at.timestamp()) / 86_400.0
                want = age if age < 30.0 or (followers < 50 and age < 365) else None
            assert got == want, (age_days, followers)


def test_impostor_quick_bound_never_rules_out_a_match():
    from pipeline.risks.impostor import ImpostorDetector
    from pipeline.settings import BrandConfig, DetectionSettings
    from tests.unit.test_hot_path import names

    tricky = ["acrne", "acrnx", "vvidgex", "rnacme", "a_c_m_e", "ac.me", "globexx", "g1obex", "n0rdair", "nordalr",
              "vvidget", "wldget", "acme_support", "Acme Officiel", "the_acme_fr", "acm", "acmee"]
    brands = [BrandConfig(name="acme", handles=["acme", "acme_support"],
                          display_names=["Acme", "Acme Corporation"]),
              BrandConfig(name="nordair", handles=["NordAir_FR"]),
              BrandConfig(name="widget", handles=["wwidget"]),
              None]
    ruled_out = 0
    for cfg in brands:
        det = ImpostorDetector(cfg.name if cfg else "globex", cfg, DetectionSettings())
        for value in names(6000, seed=7) + tricky:
            if det._far(value):
                ruled_out += 1
                assert det._matches(value) == (), (det.brand, value)
    assert ruled_out > 10_000  # the bound does rule most names out


def _simulated(n: int, seed: int = 3) -> list:
    """``(mention, sentiment)`` of a simulated stream with every risk scenario (own posts of
    configured handles, replies, raids, impostors, a hijack), sentiments from the labels the
    simulator meant."""
    import itertools
    from datetime import datetime, timezone

    from pipeline.codec import decode_mention
    from pipeline.risks._testing import Sent
    from pipeline.simulate import SimConfig, generate

    cfg = SimConfig(start=datetime(2026, 1, 5, tzinfo=timezone.utc), duration_s=3 * 86400,
                    scenarios=["raid:nordair@20m", "impostor:acme@10m", "hijack:globex@30m",
                               "slow_response:nordair@5m", "crisis:acme@40m"],
                    seed=seed, annotate=True, rate_scale=0.3)
    out = []
    for rec in itertools.islice(generate(cfg)[0], n):
        label = (rec.pop("sim", None) or {}).get("sentiment") or "neutral"
        m = decode_mention(orjson.dumps(rec))
        out.append((m, Sent(label)))
    return out


class _Plain:
    """A registered detector of the plain kind (``observe`` only): counts its mentions."""

    name = "plain"

    def __init__(self) -> None:
        self.n = 0

    def observe(self, m, sentiment):
        self.n += 1
        return []

    def to_state(self):
        return {"n": self.n}


def test_detector_set_gives_each_detectors_observe_alerts_in_order():
    from pipeline.detectors import DETECTORS, DetectorSet
    from pipeline.risks._base import own_handles
    from pipeline.settings import Settings
    from pipeline.simulate.brands import DEMO_BRANDS

    stream = _simulated(12_000)
    for brands in (DEMO_BRANDS, []):  # configured handles, and brands without a config
        settings = Settings(brands=brands, detection={"warmup_s": 600})
        det = settings.detection
        sets, alone = {}, {}
        got, want = [], []
        for i, (m, s) in enumerate(stream):
            if m.brand not in sets:
                cfg = settings.brand(m.brand)
                plain = [_Plain()] if m.brand == "acme" else []  # one brand on the general path
                sets[m.brand] = DetectorSet(
                    [f(m.brand, cfg, det) for f in DETECTORS] + plain, own_handles(cfg))
                alone[m.brand] = [f(m.brand, cfg, det) for f in DETECTORS] + [_Plain()]
            sets[m.brand].observe_into(m, s, got)
            for d in alone[m.brand]:
                want.extend(d.observe(m, s))
            if i % 4000 == 3999 or i == len(stream) - 1:
                assert [a.model_dump() for a in got] == [a.model_dump() for a in want]
                for b in sets:
                    for x, y in zip(sets[b], alone[b]):
                        assert orjson.dumps(x.to_state()) == orjson.dumps(y.to_state()), x.name
        kinds = {a.kind for a in got}
        assert {"impostor", "raid"} <= kinds, kinds  # the stream does exercise the detectors
        assert sets["acme"][-1].n == sum(m.brand == "acme" for m, _ in stream) > 0


def test_link_domains_are_those_of_the_full_analysis():
    from pipeline.risks._base import link_domains
    from pipeline.text import analyze

    r = random.Random(5)
    parts = ["https://www.Acme.com/p?id=1", "http://t.co/x", "www.globex.fr", "htp://bad",
             "https://acme-refund.xyz/a&amp;b", "&amp;", "&#104;ttp://x.io", "@acme", "#Deal",
             "hello", "C’est", "!!!", "😡", "http://", "https://t.co/abc…", "(https://a.b/c)",
             "x.com", "https://ex.am-ple.co.uk:8080/p", "\u00a0", "\u200b", "&nbsp;", "\t", "\n"]
    for _ in range(5000):
        text = "".join(r.choice(parts) + r.choice(["", " ", "  ", "\n", ","])
                       for _ in range(r.randint(0, 8)))
        assert link_domains(text) == analyze(text).domains, text


def test_misra_gries_batch_counting_equals_one_by_one():
    from pipeline.risks.trends import MisraGries

    r = random.Random(6)
    a, b = MisraGries(12), MisraGries(12)
    for _ in range(3000):
        keys = tuple(f"t{r.randint(0, 30)}" for _ in range(r.randint(0, 6)))
        a.add_many(keys)
        for k in keys:
            b.add(k)
        assert a.counts == b.counts and list(a.counts) == list(b.counts) and a.n == b.n


@pytest.mark.parametrize("numpy_from", [0, 10**9])  # the numpy scan; the per-mention loop
def test_slow_answer_windows_judge_each_mention_by_its_usual_share(monkeypatch, numpy_from):
    """measure() (usual shares inlined, the scan skipped when the brand's duty ended before
    every awaited mention) gives what per-mention usual_answered() gives."""
    import orjson

    import pipeline.risks.responsiveness as resp
    from pipeline.risks.responsiveness import ResponsivenessDetector
    from pipeline.settings import DetectionSettings

    monkeypatch.setattr(resp, "NUMPY_SCAN_FROM", numpy_from)

    r = random.Random(8)
    now = 1_767_571_200.0 + 5 * 86_400
    for last_own_ago in (60.0, 8 * 3600.0):  # on duty; off duty since before them all
        det = ResponsivenessDetector("acme", None, DetectionSettings())
        for _ in range(4000):  # slot history: some slots usable, some too young or too thin
            det.learn(now - r.uniform(0, 4 * 86_400), r.random() < 0.7)
        grace, window = det.r.slow_grace_s, det.r.slow_window_s
        for i in range(300):  # awaited as observe() awaits them (the brand was active)
            ts = now - grace - r.uniform(0, window)
            det.last_own = ts - 60.0
            det.see(mention("@acme broken", at=ts, id=f"m{i}"), ts, False, None, NEG, [])
        assert len(det.pending) == 300
        pending = sorted(det.pending, key=lambda x: x[1])
        for i in range(0, len(pending) - 1, 7):  # late arrivals: event time order, up to lateness
            pending[i], pending[i + 1] = pending[i + 1], pending[i]
        for rec in pending:
            rec[2] = r.choice([None, rec[1] + 10, rec[1] + 3 * grace])
        det.pending = type(det.pending)(pending)
        det.last_own = now - last_own_ago
        _, total, want = _reference_slow_windows(det, now)
        restored = ResponsivenessDetector("acme", None, DetectionSettings())
        restored.load_state(orjson.loads(orjson.dumps(det.to_state())))
        for d in (det, restored):
            _, got_total, _, _, got = d.measure(now)
            assert got_total == total
            assert [(g.awaited, g.judged, g.answered, g.expected) for g in got] == want
        if last_own_ago < 3600:
            assert 0 < got[0].judged < got[0].awaited  # both kinds of slots are exercised
        else:
            assert total == 0 and det._pending_low > det.last_own - grace  # the skipped scan


def _reference_slow_windows(det, now: float) -> tuple:
    """measure()'s backlog figures as the plain code gives them, mention by mention with
    usual_answered(), on a copy of the awaited mentions (measure() expires the oldest)."""
    from pipeline.risks.responsiveness import Judged

    grace, window = det.r.slow_grace_s, det.r.slow_window_s
    lo, hi = now - grace - window, now - grace
    mid = hi - window / 2
    on_duty_until = (det.last_own or 0.0) - grace
    pending = list(det.pending)
    while pending and pending[0][1] < lo:  # expired from the front only (up to lateness)
        pending.pop(0)
    want, backlog, total = [Judged(), Judged()], 0, 0
    for _, ts, answered in pending:
        if ts > hi:
            break
        if ts > on_duty_until:
            continue
        total += 1
        late = answered is None or answered > ts + grace
        backlog += late
        p = det.usual_answered(ts)
        for w in (want if ts >= mid else want[:1]):
            w.awaited += 1
            if p is not None:
                w.judged += 1
                w.expected += p
                w.answered += not late
    return backlog, total, [(w.awaited, w.judged, w.answered, w.expected) for w in want]


@pytest.mark.parametrize("seed", range(40))
def test_slow_answer_numpy_scan_is_the_loop_bit_for_bit(monkeypatch, seed):
    """The numpy scan of measure() (long backlogs) and the per-mention loop give the same
    figures, floats bit for bit, as the per-mention reference: random backlogs of every size
    (empty, a few, around NUMPY_SCAN_FROM, the busiest brand's thousands), late arrivals
    (swapped neighbours, mentions hours older appended), answers in time, late, exactly at the
    grace limit or none, on and off duty (duty ending among the mentions), mentions exactly on
    the window, half-window and slot bounds, slots usable, too young, too thin or unseen."""
    import pipeline.risks.responsiveness as resp
    from pipeline.risks.responsiveness import SLOT_HISTORY_S, SLOT_S, ResponsivenessDetector
    from pipeline.settings import DetectionSettings

    r = random.Random(seed)
    settings = DetectionSettings()
    if seed % 5 == 4:  # other windows and grace (bounds not on minutes)
        settings = DetectionSettings(risks={"slow_grace_s": r.choice([0, 617, 2400]),
                                            "slow_window_s": r.choice([61, 1999, 7200])})
    det = ResponsivenessDetector("acme", None, settings)
    grace, window = det.r.slow_grace_s, det.r.slow_window_s
    now = 1_767_571_200.0 + 5 * 86_400 + r.choice([0.0, 60.0, r.uniform(0, 900)])
    hi, lo = now - grace, now - grace - window
    mid = hi - window / 2
    for _ in range(r.choice([0, 30, 4000])):  # slot history: usable, too thin, too young, none
        det.learn(now - r.choice([r.uniform(0, 4 * 86_400), r.uniform(0, SLOT_HISTORY_S),
                                  r.uniform(SLOT_HISTORY_S - 900, SLOT_HISTORY_S + 900)]),
                  r.random() < r.random())
    n = r.choice([0, 1, 3, 150, 199, 200, 201, 800, 3000])
    stamps = sorted(r.choice([r.uniform(lo - 600, now + 60), r.uniform(lo, hi), hi, mid, lo,
                              float(int(mid // SLOT_S) * SLOT_S), hi + 1e-6, mid - 1e-6])
                    for _ in range(n))
    for i in range(0, max(0, n - 1), r.choice([3, 7, 50])):  # late arrivals: neighbours swapped
        stamps[i], stamps[i + 1] = stamps[i + 1], stamps[i]
    for _ in range(n // 20):  # and mentions hours older, appended (or inserted) out of order
        stamps.insert(r.randrange(len(stamps) + 1), r.uniform(lo - 3 * 3600, hi))
    for i, ts in enumerate(stamps):
        answered = r.choice([None, None, ts, ts + r.uniform(0, grace), ts + grace,
                             ts + grace + 1e-6, ts + 3 * grace + 1])
        rec = [f"m{i}", ts, answered]
        det.index[rec[0]] = rec
        det.pending.append(rec)
    det._pending_low = min(stamps, default=math.inf)
    det.last_own = r.choice([None, now - 60.0, now - grace - r.uniform(0, window),
                             r.choice(stamps) + grace if stamps else now, now - 8 * 3600.0])
    for _ in range(r.choice([0, 5, 30, 300])):
        det.answers.append((now - r.uniform(0, 2 * window), r.uniform(0, 6 * 3600)))
    det.answers = type(det.answers)(sorted(det.answers))
    state = orjson.dumps(det.to_state())
    backlog, total, windows = _reference_slow_windows(det, now)
    got = []
    for numpy_from in (0, 10**9):
        monkeypatch.setattr(resp, "NUMPY_SCAN_FROM", numpy_from)
        d = ResponsivenessDetector("acme", None, settings)
        d.load_state(orjson.loads(state))
        b, t, p90, n_answers, js = d.measure(now)
        figures = [(j.awaited, j.judged, j.answered, j.expected) for j in js]
        assert (b, t, figures) == (backlog, total, windows), numpy_from
        assert all(type(x) is int for f in figures for x in f[:3]) and type(b) is type(t) is int
        assert all(type(f[3]) is float for f in figures)
        got.append((b, t, p90, n_answers, figures, orjson.dumps(d.to_state())))
    assert got[0] == got[1]


@pytest.mark.parametrize("seed", range(3))
def test_slow_answer_arrays_follow_the_stream(monkeypatch, seed):
    """The arrays the numpy scan reads stay in step with the awaited mentions through a stream
    (appends, answers, late arrivals, expiry, the slow_max_waiting bound, a restored snapshot):
    a detector scanning with numpy and one scanning mention by mention give the same alerts and
    the same snapshots, tick after tick, on days of history (usable slots: judged windows)."""
    import pipeline.risks.responsiveness as resp
    from pipeline.risks._testing import DAY0, NEU, post
    from pipeline.risks.responsiveness import ResponsivenessDetector
    from pipeline.settings import BrandConfig, DetectionSettings

    r = random.Random(seed)
    cfg = BrandConfig(name="acme", handles=["acme"])
    settings = DetectionSettings(risks={"slow_max_waiting": [5000, 300, 40][seed]})
    dets = {0: ResponsivenessDetector("acme", cfg, settings),
            10**9: ResponsivenessDetector("acme", cfg, settings)}
    t = DAY0.timestamp()
    waiting: list[str] = []
    ticks = None
    for i in range(15_000):
        t += r.expovariate(1 / 30.0)
        hour = (t % 86_400) / 3600
        working = 8 <= hour < 19 and r.random() < (0.6 if t - DAY0.timestamp() < 3 * 86_400
                                                    or hour < 15 else 0.05)
        at = t - (r.uniform(0, 7200) if r.random() < 0.05 else 0.0)  # late arrivals
        if working or r.random() < 0.01:
            # answers the newest (in time) or any older one (late), or a new post
            target = (waiting.pop(r.choice([-1, -1, -2, -3, r.randrange(-len(waiting), 0)]))
                      if waiting and r.random() < 0.9 else None)
            m = post("@bob sorry, DM us", at=at, kind="reply" if target else "own_post",
                     in_reply_to=target, id=f"p{i}")
            sent = NEU
        else:
            m = mention("@acme awful service", at=at, id=f"m{r.randrange(10**9)}")
            waiting.append(m.id)
            sent = NEG
        got = []
        for numpy_from, det in dets.items():
            monkeypatch.setattr(resp, "NUMPY_SCAN_FROM", numpy_from)
            got.append([a.model_dump() for a in det.observe(m, sent)])
        assert got[0] == got[1], i
        if dets[0].ticker.next_close != ticks:  # buckets closed (measured)
            first, ticks = ticks is None, dets[0].ticker.next_close
            if first:
                continue
            d = dets[0]
            assert d._m_of is d.pending  # in step, not rebuilt
            live = slice(d._m_head, d._m_tail)
            assert d._m_ts[live].tolist() == [x[1] for x in d.pending]
            assert [None if a != a else a for a in d._m_ans[live].tolist()] == [
                x[2] for x in d.pending]
            assert (d.backlog, d.share, d.p90) == (dets[10**9].backlog, dets[10**9].share,
                                                   dets[10**9].p90)
        if i % 3001 == 3000:
            states = [orjson.dumps(det.to_state()) for det in dets.values()]
            assert states[0] == states[1]
            dets[0].load_state(orjson.loads(states[0]))  # rebuilt at the next measure
    assert dets[0].tracker.level != "normal" or dets[0].tracker.to_state() != {}
    assert max(len(d.index) for d in dets.values()) > 0


def test_impostor_memos_shared_and_evicted_give_the_uncached_verdicts(monkeypatch):
    """Skeletons memoised for all brands at once, verdicts per brand, both tiny here so that
    they evict all the time: every check still equals the uncached matching."""
    import pipeline.risks.impostor as imp
    from pipeline.settings import BrandConfig, DetectionSettings
    from tests.unit.test_hot_path import names

    from collections import OrderedDict

    monkeypatch.setattr(imp, "_SKELETONS", OrderedDict())
    monkeypatch.setattr(imp, "SKELETON_MEMO", 7)
    monkeypatch.setattr(imp, "NEAR_MEMO", 3)
    dets = [imp.ImpostorDetector("acme", BrandConfig(name="acme", display_names=["Acme"]),
                                 DetectionSettings()),
            imp.ImpostorDetector("nordair", None, DetectionSettings()),
            imp.ImpostorDetector("acne", None, DetectionSettings())]
    values = names(3000, seed=11) + ["acrne", "acme_fr", "n0rdair", "acne", "Acme Officiel"]
    r = random.Random(12)
    hits = 0
    for _ in range(2):  # the second time partly from the memos
        for h in values:
            for det in dets:
                n = r.choice(values)
                got = det._author(h, n)
                want = (det._matches(h), det._matches(n))
                assert (got or ((), ())) == want, (det.brand, h, n)
                hits += got is not None
    assert len(imp._SKELETONS) <= 7 and all(len(d._near_memo) <= 3 for d in dets)
    assert hits > 50


def test_post_reviewer_name_memo_forgets_without_changing_verdicts(monkeypatch):
    import pipeline.risks.post_checks.errors as errors
    from pipeline.risks.post_review import PostReviewer
    from pipeline.simulate.brands import DEMO_BRANDS

    posts = ["Merci à la team Acmee et Acme France !", "NordAir Hlep vous répond", "acme rocks",
             "The Globx store opens", "Acme France: nouveaux horaires", "Nordiar et Acne"]
    want = [[PostReviewer(b).review(p).to_dict() for p in posts] for b in DEMO_BRANDS]
    monkeypatch.setattr(errors, "NEAR_WORDS_MEMO", 2)
    reviewers = [PostReviewer(b) for b in DEMO_BRANDS]
    for _ in range(3):
        got = [[rev.review(p).to_dict() for p in posts] for rev in reviewers]
        assert got == want
    assert all(len(rev._error._far) <= 2 and len(rev._error._close) <= 2 for rev in reviewers)
    assert any(r["check"] == "error.brand_misspelling" for b in want for p in b for r in p["reasons"])


def test_post_text_words_are_word_re_words():
    """PostText's words (bytes.translate + split on ASCII texts) are WORD_RE's."""
    from pipeline.risks.post_checks._base import WORD_RE, fold, words_of

    r = random.Random(11)
    alphabet = [chr(c) for c in range(128)] + list("éÉçœŒß’\u00a0\u202f😡İ_-'0")
    for _ in range(20_000):
        text = "".join(r.choice(alphabet) for _ in range(r.randint(0, 40)))
        for s in (text, fold(text)):
            assert words_of(s) == WORD_RE.findall(s), s


def test_tone_shortcuts_change_no_reason():
    """ToneChecks' shortcuts (posts without any gate word of the voice skip the word-based
    checks; ASCII posts with fewer than 12 capitals skip the shouting regex) give the reasons
    of the full checks, on posts with and without insults, slurs, slang, tutoiement, 'u',
    formal phrases, capitals, acronyms, punctuation and emojis."""
    from pipeline.risks.post_checks import PostText
    from pipeline.risks.post_checks.tone import _CAPS_RE, ACRONYMS, ToneChecks

    r = random.Random(12)
    words = ("you idiot", "vous êtes des abrutis", "ta gueule", "merde", "shit", "lol", "mdr",
             "tu", "ton colis", "u", "wtf", "Veuillez agréer", "Dear Sir or Madam", "not stupid",
             "WE ARE SORRY", "SNCF RGPD USA", "GRANDE NOUVELLE", "Hello", "merci", "the team",
             "!!!", "?!?", "😡😡😡", "🎉", "https://acme.com/IDIOT", "@bob", "#Lol", "ÉNORME",
             "ÇA", "ok", "thanks", "DM", "bro", "Bro", "ya", "sans", "con", "CON")
    for voice in ("formal", "neutral", "casual"):
        tone, full = ToneChecks(voice), ToneChecks(voice)
        for i in range(4000):
            text = " ".join(r.choice(words) for _ in range(r.randint(0, 9)))
            p = PostText.build(text, r.choice([None, "en", "fr"]))
            full.word_gate = p.words | {"\0"}  # never disjoint: the full checks
            assert tone.run(p) == full.run(p), (voice, text)
            if text.isascii() and sum(c.isupper() for c in text) < 12:
                caps = [w for w in _CAPS_RE.findall(text) if w not in ACRONYMS]
                assert sum(map(len, caps)) < 12  # what the capitals shortcut relies on
