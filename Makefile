# Nightjar: every target installs what it needs first.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export UV_PYTHON_DOWNLOADS := never
CUSTOMERS ?= 2000
DAYS ?= 17
PORT ?= 3000
PG_PORT ?= 5433
SF ?= 0.1 1

.PHONY: install system-deps demo test dev dev-pg bench bench-sf10 lint clean bqemulator

.venv/.installed: pyproject.toml uv.lock
	$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv \
	  || $(PYTHON) -m pip install --quiet --user --break-system-packages uv
	# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set (as on these machines) every process would
	# otherwise compile Dagster and pandas from source again (seconds per process).
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

$(DAGSTER_HOME)/dagster.yaml:
	mkdir -p $(DAGSTER_HOME)
	ln -sf ../dagster.yaml $(DAGSTER_HOME)/dagster.yaml

install: .venv/.installed $(DAGSTER_HOME)/dagster.yaml

# Generate the demo world and run the whole graph over it (into demo/).
demo: install
	.venv/bin/nightjar demo --customers $(CUSTOMERS) --days $(DAYS) --out demo

# Debian packages the test servers need (listed in .ci/system-packages.txt).
system-deps:
	bash .ci/system-deps

# The BigQuery emulator's own virtualenv (bqemulator needs duckdb 1.5.6; the tests build it too).
bqemulator: install
	.venv/bin/python -c "from tests.integration.conftest import ensure_bqemulator_venv as e; print(e())"

# The whole test suite.
test: install system-deps
	.venv/bin/python -m pytest -q -n 2 tests

# The Dagster UI (and daemon) on http://127.0.0.1:$(PORT) over the demo's config.
dev: install
	NIGHTJAR_CONFIG=$${NIGHTJAR_CONFIG:-$(CURDIR)/demo/nightjar.yaml} \
	  .venv/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

# The instance file for PostgreSQL: dagster.yaml followed by the `storage: postgres:` block that
# reads the DAGSTER_PG_* variables (pipeline/ops/dagster_postgres.yaml), in its own Dagster home.
$(DAGSTER_HOME)/pg/dagster.yaml: dagster.yaml pipeline/ops/dagster_postgres.yaml
	mkdir -p $(@D)
	cat $^ > $@

# The same on PostgreSQL: a local server in .dagster_home/postgres (127.0.0.1:$(PG_PORT)), stopped on
# exit; Dagster's home is .dagster_home/pg (its instance file above).
dev-pg: install system-deps $(DAGSTER_HOME)/pg/dagster.yaml
	pg_env=$$(.venv/bin/python -m pipeline.ops.postgres_server start $(DAGSTER_HOME)/postgres $(PG_PORT)) && \
	trap '.venv/bin/python -m pipeline.ops.postgres_server stop $(DAGSTER_HOME)/postgres' EXIT && \
	env $$pg_env DAGSTER_HOME=$(DAGSTER_HOME)/pg NIGHTJAR_CONFIG=$${NIGHTJAR_CONFIG:-$(CURDIR)/demo/nightjar.yaml} \
	  .venv/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

# The benchmark (bench/): scale factors $(SF) (default 0.1 and 1) -> bench/RESULTS.md. `make bench SF=10`
# is `make bench-sf10` (below): SF10's every measurement on copies would need hours and more disk.
ifeq ($(strip $(SF)),10)
bench: bench-sf10
else
bench: install
	.venv/bin/python -m bench.run --sf $(SF)
endif

# SF10 for real (1,000,000 customers × 90 days; `make bench SF=10` runs it, `make test` does not): generates
# the world, runs the 90-day backfill, the nightly run of one day and the read API under load during another
# nightly run, and adds them (time, peak memory, latencies, the scaling exponents from the other scale
# factors measured) to bench/RESULTS.md. SF10=0.01 tries it small;
# BENCH_RESULTS=path writes elsewhere. DuckDB gets 5GB (the default 2GB ran out in attribution at SF10;
# the target is a peak of 8 GiB with LightGBM's own memory beside it): SF10_MEMORY=... changes it.
SF10 ?= 10
SF10_MEMORY ?= 5GB
BENCH_RESULTS ?= bench/RESULTS.md
bench-sf10: install
	NIGHTJAR_DUCKDB_MEMORY_LIMIT=$(SF10_MEMORY) .venv/bin/python -m bench.run --sf $(SF10) --only backfill_90_days nightly_one_day api_under_load --repeat 1 --results $(BENCH_RESULTS)

# The quality gates: style, types, SQL, the house's import layers, the Dagster definitions (`dg check
# defs` loads pipeline.definitions over the example config; the project is [tool.dg] in pyproject.toml).
lint: install
	.venv/bin/ruff check pipeline assets tests bench
	.venv/bin/ruff format --check pipeline assets tests bench
	.venv/bin/mypy
	.venv/bin/sqlfluff lint sql --processes 2
	.venv/bin/lint-imports
	NIGHTJAR_CONFIG=$(CURDIR)/nightjar.example.yaml VIRTUAL_ENV=$(CURDIR)/.venv .venv/bin/dg check defs

clean:
	rm -rf demo .dagster_home/storage .dagster_home/logs .dagster_home/history .dagster_home/schedules .dagster_home/pg
