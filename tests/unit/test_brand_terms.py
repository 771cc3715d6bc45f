"""The brand's own names are no evidence: not in an alert's top terms, nor in the report's."""

from __future__ import annotations

import orjson
import pytest

from pipeline.evidence import brand_terms, burst_term_counts
from pipeline.replay import OfflineReplay, load_run
from pipeline.settings import BrandConfig, Settings
from tests.support.streams import stream

OWN = {"acme", "#acme", "acme's", "#acmehelp", "acmehelp", "#acmefrance"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """An angry burst whose mentions name the brand far more than its usual mentions do."""
    ms = stream("acme", 11, 6, seed=1, bursts=[(10.0, 30, 40, "angry")])
    for m in ms:
        if "#acmefail" in m["text"]:
            m["text"] += " Acme's support: ACME never answers #Acme #AcmeHelp #AcmeFrance"
    settings = Settings(detection={"warmup_s": 6 * 3600},
                        brands=[BrandConfig(name="acme", handles=["acmehelp"],
                                            display_names=["Acme France"])])
    out = tmp_path_factory.mktemp("run")
    summary = OfflineReplay(settings, out).run(orjson.dumps(m) for m in ms)
    return summary, load_run(out)


def test_alert_evidence_has_no_brand_name_in_its_top_terms(run):
    summary, loaded = run
    crisis = next(i for i in summary["incidents"] if i["kind"] == "crisis")
    terms = {t["term"] for t in crisis["top_terms"]}
    assert "leak" in terms and not terms & OWN  # the burst's news stays
    crisis_alert = next(a for a in loaded["alerts"] if a["severity"] in ("high", "critical"))
    tags = {t["term"] for t in crisis_alert["evidence"]["top_hashtags"]}
    assert "#acmefail" in tags and not tags & OWN
    for a in loaded["alerts"]:  # every update, hashtags too
        ev = a["evidence"]
        assert not {t["term"] for t in ev["top_terms"] + ev["top_hashtags"]} & OWN


def test_report_terms_have_no_brand_name(run):
    _, loaded = run
    terms = [t["term"] for t in loaded["terms"]["acme"]]
    assert "leak" in terms and not set(terms) & OWN


def test_brand_terms_of_names_handles_and_several_words():
    own = brand_terms(["acme", "AcmeHelp", "@acme_fr", "Acme France", "The Body Shop"])
    assert {"acme", "#acme", "acme's", "acmehelp", "#acme_fr", "acmefrance",
            "#bodyshop", "#thebodyshop"} <= own
    assert not {"france", "body", "shop", "#acmefail"} & own  # a name's words can be news
    counts = burst_term_counts(["Acme's app: France #ACME #AcmeFail"], own)
    assert counts == {"app": 1, "france": 1, "#acmefail": 1}
