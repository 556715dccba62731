import os

import pytest

from bookbuild import FRAMEWORKS, environments
from bookbuild.execute import KERNEL_ENV
from bookbuild.lessons import book_order
from bookbuild.numerics import SHARED_CORES_ENV

# nbval starts its kernels from this process: give them the book build's environment,
# so the re-executed notebooks are comparable with the committed ones. `make test` runs two
# pytest-xdist workers, so a kernel shares the cores with another test's processes.
os.environ.update({**KERNEL_ENV, **SHARED_CORES_ENV})
# tests/framework/ runs inside each framework's environment (tests/test_framework_suites.py).
collect_ignore = ['tests/framework']
# Test modules that write into _build (the rendered site, the editions): one worker at a time.
BUILDS_INTO_BUILD = {'test_site.py', 'test_browser.py', 'test_editions.py'}


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


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items):
    """Unit tests first, then notebooks in book order (with `--dist loadgroup` this is the
    order within each group; pytest-xdist starts the groups with the most tests first). Each
    notebook runs in the kernel of its framework's environment, as the build runs it; the
    notebook files keep their plain python3 kernelspec."""
    order = book_order()

    def key(item):
        path = item.path
        if path.suffix != '.ipynb':
            return (0, 0)
        return (1, order.get(path.stem, len(order)))
    items.sort(key=key)  # stable: cells of one notebook keep their order
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group(item)))
        framework = item.path.parent.name
        if item.path.suffix == '.ipynb' and framework in FRAMEWORKS:
            item.parent.nb.metadata['kernelspec']['name'] = environments.kernel_name(framework)
