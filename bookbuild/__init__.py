"""The book's build pipeline: split each lesson per framework, execute, merge, render.

    python -m bookbuild notebooks   # split + execute what changed -> notebooks/<framework>/
    python -m bookbuild book        # ... then merge and render the site -> _build/html/
    python -m bookbuild check       # fail if a committed notebook is stale or made by no lesson
    python -m bookbuild profile FW  # a framework's numerics profile, as shell exports
    python -m bookbuild editions    # a PDF and a zip per framework: _build/pdf/, _build/editions/
    python -m bookbuild lab         # JupyterLab with one kernel per framework
    python -m bookbuild lock NAME   # resolve locks/NAME.in into the lock locks/NAME.txt

The frameworks come from d2lshim.frameworks, where each is written once.
"""
from pathlib import Path

from d2lshim.frameworks import FRAMEWORKS

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / 'chapters'
NOTEBOOKS = ROOT / 'notebooks'
BUILD = ROOT / '_build'

# The order of FRAMEWORKS is the order of the tabs; the first is the reference the
# cross-framework tests compare the others with.
REFERENCE = next(iter(FRAMEWORKS))
SYNC_GROUP = 'framework'


class BuildError(Exception):
    """A lesson or book file that cannot be built; the message names it and the fix."""
