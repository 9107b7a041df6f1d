# OutageHub: `make run` (the whole product, embedded default) and `make test`.
# Each target sets itself up on a fresh machine: virtualenv, install, migrate.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# One stamp per requirements file, named by a checksum of what it installs, so a changed pin
# reinstalls. requirements-dev.txt starts with `-r requirements.txt`, so its stamp covers both.
APP_STAMP := $(VENV)/.installed-app-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck audit bench bench-quick bench-micro bench-detect bench-flood venv venv-dev chromium clean screenshots

$(APP_STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-app-* && touch $(APP_STAMP)

$(DEV_STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(APP_STAMP) $(DEV_STAMP)

## venv: what the application needs to run (requirements.txt)
venv: $(APP_STAMP)

## venv-dev: that plus the test, lint and type-check tools (requirements-dev.txt)
venv-dev: $(DEV_STAMP)

## run: migrate, load the demo catalog, start web + Celery worker + beat (Ctrl-C stops all)
run: venv
	scripts/run

## test: lint, type check, migration check and the whole pytest suite
test: venv-dev chromium lint typecheck audit
	DJANGO_SETTINGS_MODULE=outagehub.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with the Django and DRF plugins; what it checks and how strictly is in pyproject.toml.
typecheck: venv-dev
	$(BIN)/mypy

# Known vulnerabilities in pinned packages fail it; an unreachable advisory database is reported, not fatal
# (OUTAGEHUB_AUDIT_STRICT=1: fatal too). See scripts/audit.py.
audit: venv-dev
	$(BIN)/python scripts/audit.py

# Page tests drive Debian's Chromium through Playwright (no browser download).
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian chromium for the browser tests"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -q chromium >/dev/null || \
	  { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -q >/dev/null && \
	    $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -q chromium >/dev/null; }; }

## screenshots: home, service and outage pages during a simulated outage, desktop and phone, into docs/screenshots
screenshots: venv-dev chromium
	OUTAGEHUB_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider reports/tests/web/test_screenshots.py

clean:
	rm -rf $(VENV) data staticfiles

## bench: every performance target against its baseline in one run, one table (tens of minutes)
# PostgreSQL on loopback as in .ci/run; its own Redis, gunicorn and Celery on loopback ports.
# Production settings (DEBUG off) with a benchmark-only SECRET_KEY: see bench/run.py.
bench: venv-dev
	scripts/bench

## bench-quick: the same figures at smaller sizes, in under five minutes
bench-quick: venv-dev
	scripts/bench --quick

## bench-micro: in-process micro-benchmarks (intake paths, rollups, the detector over scenarios and
## real data, attribution, a flood); bench_realdata fetches its public labelled data into
## OUTAGEHUB_NAB_DIR (./data/nab) once, or says skipped offline
# Test settings for every step (each sets its own SECRET_KEY), on a throwaway SQLite database or
# on DATABASE_URL when set (inside a rolled-back transaction).
bench-micro: venv-dev
	export DJANGO_SETTINGS_MODULE=outagehub.test OUTAGEHUB_DATA_DIR=$$(mktemp -d) && \
	$(BIN)/python manage.py migrate --no-input -v 0 && \
	$(BIN)/python manage.py bench_intake && \
	$(BIN)/python manage.py bench_rollups && \
	$(BIN)/python manage.py bench_detect
	DJANGO_SETTINGS_MODULE=outagehub.test $(BIN)/python manage.py bench_realdata
	DJANGO_SETTINGS_MODULE=outagehub.test $(BIN)/python manage.py bench_attribution
	DJANGO_SETTINGS_MODULE=outagehub.test $(BIN)/python manage.py bench_flood

## bench-flood: one address flooding reports vs everyone else's latency, on a loopback gunicorn (a minute)
bench-flood: venv-dev
	DJANGO_SETTINGS_MODULE=outagehub.test $(BIN)/python manage.py bench_flood

## bench-detect: the detector over simulated scenarios (a few minutes)
bench-detect: venv-dev
	DJANGO_SETTINGS_MODULE=outagehub.test OUTAGEHUB_DATA_DIR=$$(mktemp -d) $(BIN)/python manage.py bench_detect
