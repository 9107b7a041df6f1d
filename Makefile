# OutageHub: `make run` (the whole product, embedded default) and `make test`.
# Each target sets itself up on a fresh machine: virtualenv, install, migrate.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)

.PHONY: run test lint bench bench-detect venv chromium clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

## run: migrate, load the demo catalog, start web + Celery worker + beat (Ctrl-C stops all)
run: venv
	scripts/run

## test: lint, migration check and the whole pytest suite
test: venv chromium lint
	DJANGO_SETTINGS_MODULE=outagehub.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Page tests drive Debian's Chromium through Playwright (no browser download).
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian chromium for the browser tests"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -q chromium >/dev/null || \
	  { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -q >/dev/null && \
	    $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -q chromium >/dev/null; }; }

clean:
	rm -rf $(VENV) data staticfiles

## bench: benchmarks (ratios against a baseline measured in the same process)
# Production-like settings (DEBUG off) on a throwaway SQLite database, or on
# DATABASE_URL when set (inside a rolled-back transaction).
bench: venv
	export DJANGO_SETTINGS_MODULE=outagehub.test OUTAGEHUB_DATA_DIR=$$(mktemp -d) && \
	$(BIN)/python manage.py migrate --no-input -v 0 && \
	$(BIN)/python manage.py bench_intake && \
	$(BIN)/python manage.py bench_rollups
	$(BIN)/python manage.py bench_detect

## bench-detect: the detector over simulated scenarios (a few minutes)
bench-detect: venv
	DJANGO_SETTINGS_MODULE=outagehub.test OUTAGEHUB_DATA_DIR=$$(mktemp -d) $(BIN)/python manage.py bench_detect
