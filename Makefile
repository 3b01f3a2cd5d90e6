# Two commands do everything on a fresh clone:
#   make demo   the main job: the reference server on the embedded default,
#               checked by the conformance suite, report printed (needs Python 3.11)
#   make test   lint (ruff, mypy --strict, Spectral, Redocly) and every test; needs
#               what docs/guide/how-it-is-tested.md "Prerequisites" lists, checked first by tools/prereqs.sh
#               (one line per missing thing)
PY      ?= python3
VENV    ?= .venv
BIN      = $(VENV)/bin
STAMP    = $(VENV)/.installed
LINTERS  = tools/lint/node_modules/.installed

.PHONY: demo serve test test-long lint bench sysdeps spec-linters fuzz clean

$(STAMP): requirements.lock pyproject.toml
	@tools/prereqs.sh python $(PY)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/billing-kit demo

serve: $(STAMP)
	$(BIN)/billing-kit serve

# What the tests drive for real: Chromium, ChromeDriver, wrk, curl (installed with apt-get
# when run as root), Node.js 20 + npm, and PostgreSQL (started if installed but stopped).
sysdeps: $(STAMP)
	@tools/prereqs.sh test $(VENV)

# Spectral and Redocly, pinned in tools/lint/package-lock.json (tests/test_spec_lint.py runs them).
spec-linters: $(LINTERS)

$(LINTERS): tools/lint/package.json tools/lint/package-lock.json
	cd tools/lint && npm ci --no-audit --no-fund --loglevel=error
	touch $(LINTERS)

test: $(STAMP) sysdeps $(LINTERS) lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=25

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Minutes-long deep runs (a 1-in-20,000 defect): not part of `make test`; docs/guide/deep-runs.md quotes them.
test-long: $(STAMP)
	$(BIN)/python -m pytest -m long -v --durations=0

bench: $(STAMP) sysdeps
	$(BIN)/pip install -q -r bench/requirements.txt
	$(BIN)/python bench/run.py

fuzz: $(STAMP)
	$(BIN)/python bench/fuzz_negative.py --requests 10000

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache tools/lint/node_modules
