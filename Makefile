# `make run` and `make test` each do their whole set-up on a fresh Debian machine with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: run test setup browser wrk migrate curricula load clean bench messages

# Debian libraries WeasyPrint needs for PDF documents; installed when missing and we are root.
SYSTEM_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && apt-get install -y -qq python3-venv; \
		else echo "Install the python3-venv package first (sudo apt-get install python3-venv)"; exit 1; fi; }
	@missing=""; for lib in $(SYSTEM_LIBS); do dpkg -s $$lib >/dev/null 2>&1 || missing="$$missing $$lib"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else echo "PDF export needs:$$missing (sudo apt-get install$$missing)"; fi; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

setup: $(STAMP)

migrate: setup
	$(BIN)/planner migrate

curricula: migrate
	$(BIN)/planner load --if-empty

run: curricula
	$(BIN)/planner serve --port $(PORT) --with-worker

# Browser tests drive Debian's Chromium (never a downloaded browser) and the HTML validator runs
# on Java; install both from Debian when we can.
browser:
	@missing=""; command -v chromium >/dev/null || missing="chromium"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else echo "missing:$$missing - browser and validator tests will be skipped (sudo apt-get install$$missing)"; fi; fi

test: setup browser
	$(BIN)/python -m pytest

# The load test and the throughput benchmarks drive the server with Debian's wrk.
wrk:
	@command -v wrk >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
		else echo "missing: wrk - the load test needs it (sudo apt-get install wrk)"; fi; }

bench: setup wrk
	$(BIN)/python -m bench.run

# A bounded load test on a scratch PostgreSQL database: make load LOAD_ARGS="--seconds 10".
load: setup wrk
	$(BIN)/python -m bench.load $(LOAD_ARGS)

# Refresh the translation template after changing UI strings (then `pybabel update`).
messages: setup
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -o app/locale/messages.pot .

clean:
	rm -rf $(VENV) var .pytest_cache
