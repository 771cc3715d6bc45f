# veille: `make demo` runs the demo, `make test` runs the test suite. Both install what they need.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test soak chaos install system-deps kafka-jars clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Prometheus/promtool/Alertmanager (ops tests) and Chromium (report test, `veille report --png`)
## from Debian; skipped when already there.
system-deps:
	@command -v promtool >/dev/null && command -v prometheus-alertmanager >/dev/null && \
	  command -v chromium >/dev/null || \
	  { apt-get update -qq && apt-get install -y -qq prometheus prometheus-alertmanager \
	    chromium >/dev/null; }

## Apache Kafka broker jars from Maven Central into .cache/kafka (idempotent).
kafka-jars:
	bash deploy/kafka/fetch.sh

demo: $(STAMP)
	$(BIN)/veille demo

## Two pytest processes, a file at a time each (`--dist loadfile`): the broker and chaos tests
## mostly wait (restarts, session timeouts), so the suite takes ~10 min instead of ~16.
PYTEST_ARGS ?= -n 2 --dist loadfile
test: $(STAMP) system-deps kafka-jars
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure here" >&2; exit 1; fi; \
	  exit $$rc

## Fault scenarios, short form (< 10 min): bench/chaos.py. Long soak (RSS, lag, commits over
## time; fails on growth or stalls): SOAK_SECONDS (default 1800) at 300 mentions/s, enough to
## fill the engine's bounded memories (200,000 recent texts) in the first third.
chaos: $(STAMP) kafka-jars
	$(BIN)/python bench/chaos.py

SOAK_SECONDS ?= 1800
soak: $(STAMP) kafka-jars
	$(BIN)/python bench/chaos.py --only soak --soak-seconds $(SOAK_SECONDS) --soak-rate 300

clean:
	rm -rf $(VENV) .cache var .pytest_cache
