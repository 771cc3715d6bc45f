"""docs/metrics.md and the metrics the worker exports agree both ways (name, type, labels)."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

import agents.metrics as metrics

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
ROW = re.compile(r"^\|\s*`(?P<name>[a-z_:][a-z0-9_:]*)`\s*\|\s*(?P<type>\w+)\s*\|"
                 r"\s*(?P<labels>[^|]*)\|\s*(?P<meaning>[^|]+)\|(?P<promql>.*)\|\s*$")


def exported_name(family_name: str, kind: str) -> str:
    """The name a family is scraped under (counters get ``_total``)."""
    return family_name + "_total" if kind == "counter" else family_name


def exported() -> dict[str, tuple[str, tuple[str, ...]]]:
    """veille metric families of the registry: exported name -> (type, label names)."""
    labels = {}
    for obj in vars(metrics).values():
        if isinstance(obj, MetricWrapperBase):
            fam = obj.describe()[0]
            labels[exported_name(fam.name, fam.type)] = tuple(obj._labelnames)
    out = {}
    for fam in REGISTRY.collect():
        if fam.name.startswith("veille_"):
            name = exported_name(fam.name, fam.type)
            out[name] = (fam.type, labels.get(name, ()))
    return out


def documented() -> dict[str, tuple[str, tuple[str, ...], str, str]]:
    """Rows of the catalog table: name -> (type, labels, meaning, promql)."""
    rows = {}
    for line in DOC.read_text().splitlines():
        m = ROW.match(line)
        if m:
            assert m["name"] not in rows, f"{m['name']} documented twice"
            labels = tuple(re.findall(r"`(\w+)`", m["labels"]))
            rows[m["name"]] = (m["type"], labels, m["meaning"].strip(), m["promql"].strip())
    return rows


def test_doc_lists_every_exported_metric_and_nothing_else():
    doc, exp = documented(), exported()
    assert exp, "agents.metrics registered no veille_* metric"
    assert sorted(set(exp) - set(doc)) == [], "exported but not in docs/metrics.md"
    assert sorted(set(doc) - set(exp)) == [], "in docs/metrics.md but not exported"


def test_doc_types_and_labels_match():
    doc, exp = documented(), exported()
    for name, (kind, labels) in exp.items():
        assert doc[name][0] == kind, f"{name}: doc says {doc[name][0]}, exported as {kind}"
        assert set(doc[name][1]) == set(labels), f"{name}: labels {doc[name][1]} vs {labels}"


def test_doc_rows_have_meaning_and_query_using_the_metric():
    for name, (kind, _labels, meaning, promql) in documented().items():
        assert len(meaning) > 10, name
        base = name.removesuffix("_total")
        assert base in promql, f"{name}: the typical PromQL does not use the metric"
        if kind == "histogram":
            assert "_bucket" in promql, f"{name}: show a quantile over _bucket"
