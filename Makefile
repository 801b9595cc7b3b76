# The two commands: `make demo` and `make test`. Each installs what it needs on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

export UV_COMPILE_BYTECODE := 1
export TALENTLOOP_HOME ?= $(CURDIR)/.talentloop
# uv installed by pip always answers to `python3 -m uv`, whatever PATH holds.
UV := python3 -m uv
RUN := $(UV) run --frozen --no-sync
DEMO_DIR := $(TALENTLOOP_HOME)/demo-company

.PHONY: install demo test lint clean

install:
	@$(UV) --version >/dev/null 2>&1 || { echo "installing uv with pip"; python3 -m pip install --quiet uv; }
	@$(UV) sync --frozen

demo: install
	$(RUN) talentloop simulate --employees 2000 --months 36 --seed 7 --out $(DEMO_DIR)
	$(RUN) talentloop ingest $(DEMO_DIR)
	$(RUN) talentloop features build
	$(RUN) talentloop features apply
	$(RUN) talentloop features materialize
	$(RUN) talentloop train attrition
	$(RUN) talentloop score attrition
	$(RUN) talentloop train course-ranker
	$(RUN) talentloop train skill-demand
	@KEY=$$($(RUN) talentloop keys create --role admin --name demo-admin 2>/dev/null); \
	EMP=$$($(RUN) python -c "from features.settings import Settings; from features.offline import read_clean; \
	e = read_clean(Settings(), 'employment_events'); t = e[e.event_type == 'termination'].employee_id; \
	print(e[~e.employee_id.isin(t)].employee_id.iloc[-1])"); \
	echo ""; echo "demo: workspace $(TALENTLOOP_HOME); MLflow UI: .venv/bin/mlflow ui --backend-store-uri sqlite:///$(TALENTLOOP_HOME)/mlflow.db"; \
	echo "demo API key (admin): $$KEY"; echo "try:"; \
	echo "  curl -s -H 'Authorization: Bearer '$$KEY 'http://127.0.0.1:8000/v1/employees/'$$EMP'/attrition-risk?horizon_months=3&lang=zh'"; \
	echo "  curl -s -H 'Authorization: Bearer '$$KEY 'http://127.0.0.1:8000/v1/employees/'$$EMP'/course-recommendations?k=10&lang=en'"; \
	echo "  curl -s -H 'Authorization: Bearer '$$KEY 'http://127.0.0.1:8000/v1/attrition-alerts?min_risk=0.1&page_size=5'"; \
	echo ""
	$(RUN) talentloop serve --host 127.0.0.1 --port 8000

# Two test workers on two cores: one OpenMP thread each, or LightGBM's spinning threads slow everything ~6x.
test: install
	OMP_NUM_THREADS=1 $(RUN) pytest -q -n 2 --dist loadgroup

lint: install
	$(RUN) ruff check .

clean:
	rm -rf .talentloop .pytest_cache
