# Mortar — `make run` (embedded: SQLite, nothing else) and `make test` (real PostgreSQL + Redis).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# pytest arguments, e.g. `make test PYTEST_ARGS="-k admin -x"`
PYTEST_ARGS ?=

.PHONY: run test lint bench clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

# devsetup writes var/dev.env (MORTAR_DEBUG=1, a secret key, ...): the server and every later
# manage.py command read it; the two steps before it need MORTAR_DEBUG=1 on the first run.
run: $(VENV)/.installed
	MORTAR_DEBUG=1 $(PY) manage.py migrate --noinput -v0
	MORTAR_DEBUG=1 $(PY) manage.py devsetup --port $(PORT)
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# The suite runs twice, side by side: on a throwaway PostgreSQL and on SQLite, each with a
# throwaway Redis; the browser tests drive Debian's Chromium, the GraphQL-over-HTTP audit runs
# on Debian's Node (each installed with apt-get when missing).
test: lint
	MORTAR_SECRET_KEY=test-only-secret-key-not-for-production \
	  $(PY) scripts/test_services.py --databases postgres,sqlite --side-by-side --browser --node -- \
	  $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# Every benchmark on a throwaway PostgreSQL, then the data API ones (reads, mutations, identity,
# cursor paging) on SQLite (needs wrk: it is installed with apt-get when missing). `make bench
# BENCH_ARGS=--quick` for a smoke run.
bench: $(VENV)/.installed
	MORTAR_SECRET_KEY=bench-only-secret-key \
	  $(PY) scripts/test_services.py --databases postgres -- $(PY) -m bench $(BENCH_ARGS)
	MORTAR_SECRET_KEY=bench-only-secret-key \
	  $(PY) scripts/test_services.py --databases sqlite -- \
	  $(PY) -m bench --only data_api $(BENCH_ARGS)
	for part in mutations identity cursors trash; do MORTAR_SECRET_KEY=bench-only-secret-key \
	  $(PY) scripts/test_services.py --databases sqlite -- \
	  $(PY) -m bench --only $$part $(BENCH_ARGS) || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
