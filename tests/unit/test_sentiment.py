"""Per-mention sentiment (pipeline.sentiment): cold start, online learning, state, batch/one."""

import numpy as np
import orjson
import pytest

from pipeline.sentiment import LABELS, Sentiment, SentimentModel


@pytest.fixture(scope="module")
def default():
    return SentimentModel.default()


EN_NEG = [
    "@united worst airline ever, lost my bag and nobody helps. Never again!",
    "This is terrible service, I am so angry and disappointed 😡",
    "my flight was cancelled again, absolutely ridiculous",
    "not good at all, the app keeps crashing",
]
EN_POS = [
    "Thank you so much @JetBlue, the crew was amazing and friendly! 😍",
    "I love this new update, great job guys!",
    "Best customer service ever, thanks for the quick help :)",
]
FR_NEG = [
    "Service client nul, je suis très déçu. Plus jamais !",
    "Encore un retard de deux heures, c'est une honte 😡",
    "Ce n'est pas bon du tout, franchement décevant",
    "L'appli est pas terrible, elle plante tout le temps",
]
FR_POS = [
    "Merci beaucoup pour votre aide, équipe super sympa ! 😍",
    "J'adore cette nouvelle version, bravo !",
    "Excellent service, rapide et efficace, merci :)",
]


@pytest.mark.parametrize("text", EN_NEG)
def test_cold_english_negative(default, text):
    s = default.predict_one(text, lang="en")
    assert s.label == "negative" and s.score < 0


@pytest.mark.parametrize("text", EN_POS)
def test_cold_english_positive(default, text):
    s = default.predict_one(text, lang="en")
    assert s.label == "positive" and s.score > 0


@pytest.mark.parametrize("text", FR_NEG)
def test_cold_french_negative(default, text):
    s = default.predict_one(text)  # language detected
    assert s.lang == "fr"
    assert s.label == "negative" and s.score < 0


@pytest.mark.parametrize("text", FR_POS)
def test_cold_french_positive(default, text):
    s = default.predict_one(text)
    assert s.lang == "fr"
    assert s.label == "positive" and s.score > 0


def test_negation_flips(default):
    assert default.predict_one("good", "en").score > default.predict_one("not good", "en").score
    assert default.predict_one("c'est bon", "fr").score > default.predict_one("ce n'est pas bon", "fr").score


def test_result_shape(default):
    s = default.predict_one("ok", "en")
    assert isinstance(s, Sentiment) and s.label in LABELS
    assert abs(sum(s.probs) - 1) < 1e-9 and -1 <= s.score <= 1
    assert s.score == pytest.approx(s.probs[2] - s.probs[0])


def test_unsupported_language_is_unscored(default):
    for s in (default.predict_one("great service", lang="es"),
              default.predict_one("Das ist wirklich nicht gut, ich bin sehr enttäuscht")):
        assert s.lang == "und" and s.label is None and not s.scored
        assert s.score == 0.0 and s.probs == (1 / 3, 1 / 3, 1 / 3)


def test_learn_one_corrects_a_text():
    m = SentimentModel.default()
    text = "the new boarding process is sick"
    before = m.predict_one(text, "en")
    for _ in range(5):
        m.learn_one(text, "positive", "en")
    after = m.predict_one(text, "en")
    assert after.label == "positive" and after.probs[2] > before.probs[2]
    # a different text sharing the brand-new vocabulary moves too
    assert m.predict_one("the boarding process is sick", "en").probs[2] > \
        SentimentModel.default().predict_one("the boarding process is sick", "en").probs[2]


def test_learn_one_ignores_unsupported_language():
    m = SentimentModel.default()
    m.learn_one("muy malo", "negative", lang="es")
    assert m.n_learned == 0


def test_state_round_trip_through_orjson_is_exact():
    m = SentimentModel.default()
    for text, label in [("late again, ugh", "negative"), ("smooth flight", "positive"),
                        ("c'est long", "negative"), ("gate changed to B12", "neutral")]:
        m.learn_one(text, label)
    restored = SentimentModel.from_state(orjson.loads(orjson.dumps(m.to_state())))
    texts = EN_NEG + EN_POS + FR_NEG + FR_POS + ["late again", "smooth"]
    assert [s.probs for s in restored.predict_many(texts, [None] * len(texts))] == \
        [s.probs for s in m.predict_many(texts, [None] * len(texts))]
    # and learning goes on identically
    m.learn_one("late", "negative", "en")
    restored.learn_one("late", "negative", "en")
    assert restored.predict_one("late again", "en") == m.predict_one("late again", "en")


def test_predict_many_equals_predict_one(default):
    texts = EN_NEG + EN_POS + FR_NEG + FR_POS + ["", "😡", "hola amigos", "@x http://t.co/a"]
    langs = [None, "en", "fr", None, "und", "es", None] * 3
    langs = (langs * 4)[: len(texts)]
    many = default.predict_many(texts, langs)
    assert many == [default.predict_one(t, g) for t, g in zip(texts, langs)]
    # every text scored (the batch's other path), and the objects are the frozen dataclass's
    every = default.predict_many(texts, ["en"] * len(texts))
    assert every == [default.predict_one(t, "en") for t in texts]
    assert hash(every[0]) == hash(default.predict_one(texts[0], "en"))
    with pytest.raises(AttributeError):
        every[0].label = "neutral"  # type: ignore[misc]


def test_predict_many_validates_lengths(default):
    with pytest.raises(ValueError):
        default.predict_many(["a", "b"], [None])


@pytest.mark.parametrize("text,label", [
    ("nouveau modèle génial", "positive"), ("génial", "positive"), ("c'est génial", "positive"),
    ("C'EST GÉNIAL", "positive"), ("c'est genial", "positive"), ("j'adore", "positive"),
    ("parfait, merci", "positive"), ("c'est nul", "negative"), ("service décevant", "negative"),
    ("service decevant", "negative"), ("Je ne suis pas content", "negative"),
])
def test_cold_french_everyday_words(default, text, label):
    assert default.predict_one(text, "fr").label == label


def test_french_lexicon_fires_through_accents_and_elisions(default):
    f = default.featurizer
    assert f.lexicon_score("génial", "fr")[0] > 2 and f.lexicon_score("genial", "fr")[0] > 2
    assert f.lexicon_score("l'avion est génial", "fr") == f.lexicon_score("génial", "fr")
    assert f.lexicon_score("trop génial", "fr")[0] > f.lexicon_score("génial", "fr")[0]
    assert f.lexicon_score("nouveau", "fr") == (0.0, 0.0)


def test_batch_results_do_not_depend_on_the_batch(default):
    texts = EN_NEG + EN_POS + FR_NEG + FR_POS
    langs = ["en"] * (len(EN_NEG) + len(EN_POS)) + ["fr"] * (len(FR_NEG) + len(FR_POS))
    fresh = SentimentModel.default()
    rev = fresh.predict_many(texts[::-1], langs[::-1])[::-1]
    assert rev == default.predict_many(texts, langs)


def test_piece_cache_is_bounded():
    from pipeline.sentiment.features import FeatureConfig
    m = SentimentModel(FeatureConfig(bits=12, cache_size=50), {"en": {}, "fr": {}})
    texts = [f"word{i} other{i} #tag{i}" for i in range(200)]
    first = []
    for i in range(0, 200, 10):  # at most cache_size + one batch's chunks are kept
        first += m.predict_many(texts[i:i + 10], ["en"] * 10)
        assert m.featurizer._vocab["en"].n_chunks <= 50 + 30
    assert m.predict_many(texts, ["en"] * 200) == first


def test_regex_free_chunk_shapes_match_the_tokenizer():
    """The featuriser's fast path for common chunk shapes gives pipeline.text.pieces' pieces."""
    import random

    from pipeline.sentiment.features import _pieces_each, _simple_pieces
    from pipeline.text import pieces

    alphabet = list("ablodnqusthoO1'’\"“”-/.,;:!?…#@()[]_=&<>*^é") + ["http://", "https://", "qu'"]
    rng = random.Random(0)
    chunks = ["l'avion", "don't", "#NotHappy!!", "@united:", '"great"', "state-of-the-art.",
              "https://t.co/x", "https://", "noooo…", "qu'il", "(o:", "x:)"]
    chunks += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7))) for _ in range(20000)]
    fast = 0
    for c in chunks:
        got = _simple_pieces(c)
        if got is not None:
            fast += 1
            assert got == pieces(c), c
    assert fast > 1000  # the fast path is taken, not just skipped
    assert _pieces_each(chunks) == [pieces(c) for c in chunks]


def test_bulk_vocabulary_rows_equal_per_piece_rows():
    from pipeline.sentiment.features import FeatureConfig, Featurizer

    f = Featurizer(FeatureConfig(bits=16), {"en": {"good": 1.9, "cool": 1.3, "génial": 2.8},
                                            "fr": {}})
    new = ["GOOD", "goooood", "Cool", "#GoodTimes", "#SOOOO", "2015", "but", "not", "genial",
           "coool", "don't", "😡", "!!", "@u", "http://u", "İstanbul", "very"]
    rows = f._rows(new, "en")
    assert [rows.row(k) for k in range(len(new))] == [f._row(p, "en") for p in new]


def test_chunk_table_probes_past_collisions():
    from pipeline.sentiment.features import _Vocab

    voc = _Vocab()
    size = len(voc.tid)
    keys = np.array([5, 5 + size, 5 + 2 * size, 6, 7 + size], np.int64)  # same or next slots
    ids = voc.add_chunks(keys, np.ones(5, np.int64), np.arange(5, dtype=np.int64))
    assert voc.lookup(keys).tolist() == ids.tolist()
    assert voc.lookup(np.array([5 + 3 * size, 8], np.int64)).tolist() == [-1, -1]


def test_from_file_reads_a_build_artifact(tmp_path):
    import gzip

    m = SentimentModel.default()
    m.learn_one("the lounge was a zoo", "negative", "en")
    texts = EN_NEG + FR_NEG + ["the lounge was a zoo"]
    path = tmp_path / "m.json.gz"
    path.write_bytes(gzip.compress(orjson.dumps(m.to_state())))
    assert SentimentModel.from_file(str(path)).predict_many(texts) == m.predict_many(texts)


def _prior_rows(m: SentimentModel) -> tuple[np.ndarray, np.ndarray]:
    """The shipped prior's (meta rows, text rows)."""
    meta = np.isin(m._prior_idx, m.featurizer.meta_indices())
    return m._prior_idx[meta], m._prior_idx[~meta]


def test_prior_text_rows_learn_at_full_speed_and_meta_rows_resist(default):
    meta, text = _prior_rows(default)
    assert len(meta) and len(text)
    assert (default.G[meta] == default.prior_strength).all() and default.prior_strength > 0
    assert (default.G[text] == default.prior_text_strength).all()
    # one label moves a word the prior knows more than it would with the meta rows' resistance
    word = "the flight was great"
    slow = SentimentModel.from_state({**default.to_state(), "params": {
        **default.to_state()["params"], "prior_text_strength": default.prior_strength}})
    fast = SentimentModel.default()
    for m in (slow, fast):
        m.learn_one(word, "negative", "en")
    moved = [default.predict_one(word, "en").probs[0] - m.predict_one(word, "en").probs[0]
             for m in (slow, fast)]
    assert moved[1] < moved[0] < 0  # P(negative) rose, and more with the fast text rows


def _old_learner() -> SentimentModel:
    """The shipped prior with the learner of state versions 1 and 2: one accumulator per
    feature row, meta rows at the text rows' learning rate."""
    st = SentimentModel.default().to_state()
    st["params"] = {**st["params"], "lr": 0.4, "meta_lr": 0.4, "accumulator": "row"}
    return SentimentModel.from_state(st)


@pytest.mark.parametrize("version", [1, 2])
def test_old_states_load_with_their_old_learner(version):
    m = _old_learner()
    m.learn_one("late again, ugh", "negative", "en")
    old = orjson.loads(orjson.dumps(m.to_state()))
    old["version"] = version
    del old["params"]["meta_lr"], old["params"]["accumulator"]
    if version == 1:
        del old["params"]["prior_text_strength"]
    loaded = SentimentModel.from_state(old)
    assert loaded.accumulator == "row" and loaded.meta_lr == loaded.lr == 0.4
    assert loaded.G.shape == (loaded.featurizer.dim,)
    if version == 1:
        assert loaded.prior_text_strength == loaded.prior_strength
        _, text = _prior_rows(loaded)
        untouched = np.setdiff1d(text, np.fromiter(loaded._touched, np.int64))
        assert (loaded.G[untouched] == loaded.prior_strength).all()
    else:
        # a version-2 state is what the old learner wrote: same scores, and learning goes on
        # identically
        texts = EN_NEG + FR_NEG + ["late again"]
        assert loaded.predict_many(texts) == m.predict_many(texts)
        for x in (loaded, m):
            x.learn_one("the crew was lovely", "positive", "en")
            x.learn_one("Encore en retard, nul", "negative", "fr")
        assert loaded.predict_many(texts) == m.predict_many(texts)
        assert np.array_equal(loaded.G, m.G) and np.array_equal(loaded.W, m.W)
    # it round-trips as a version-3 state that keeps the old settings
    again = SentimentModel.from_state(orjson.loads(orjson.dumps(loaded.to_state())))
    assert again.to_state()["version"] == 3
    assert (again.accumulator, again.meta_lr, again.prior_text_strength) == (
        loaded.accumulator, loaded.meta_lr, loaded.prior_text_strength)
    assert np.array_equal(again.G, loaded.G)
    with pytest.raises(ValueError):
        SentimentModel.from_state({**old, "version": 99})


def test_per_weight_accumulators_and_meta_rate():
    """From zero, AdaGrad's first step moves each weight by about its own rate: with one
    accumulator per weight every class's weight moves by ``lr`` (text rows) or ``meta_lr``
    (meta rows); with one per row the three classes share the step's norm."""
    from pipeline.sentiment.features import FeatureConfig

    lex = {"en": {"awful": -2.5}, "fr": {}}
    m = SentimentModel(FeatureConfig(bits=14), lex, lr=0.35, meta_lr=0.05)
    row = SentimentModel(FeatureConfig(bits=14), lex, lr=0.35, meta_lr=0.05, accumulator="row")
    for x in (m, row):
        x.learn_one("awful awful service", "negative", "en")
    meta = np.array(m.featurizer.meta_indices())
    touched = np.array(sorted(m._touched))
    text = np.setdiff1d(touched, meta)
    used_meta = np.intersect1d(touched, meta)
    assert m.G.shape == (m.featurizer.dim, 3) and len(text) and len(used_meta)
    assert np.allclose(np.abs(m.W[text]), 0.35, atol=1e-6)
    assert np.allclose(np.abs(m.W[used_meta]), 0.05, atol=1e-6)
    assert (m.W[text, 0] > 0).all() and (m.W[text, 1:] < 0).all()  # towards "negative"
    assert m.predict_one("awful awful service", "en").label == "negative"
    # per row: the negative class moves by lr * |g_neg| / ||g|| (< lr), the others by less
    r = np.abs(row.W[text])
    assert np.allclose(r[:, 0], 0.35 * np.sqrt(2 / 3), atol=1e-6)
    assert np.allclose(r[:, 1:], 0.35 * np.sqrt(1 / 6), atol=1e-6)
    # round trip keeps the per-weight accumulators
    again = SentimentModel.from_state(orjson.loads(orjson.dumps(m.to_state())))
    assert np.array_equal(again.G, m.G) and np.array_equal(again.W, m.W)
    with pytest.raises(ValueError):
        SentimentModel(FeatureConfig(bits=12), lex, accumulator="class")
