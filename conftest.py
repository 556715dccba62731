import os

from bookbuild import FRAMEWORKS, environments
from bookbuild.execute import KERNEL_ENV
from bookbuild.lessons import book_order

# nbval starts its kernels from this process: give them the book build's environment,
# so the re-executed notebooks are comparable with the committed ones.
os.environ.update(KERNEL_ENV)
# tests/framework/ runs inside each framework's environment (tests/test_framework_suites.py).
collect_ignore = ['tests/framework']


def pytest_sessionstart(session):
    """Every framework's environment exists and is current before any test runs."""
    environments.ensure_all(log=lambda message: print(message, flush=True))


def pytest_collection_modifyitems(items):
    """Unit tests first, then notebooks in book order: a later lesson may read what an
    earlier one wrote (the evaluation chapter measures the MNIST lesson's samples).
    Each notebook runs in the kernel of its framework's environment, as the build runs it;
    the notebook files keep their plain python3 kernelspec."""
    order = book_order()

    def key(item):
        path = item.path
        if path.suffix != '.ipynb':
            return (0, 0)
        return (1, order.get(path.stem, len(order)))
    items.sort(key=key)  # stable: cells of one notebook keep their order
    for item in items:
        framework = item.path.parent.name
        if item.path.suffix == '.ipynb' and framework in FRAMEWORKS:
            item.parent.nb.metadata['kernelspec']['name'] = environments.kernel_name(framework)
