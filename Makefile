# The two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

# Local commands run the development configuration unless told otherwise (the app itself
# defaults to production, which refuses development secrets).
export VOUCHER_ENV ?= development
# `make test` runs the tests in one process per core, two at the most (pytest-xdist; a module's
# tests stay in one process, so its module-scoped servers start once). Two, because a process
# running the 32-thread concurrency tests holds about 35 PostgreSQL connections, and the
# server's default max_connections is 100. TEST_WORKERS=0: all in this process.
TEST_WORKERS ?= auto
TEST_MAX_WORKERS ?= 2

.PHONY: install run test check bench format clean vendor translations compile mutation rules

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## Migrate the embedded SQLite database, create development keys and demo data, serve on :5000.
run: install compile
	$(FLASK) db upgrade
	$(FLASK) keys init
	$(FLASK) demo load --if-empty
	$(FLASK) demo accounts
	$(FLASK) serve --host 127.0.0.1 --port 5000

## Unit, integration and end-to-end tests. Set VOUCHER_TEST_POSTGRES_URL to include PostgreSQL.
test: install compile
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses $(TEST_MAX_WORKERS) --dist loadscope

## Mutation testing of the pure modules (docs/testing.md); not part of `make test`. Resumes
## from mutants/. All of the scope unless told:
##   make mutation MODULES="voucher_app/domain/money.py voucher_app/signing/note.py"
##   make mutation CHANGED_SINCE=origin/main BUDGET=360 [SEED=...] [MEMORY_MB=2048]
mutation: install
	$(BIN)/python -m tools.mutation $(if $(MODULES),--modules $(MODULES)) \
		$(if $(CHANGED_SINCE),--changed-since $(CHANGED_SINCE)) $(if $(BUDGET),--budget $(BUDGET)) \
		$(if $(SEED),--seed $(SEED)) $(if $(MEMORY_MB),--memory-mb $(MEMORY_MB))

## The money rules (tests/money_rules.toml): each rule of the services that move money broken in
## turn, in a copy of the tree, and its named tests run; exit 1 if one is not caught. Not part of
## `make test` (it runs for many minutes). Set VOUCHER_TEST_POSTGRES_URL for the row-lock rules.
rules: install compile
	$(BIN)/python tools/rule_check.py $(RULES_ARGS)

## Lint, type-check, and the import contracts of the layers (pyproject: tool.importlinter).
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## Benchmarks: each script prints its figures next to a baseline from the same run (raw SQL;
## for bench/http.py, the service layer the routes call).
bench: install
	@for script in ledger_post claim_rush rush bulk_issue redeem statement_import spend_report audit tiles http signals evaluation; do \
		echo "== bench/$$script.py"; $(BIN)/python -m bench.$$script || exit 1; \
	done

## The pages' languages: `translations` extracts their strings into messages.pot and merges
## them into each catalogue (translate what is new in zh_CN); `compile` builds the .mo files.
I18N := voucher_app/translations
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext --no-location --sort-output \
		-o $(I18N)/messages.pot .
	$(BIN)/pybabel update -i $(I18N)/messages.pot -d $(I18N) --width 100 --ignore-obsolete
	$(BIN)/python tools/english_catalogue.py $(I18N)/en/LC_MESSAGES/messages.po

compile: install
	$(BIN)/pybabel compile -d $(I18N)

## Refresh the vendored front-end packages (committed: running the service needs no npm).
## Each is `npm pack`ed at its pinned version and only the files the pages load are kept.
SWAGGER_UI := swagger-ui-dist@5.35.0
ECHARTS := echarts@6.1.0
QR_SCANNER := qr-scanner@1.4.2
VENDOR := voucher_app/static/vendor
vendor:
	$(call unpack,swagger-ui,$(SWAGGER_UI),package/swagger-ui-bundle.js package/swagger-ui.css package/LICENSE)
	$(call unpack,echarts,$(ECHARTS),package/dist/echarts.min.js package/LICENSE)
	$(call unpack,qr-scanner,$(QR_SCANNER),package/qr-scanner.umd.min.js package/qr-scanner-worker.min.js package/LICENSE)

# $(call unpack,folder,package@version,files): the files of the package's tarball, flattened.
define unpack
	rm -rf $(VENDOR)/$(1) && mkdir -p $(VENDOR)/$(1)
	cd $(VENDOR)/$(1) && tarball=$$(npm pack --silent $(2)) \
		&& tar -xzf $$tarball --strip-components=1 $(3) && rm $$tarball \
		&& find . -mindepth 2 -type f -exec mv {} . \; && find . -mindepth 1 -type d -delete
endef

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .hypothesis
