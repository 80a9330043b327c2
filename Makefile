# The two commands: `make demo` and `make test`. Everything they need is installed and started here.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
KFWS := $(VENV)/bin/kfws
ENV_SH := .kfws-env/env.sh
PYTEST_ARGS ?=

.PHONY: test test-unit test-env demo env-up env-down lint bench mutation clean

$(VENV)/.installed: pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 (>= 3.11) is needed"; exit 1; }
	@python3 -m venv $(VENV) 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

## make test: the whole suite against the real local environment (brought up first)
test: venv env-up
	source $(ENV_SH) && $(VENV)/bin/pytest $(PYTEST_ARGS)

## make test-unit: the fast tests that need no environment
test-unit: venv
	$(VENV)/bin/pytest -m "not env and not fuzz" $(PYTEST_ARGS)

## make demo: environment up, then plan and apply workspace.yaml against it
demo: venv env-up
	source $(ENV_SH) && bash hack/demo.sh

env-up:
	bash hack/env-up.sh

env-down:
	bash hack/env-down.sh

lint: venv
	$(VENV)/bin/ruff check kfws tests bench
	$(VENV)/bin/ruff format --check kfws tests bench
	$(VENV)/bin/mypy

## make bench: the benchmark scripts (they print ratios measured in one run)
bench: venv env-up
	$(PY) bench/validate_speed.py
	$(PY) bench/spawner_plan.py
	source $(ENV_SH) && $(PY) bench/registry_resolve.py
	source $(ENV_SH) && $(PY) bench/plan_images.py
	source $(ENV_SH) && $(PY) bench/check_speed.py
	source $(ENV_SH) && $(PY) bench/prune_tags.py
	source $(ENV_SH) && $(PY) bench/cluster_plan.py

## make mutation: mutation score per pure module (slow; not part of make test). MODULES="kfws/drift.py" for a subset
mutation: venv
	MODULES="$(MODULES)" $(PY) -u hack/mutation.py

clean: env-down
	bash hack/env-down.sh --purge
	rm -rf $(VENV)
