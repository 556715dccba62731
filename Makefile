# make book: set up the environment on first use, execute what changed, render _build/html.
# make test: every test, including nbval on the committed notebooks.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.ready

.PHONY: book notebooks test lab clean setup
.DEFAULT_GOAL := book

setup: $(READY)

$(READY): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	# The lessons' notebooks ask for a plain "python3" kernel: make it this environment.
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3"
	touch $@

notebooks: $(READY)
	$(PY) -m bookbuild notebooks

book: $(READY)
	$(PY) -m bookbuild book

test: $(READY)
	$(PY) -m pytest

lab: $(READY)
	$(VENV)/bin/jupyter lab notebooks

clean:
	rm -rf _build .pytest_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
