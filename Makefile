# The two commands: `make demo` and `make test`. Each installs what it needs on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

export UV_COMPILE_BYTECODE := 1
export TALENTLOOP_HOME ?= $(CURDIR)/.talentloop
# uv installed by pip always answers to `python3 -m uv`, whatever PATH holds.
UV := python3 -m uv
RUN := $(UV) run --frozen --no-sync
DEMO_DIR := $(TALENTLOOP_HOME)/demo-company
# Where `make demo` serves the API; the demo prints its URLs for the same host and port (`make demo API_PORT=8010`; not HOST/PORT, which shells and hosts often set).
API_HOST ?= 127.0.0.1
API_PORT ?= 8000

.PHONY: install demo test lint clean

install:
	@$(UV) --version >/dev/null 2>&1 || { echo "installing uv with pip"; python3 -m pip install --quiet uv; }
	@$(UV) sync --frozen

demo: install
	$(RUN) talentloop demo --employees 2000 --months 36 --seed 7 --out $(DEMO_DIR) --host $(API_HOST) --port $(API_PORT)
	$(RUN) talentloop serve --host $(API_HOST) --port $(API_PORT)

# Two test workers on two cores: one OpenMP thread each, or LightGBM's spinning threads slow everything ~6x.
test: install
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || echo "NOTE: no Chromium at /usr/bin/chromium (or no /usr/bin/chromedriver): the console's browser tests will be SKIPPED"
	OMP_NUM_THREADS=1 $(RUN) pytest -q -n 2 --dist loadgroup

lint: install
	$(RUN) ruff check .

clean:
	rm -rf .talentloop .pytest_cache
