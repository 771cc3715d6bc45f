"""Cheap language identification (pipeline.lang)."""

import pytest

from pipeline.lang import detect, resolve


@pytest.mark.parametrize("text", [
    "@united my flight was cancelled and nobody is helping",
    "I love this app so much, thank you!",
    "What a day... the worst customer service ever",
])
def test_english(text):
    assert detect(text) == "en"


@pytest.mark.parametrize("text", [
    "@SNCF encore un train en retard, c'est pas possible",
    "Franchement je suis très déçu par le service client",
    "Merci beaucoup pour votre aide, super équipe !",
    "Ce n'est pas terrible",
])
def test_french(text):
    assert detect(text) == "fr"


@pytest.mark.parametrize("text", [
    "El servicio es muy malo y el vuelo llegó tarde",
    "Das ist wirklich nicht gut, ich bin sehr enttäuscht",
    "Il servizio è stato molto lento, non sono contento",
    "Эта авиакомпания ужасна",
    "この航空会社は最悪です",
    "هذه الشركة سيئة جدا",
])
def test_other_languages_are_und(text):
    assert detect(text) == "und"


def test_no_evidence_returns_default():
    assert detect("😡😡😡") == "und"
    assert detect("😡😡😡", default="en") == "en"
    assert detect("@brand http://t.co/x #promo", default="en") == "en"


def test_resolve_prefers_given_lang():
    assert resolve("en", "Bonjour à tous, merci") == "en"
    assert resolve("fr-FR", "hello") == "fr"
    assert resolve("EN_us", "x") == "en"
    assert resolve("de", "great stuff") == "und"
    assert resolve("und", "merci pour tout c'est top") == "fr"
    assert resolve(None, "thanks a lot for the help") == "en"
    assert resolve("zxx", "🔥", default="en") == "en"
