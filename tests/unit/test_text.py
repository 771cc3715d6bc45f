"""Tweet normalisation/tokenisation (pipeline.text)."""

from pipeline.text import analyze, chunk_tokens, is_emoji, negation_scope, normalize, squeeze, tokenize


def test_mentions_hashtags_urls_are_typed():
    toks = tokenize("@JetBlue thanks! #BestAirline http://t.co/AbC123 www.example.com/x")
    assert toks == ["@jetblue", "thanks", "!", "#bestairline", "<url>", "<url>"]


def test_html_entities_and_apostrophes():
    assert normalize("A &amp; B &lt;3 C’est") == "A & B <3 C'est"
    assert tokenize("fish &amp; chips &lt;3") == ["fish", "chips", "<3"]
    assert tokenize("C’est top") == ["c'", "est", "top"]


def test_mixed_case_and_elongation():
    assert tokenize("SOOOO GOOOOD!!!!!") == ["soo", "good", "!!"]
    assert tokenize("Noooon c'est nuuul") == ["noon", "c'", "est", "nuul"]
    assert squeeze("yessss") == "yess"


def test_french_elisions_split_english_contractions_kept():
    assert tokenize("Je n'aime pas l'avion, qu'il est lent") == [
        "je", "n'", "aime", "pas", "l'", "avion", ",", "qu'", "il", "est", "lent"]
    assert tokenize("I don't like it, it's slow") == ["i", "don't", "like", "it", ",", "it's", "slow"]
    assert tokenize("aujourd'hui") == ["aujourd'hui"]


def test_emoji_and_emoticons():
    assert tokenize("love it 😍😍 👍🏽 :) :-( <3 :D") == [
        "love", "it", "😍", "😍", "👍", ":)", ":-(", "<3", ":d"]
    assert tokenize("❤️ ✈️") == ["❤", "✈"]
    assert is_emoji("😡") and not is_emoji(":(")
    # no emoticon out of clock times or ratios
    assert tokenize("at 12:30 ok") == ["at", "12:30", "ok"] or ":3" not in tokenize("at 12:30 ok")


def test_numbers_and_punctuation_shapes():
    assert tokenize("flight 1234 delayed??? ...") == ["flight", "<num>", "delayed", "??", "..."]
    assert tokenize("wait… what?!") == ["wait", "...", "what", "!?"]


def test_chunk_tokenisation_matches_whole_text():
    text = "@united your crew was GREAT!!! 👍 but the wifi... not so much https://t.co/z"
    assert tokenize(text) == [t for c in text.split() for t in chunk_tokens(c)]


def test_negation_scope_both_languages():
    for text, negated in [
        ("this is not good", ["good"]),
        ("not good at all. great food", ["good", "at", "all"]),
        ("I don't like it", ["like", "it"]),
        ("pas terrible", ["terrible"]),
        ("ce n'est pas bon", ["est", "pas", "bon"]),
        ("jamais content, mais bon", ["content"]),
        ("never again https://t.co/x great", ["again"]),
    ]:
        toks = tokenize(text)
        assert [t for t, n in zip(toks, negation_scope(toks)) if n] == negated, text


def test_analyze_extracts_entities():
    t = analyze("RT @Brand: Lancement du #NouveauProduit 🚀 https://WWW.Brand.fr/launch?x=1 &amp; http://bit.ly/a @Other")
    assert t.mentions == ("brand", "other")
    assert t.hashtags == ("nouveauproduit",)
    assert t.domains == ("brand.fr", "bit.ly")
    assert t.urls[0] == "https://WWW.Brand.fr/launch?x=1"
    assert t.emojis == ("🚀",)
    assert "lancement" in t.words and "<url>" not in t.words


def test_pieces_split_elisions_and_canonicalise_entities():
    from pipeline.text import pieces, strip_accents
    assert pieces("Qu'il est GÉNIAL @Acme, l'avion!! https://t.co/x") == [
        "Qu'", "il", "est", "GÉNIAL", "@u", ",", "l'", "avion", "!!", "http://u"]
    assert pieces("I don't like it, aujourd'hui") == ["I", "don't", "like", "it", ",", "aujourd'hui"]
    text = "C’est top &amp; n'est pas nul 😍👍🏽"
    assert [p for c in text.split() for p in pieces(c)] == pieces(text)
    assert strip_accents("génial, déçue, ça") == "genial, decue, ca"
