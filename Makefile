# Two commands do everything on a fresh clone:
#   make demo   the main job: the reference server on the embedded default,
#               checked by the conformance suite, report printed
#   make test   lint (ruff, mypy --strict) and every test (installs what it
#               needs, starts PostgreSQL)
PY      ?= python3
VENV    ?= .venv
BIN      = $(VENV)/bin
STAMP    = $(VENV)/.installed

.PHONY: demo serve test lint bench sysdeps fuzz clean

$(STAMP): requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/billing-kit demo

serve: $(STAMP)
	$(BIN)/billing-kit serve

# Debian packages the tests drive for real: Chromium for the docs and Swagger UI,
# wrk for the benchmark. PostgreSQL is started if it is installed but stopped.
sysdeps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v wrk >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver wrk >/dev/null)
	@pg_isready -q -h 127.0.0.1 -p 5432 || \
	  (pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start && sleep 2 && pg_isready -h 127.0.0.1 -p 5432)

test: $(STAMP) sysdeps lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP) sysdeps
	$(BIN)/pip install -q -r bench/requirements.txt
	$(BIN)/python bench/run.py

fuzz: $(STAMP)
	$(BIN)/python bench/fuzz_negative.py --requests 10000

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache
