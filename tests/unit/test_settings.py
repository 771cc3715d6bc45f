"""One typed settings object: defaults, env, TOML file, aliases, errors, secrets."""

import pytest
from pydantic import ValidationError

from pipeline.settings import Settings, load_settings


def test_defaults_are_safe(monkeypatch):
    monkeypatch.delenv("KAFKA_BOOTSTRAP", raising=False)
    s = Settings()
    assert s.metrics_host == "127.0.0.1"  # loopback unless told otherwise
    assert s.kafka_bootstrap == ""
    assert s.topics.mentions == "veille.mentions"


def test_env_and_alias(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "k1:9092,k2:9092")
    monkeypatch.setenv("VEILLE_DETECTION__BUCKET_S", "30")
    monkeypatch.setenv("VEILLE_TOPICS__ALERTS", "ops.alerts")
    s = Settings()
    assert s.kafka_bootstrap == "k1:9092,k2:9092"
    assert s.detection.bucket_s == 30
    assert s.topics.alerts == "ops.alerts"


def test_toml_file_and_env_precedence(tmp_path, monkeypatch):
    f = tmp_path / "veille.toml"
    f.write_text(
        'kafka_bootstrap = "file:9092"\nmetrics_port = 9999\n'
        '[[brands]]\nname = "acme"\nhandles = ["acme", "acme_support"]\n'
        'confidential_terms = ["Project Falcon"]\n'
        '[detection]\nwatch_score = 5.5\n'
    )
    monkeypatch.setenv("VEILLE_METRICS_PORT", "9100")
    s = load_settings(f)
    assert s.kafka_bootstrap == "file:9092"
    assert s.metrics_port == 9100  # env wins over the file
    assert s.brand("acme").confidential_terms == ["Project Falcon"]
    assert s.detection.watch_score == 5.5


def test_unknown_keys_and_bad_values_are_errors(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("kafka_bootstrapp = 'typo:9092'\n")
    with pytest.raises(ValidationError):
        load_settings(f)
    with pytest.raises(ValidationError):
        Settings(metrics_port=70000)
    with pytest.raises(ValidationError, match="duplicate brand"):
        Settings(brands=[{"name": "a"}, {"name": "a"}])


def test_missing_settings_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such settings file"):
        load_settings(tmp_path / "nope.toml")


def test_secrets_are_masked_when_dumped():
    s = Settings(security={"protocol": "SASL_SSL", "sasl_mechanism": "PLAIN",
                           "sasl_username": "u", "sasl_password": "hunter2"})
    assert "hunter2" not in str(s.redacted())
    assert "hunter2" not in repr(s)
    assert s.security.sasl_password.get_secret_value() == "hunter2"


def test_readme_settings_example_loads(tmp_path):
    """The README's example `veille.toml` is a valid settings file (unknown keys are errors)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    example = re.search(r"Example `veille.toml`:\n\n```toml\n(.*?)```", readme, re.S)
    assert example, "README lost its settings example"
    (tmp_path / "veille.toml").write_text(example.group(1))
    s = load_settings(tmp_path / "veille.toml")
    assert s.brand("acme") is not None and s.kafka_bootstrap


def test_a_fresh_process_reads_nested_settings_from_env_without_warnings():
    """The worker child reads its settings from env (agents.workers.worker_env) before any
    model was built: a nested model defined after its user warned on every start
    (pydantic-settings' IncompleteFieldDefinitionWarning for ``detection.risks``)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root), KAFKA_BOOTSTRAP="k:9092",
               VEILLE_DETECTION='{"bucket_s": 30, "risks": {"hijack_score": 20.0}}',
               VEILLE_TOPICS='{"alerts": "ops.alerts"}')
    code = ("from pipeline.settings import Settings; s = Settings(); "
            "print(s.detection.bucket_s, s.detection.risks.hijack_score, s.topics.alerts)")
    out = subprocess.run([sys.executable, "-W", "always", "-c", code], env=env, cwd=root,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["30", "20.0", "ops.alerts"]
    assert "Warning" not in out.stderr, out.stderr
