# OutageHub: `make run` (the whole product, embedded default) and `make test`.
# Each target sets itself up on a fresh machine: virtualenv, install, migrate.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# One stamp per requirements file, named by a checksum of what it installs, so a changed pin
# reinstalls. requirements-dev.txt starts with `-r requirements.txt`, so its stamp covers both.
APP_STAMP := $(VENV)/.installed-app-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck bench bench-detect venv venv-dev chromium clean

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
test: venv-dev chromium lint typecheck
	DJANGO_SETTINGS_MODULE=outagehub.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with the Django and DRF plugins; what it checks and how strictly is in pyproject.toml.
typecheck: venv-dev
	$(BIN)/mypy

# Page tests drive Debian's Chromium through Playwright (no browser download).
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian chromium for the browser tests"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -q chromium >/dev/null || \
	  { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -q >/dev/null && \
	    $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -q chromium >/dev/null; }; }

clean:
	rm -rf $(VENV) data staticfiles

## bench: benchmarks (ratios against a baseline measured in the same process); bench_realdata
## fetches its public labelled data into OUTAGEHUB_NAB_DIR (./data/nab) once, or says skipped offline
# Production-like settings (DEBUG off) on a throwaway SQLite database, or on
# DATABASE_URL when set (inside a rolled-back transaction).
bench: venv-dev
	export DJANGO_SETTINGS_MODULE=outagehub.test OUTAGEHUB_DATA_DIR=$$(mktemp -d) && \
	$(BIN)/python manage.py migrate --no-input -v 0 && \
	$(BIN)/python manage.py bench_intake && \
	$(BIN)/python manage.py bench_rollups
	DJANGO_SETTINGS_MODULE=outagehub.test $(BIN)/python manage.py bench_detect
	DJANGO_SETTINGS_MODULE=outagehub.test $(BIN)/python manage.py bench_realdata
	DJANGO_SETTINGS_MODULE=outagehub.test $(BIN)/python manage.py bench_attribution

## bench-detect: the detector over simulated scenarios (a few minutes)
bench-detect: venv-dev
	DJANGO_SETTINGS_MODULE=outagehub.test OUTAGEHUB_DATA_DIR=$$(mktemp -d) $(BIN)/python manage.py bench_detect
