import os

from bookbuild.execute import KERNEL_ENV
from bookbuild.lessons import book_order

# nbval starts its kernels from this process: give them the book build's environment,
# so the re-executed notebooks are comparable with the committed ones.
os.environ.update(KERNEL_ENV)


def pytest_collection_modifyitems(items):
    """Unit tests first, then notebooks in book order: a later lesson may read what an
    earlier one wrote (the evaluation chapter measures the MNIST lesson's samples)."""
    order = book_order()

    def key(item):
        path = item.path
        if path.suffix != '.ipynb':
            return (0, 0)
        return (1, order.get(path.stem, len(order)))
    items.sort(key=key)  # stable: cells of one notebook keep their order
