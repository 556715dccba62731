import os
import warnings

import pytest

from bookbuild import FRAMEWORKS, environments
from bookbuild.execute import checked_env, kernel_env
from bookbuild.lessons import book_order, orphan_notebooks
from bookbuild.numerics import SHARED_CORES_ENV
# tests/framework/ runs inside each framework's environment (tests/test_framework_suites.py).
collect_ignore = ['tests/framework']
# Test modules that write into _build (the rendered site, the PDFs, the editions): one worker at a time.
BUILDS_INTO_BUILD = {'test_site.py', 'test_pdf.py', 'test_browser.py', 'test_editions.py'}


def pytest_sessionstart(session):
    """Every framework's environment exists and is current before any test runs (made once,
    by the main process: pytest-xdist's workers start after it)."""
    if not hasattr(session.config, 'workerinput'):
        environments.ensure_all(log=lambda message: print(message, flush=True))


def xdist_group(item):
    """What must run in one worker, in order (`make test` uses `--dist loadgroup`): one
    framework's notebooks, since a later lesson reads what an earlier one wrote (the
    evaluation chapter measures the MNIST lessons' samples); the tests of one module, which
    share module-scoped fixtures; and the tests that build into _build."""
    if item.path.suffix == '.ipynb':
        return f'notebooks-{item.path.parent.name}'
    if item.path.name in BUILDS_INTO_BUILD:
        return '_build'
    return item.path.name


@pytest.hookimpl(tryfirst=True)  # before the notebook's kernel starts (its first cell's setup)
def pytest_runtest_setup(item):
    """nbval starts a notebook's kernel from this process's environment: give it the book
    build's, with the profile of the notebook's framework, so that the re-executed notebooks
    are comparable with the committed ones. `make test` runs two pytest-xdist workers, so a
    kernel shares the cores with another test's processes."""
    framework = item.path.parent.name
    if item.path.suffix == '.ipynb' and framework in FRAMEWORKS:
        environment = kernel_env({**checked_env(framework), **SHARED_CORES_ENV})
        os.environ.clear()
        os.environ.update(environment)


# The groups that take longest, handed out first: pytest-xdist gives a worker its next group
# only when it has nearly finished one, so a long group handed out last would run alone at
# the end (`make test` keeps this order with --no-loadscope-reorder). Each framework's
# notebooks are one chain of trainings, MXNet's the longest; the portability test emulates
# CPUs; the editions' platform check waits on PyPI for 1.5 to 2.5 minutes. Measured in
# fresh-clone CI runs (README, "Tests and benchmarks").
LONGEST_FIRST = ['notebooks-mxnet', 'notebooks-tensorflow', 'notebooks-pytorch',
                 'test_portability.py', '_build', 'test_edition_platforms.py']


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """The longest groups first (LONGEST_FIRST), then the others; unit tests before notebooks,
    notebooks in book order (with `--dist loadgroup` this is the order within each group).
    Each notebook runs in the kernel of its framework's environment, as the build runs it;
    the notebook files keep their plain python3 kernelspec. A notebook that no lesson
    makes is not run: a warning names it (and `python -m bookbuild check` fails)."""
    orphans = {path.resolve(): problem for path, problem in orphan_notebooks().items()}
    left_out = [item for item in items if item.path.resolve() in orphans]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]
        for path in sorted({item.path.resolve() for item in left_out}):
            warnings.warn(pytest.PytestWarning(f'not run: {orphans[path]}'))
    order = book_order()

    def key(item):
        group = xdist_group(item)
        rank = LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)
        if item.path.suffix != '.ipynb':
            return (rank, 0, 0)
        return (rank, 1, order.get(item.path.stem, len(order)))
    items.sort(key=key)  # stable: cells of one notebook keep their order
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group(item)))
        framework = item.path.parent.name
        if item.path.suffix == '.ipynb' and framework in FRAMEWORKS:
            item.parent.nb.metadata['kernelspec']['name'] = environments.kernel_name(framework)
