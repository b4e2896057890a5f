# Quick start: `make demo` and `make test` on a fresh clone. Both create .venv with the pinned
# dependencies (constraints.txt) when it is missing or out of date, and are fast afterwards.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# the local package mirror prints one harmless warning per package; keep the log readable
QUIET_PIP := { grep -v 'is ignored: it is neither a file nor a directory' || true; }

.PHONY: test demo data benchmark docs dist lint format venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]' 2>&1 | $(QUIET_PIP)
	touch $(STAMP)

test: $(STAMP)
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest -q -n auto --dist worksteal

# the documentation site (mkdocs.yml): concept pages and the API reference from the docstrings,
# built with warnings as errors (a broken reference fails); NO_MKDOCS_2_WARNING quiets the
# theme's notice about its successor
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

demo: $(STAMP)
	$(PY) -m automl_vision.cli demo

data: $(STAMP)
	$(PY) -m automl_vision.cli demo-data data

# the multilabel benchmark of the README (configs/benchmarks/digits_multilabel.yaml): about
# 9 minutes on 2 cores; run again, it resumes and re-runs nothing finished
benchmark: $(STAMP)
	$(PY) -m automl_vision.cli demo-data data
	$(PY) -m automl_vision.cli benchmark configs/benchmarks/digits_multilabel.yaml

# a wheel to install elsewhere (pip install dist/automl_vision-*.whl); it ships the presets of
# search_spaces/ inside the package (tests/test_dist.py checks both)
DIST ?= dist
dist: $(STAMP)
	rm -f $(DIST)/automl_vision-*.whl
	$(PY) -m pip wheel --quiet --no-deps -w $(DIST) . 2>&1 | $(QUIET_PIP)
	ls $(DIST)/automl_vision-*.whl

lint: $(STAMP)
	$(PY) -m ruff check automl_vision tests benchmarks trainers
	$(PY) -m ruff format --check automl_vision tests benchmarks trainers

format: $(STAMP)
	$(PY) -m ruff format automl_vision tests benchmarks trainers
	$(PY) -m ruff check --fix automl_vision tests benchmarks trainers

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis site dist
