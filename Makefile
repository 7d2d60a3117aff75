# cloudrec: a CloudRecording operator and a self-hosted recorder.
# `make help` lists the targets.
SHELL := bash
.DEFAULT_GOAL := help
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The Debian packages come first: `install` needs python3-venv, `tools` needs flock.
# DEPS picks the rows of hack/deps.sh (demo, test, bench; empty: all of them);
# GO_TOOLS the tools hack/tools.sh builds (empty: all of them).
.PHONY: deps
deps: ## Install the Debian packages the demo and the tests need, saying what and why (hack/deps.sh)
	hack/deps.sh $(DEPS)

$(VENV)/.installed: pyproject.toml | deps
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

.PHONY: install
install: $(VENV)/.installed ## Create the virtualenv with the project and its dev extras

.PHONY: tools
tools: deps ## Build (or reuse) kube-apiserver, etcd, kube-controller-manager, kubectl, helm, versitygw, kube-score
	hack/tools.sh $(GO_TOOLS)

.PHONY: test
test test-netns test-packaging test-unit test-cluster: DEPS = test
test: test-netns test-packaging ## Run every test: unit, contract, cluster, media, storage, end to end, packaging

.PHONY: test-netns
test-netns: install tools ## Every test but packaging, inside the test network namespace (hack/netns-run)
	hack/netns-run $(PY) -m pytest $(PYTEST_ARGS) -m "not packaging" $(NETNS_PYTEST_ARGS)

.PHONY: test-packaging
test-packaging: install ## Both images built (buildah) and run (podman); they install from PyPI, so outside the namespace
	$(PY) -m pytest $(PYTEST_ARGS) -m packaging $(PACKAGING_PYTEST_ARGS)

.PHONY: test-unit
test-unit: install ## Unit and contract tests only (no servers)
	$(PY) -m pytest tests/unit tests/contract $(PYTEST_ARGS)

.PHONY: test-cluster
test-cluster: install tools ## Cluster tests only (real etcd, kube-apiserver, kube-controller-manager)
	hack/netns-run $(PY) -m pytest -m cluster $(PYTEST_ARGS)

SEED ?= $(shell date +%s)
MINUTES ?= 5

.PHONY: chaos
chaos: install tools ## A seeded churn with crashes and a frozen store: make chaos SEED=7 MINUTES=5
	CHAOS_SEED=$(SEED) CHAOS_MINUTES=$(MINUTES) hack/netns-run $(PY) -m pytest tests/e2e/test_chaos.py -s $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff, mypy strict and the import-linter contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy protocol/cloudrec_protocol operator/cloudrec_operator recorder/cloudrec_recorder devenv/cloudrec_devenv
	$(BIN)/lint-imports

.PHONY: fmt
fmt: install ## Format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: crds
crds: install ## Regenerate crds/, the chart's copy and the field reference in docs/ from the models
	$(PY) -m cloudrec_operator.crdgen crds
	$(PY) hack/gen_reference.py

.PHONY: verify
verify: install ## Fail when generated files (CRDs, chart copy, docs) are stale
	$(PY) -m cloudrec_operator.crdgen crds --check
	$(PY) hack/gen_reference.py --check

.PHONY: demo
demo: DEPS = demo
demo: GO_TOOLS = kube-testbin versitygw
demo: install tools ## A real recording of a real channel, applied with kubectl, landing in a real bucket
	hack/netns-run $(PY) -m cloudrec_devenv demo

.PHONY: up
up: DEPS = demo
up: GO_TOOLS = kube-testbin
up: install tools ## Start the local control plane with the CRDs (prints the kubeconfig)
	$(PY) -m cloudrec_devenv up

.PHONY: down
down: install ## Stop the control plane that `make up` started
	$(PY) -m cloudrec_devenv down

.PHONY: bench
bench: DEPS = bench
bench: install tools ## Run the benchmarks (results go to BENCHMARKS.md by hand)
	hack/netns-run $(PY) -m benchmarks

.PHONY: clean
clean: ## Remove the virtualenv and caches in the tree (not the tools cache)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
