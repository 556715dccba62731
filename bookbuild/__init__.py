"""The book's build pipeline: split each lesson per framework, execute, merge, render.

    python -m bookbuild notebooks   # split + execute what changed -> notebooks/<framework>/
    python -m bookbuild book        # ... then merge and render the site -> _build/html/
    python -m bookbuild check       # fail if a committed notebook is stale
    python -m bookbuild profile     # the numerics profile of checked runs, as shell exports

A framework is a cell tag, a tab label and a d2lshim backend; adding one here (and a
backend module in d2lshim) is all the pipeline needs.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / 'chapters'
NOTEBOOKS = ROOT / 'notebooks'
BUILD = ROOT / '_build'

# tag -> (tab label, d2lshim backend). The order is the order of the tabs.
FRAMEWORKS = {
    'pytorch': ('PyTorch', 'torch'),
    'tensorflow': ('TensorFlow', 'tensorflow'),
    'mxnet': ('MXNet', 'mxnet'),
}
SYNC_GROUP = 'framework'


class BuildError(Exception):
    """A lesson or book file that cannot be built; the message names it and the fix."""
