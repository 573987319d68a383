PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check reliability bench schema clean browser postgres screenshots rolling-restart

$(BIN)/python:
	@$(PYTHON) -c "import sys; sys.exit(sys.version_info < (3, 11))" 2>/dev/null || { echo "make: relais needs Python >= 3.11; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,chart,demo]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/relais demo

# The README's pictures of demo, plan and report (an 80-column terminal), from the demo.
screenshots: $(STAMP)
	$(BIN)/relais demo --screenshots docs/img

# Two workers (pytest-xdist), each taking whole files: most tests wait on a sandbox, a relais
# subprocess or a lease, so two cores run them in half the time.
test: check browser postgres
	$(BIN)/python -m pytest -q -m "not slow" -n 2 --dist loadfile

# The guard rails (docs/ARCHITECTURE.md): lint and format, types, the layers and no import
# circle, and every import declared. Each fails the build on its own.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/deptry .

# The status page test drives a real headless Chromium: Debian's, installed when missing
# (CI runs as root on Debian). Elsewhere, install one yourself or set RELAIS_CHROMIUM.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v "$$RELAIS_CHROMIUM" >/dev/null 2>&1 || \
	  { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } || \
	  { echo "make: the status page test needs Chromium: install it or set RELAIS_CHROMIUM" >&2; exit 1; }

# The state store's tests run on SQLite and on a real PostgreSQL: the machine's on 127.0.0.1:5432
# when it answers (or $$RELAIS_TEST_POSTGRES), else Debian's, installed and started (tests/postgres.sh).
postgres:
	@sh tests/postgres.sh

# The long runs (-m slow), then the reliability suite's fast variants, then their figures
# (build/reliability/*.json, or $$RELAIS_RELIABILITY_RESULTS) into docs/RELIABILITY.md.
reliability: $(STAMP)
	$(BIN)/python -m pytest -q -m slow
	$(BIN)/python -m pytest -q -m "not slow" tests/test_reliability_*.py
	$(BIN)/python tests/reliability_figures.py docs/RELIABILITY.md

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# deploy/docker-compose-replicas.yml restarted replica by replica under webhook load (needs Docker
# and docker-compose; ROLLING_ARGS="--python-image … --postgres-image …" where Docker Hub is out of reach).
rolling-restart: $(STAMP)
	$(BIN)/python -m benchmarks.rolling_restart $(ROLLING_ARGS)

schema: $(STAMP)
	$(BIN)/python -m sync.settings.schema > config/relais.schema.json

clean:
	rm -rf $(VENV) *.egg-info
