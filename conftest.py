import os

import yaml

from bookbuild import ROOT
from bookbuild.execute import KERNEL_ENV

# nbval starts its kernels from this process: give them the book build's environment,
# so the re-executed notebooks are comparable with the committed ones.
os.environ.update(KERNEL_ENV)


def _toc_order():
    """Lesson names in the order of _toc.yml."""
    toc = yaml.safe_load((ROOT / '_toc.yml').read_text())
    files = [c['file'] for part in toc.get('parts', []) for c in part.get('chapters', [])]
    return {name.rsplit('/', 1)[-1]: i for i, name in enumerate(files)}


def pytest_collection_modifyitems(items):
    """Unit tests first, then notebooks in book order: a later lesson may read what an
    earlier one wrote (the evaluation chapter measures the MNIST lesson's samples)."""
    order = _toc_order()

    def key(item):
        path = item.path
        if path.suffix != '.ipynb':
            return (0, 0)
        return (1, order.get(path.stem, len(order)))
    items.sort(key=key)  # stable: cells of one notebook keep their order
