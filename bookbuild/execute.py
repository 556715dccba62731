"""Execute split notebooks, each in its own kernel, and keep them as the cache.

A committed notebook records the hash of its inputs (`inputs_hash`); it is executed again
only when that hash changes, so editing one TensorFlow cell re-runs only TensorFlow.
"""
import contextlib
import os
import subprocess
import time

import nbformat
from nbclient import NotebookClient

from bookbuild import FRAMEWORKS, ROOT
from bookbuild.lessons import inputs_hash, lesson_sources, notebook_path, read_source, split

# The environment every kernel gets, in the book build and in nbval (tests/conftest.py).
KERNEL_ENV = {
    'D2LSHIM_BATCH': '1',  # Animator leaves one final figure instead of redrawing
    'TF_CPP_MIN_LOG_LEVEL': '2',  # keep TensorFlow's start-up notices out of the pages
    'TF_ENABLE_ONEDNN_OPTS': '0',
    'PYTHONHASHSEED': '0',
    'MPLBACKEND': 'module://matplotlib_inline.backend_inline',
    # Files a lesson writes (checkpoints, samples) land in _build/artifacts/<lesson>/<framework>.
    'D2LSHIM_ARTIFACTS': str(ROOT / '_build' / 'artifacts'),
}
CELL_TIMEOUT = 1800


class BuildError(Exception):
    pass


@contextlib.contextmanager
def kernel_environment():
    saved = {k: os.environ.get(k) for k in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute(nb, workdir, label):
    """Run `nb` top to bottom in a fresh python3 kernel; fail on any error or stderr."""
    with kernel_environment():
        client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name='python3',
                                record_timing=False,
                                resources={'metadata': {'path': str(workdir)}})
        try:
            # The kernel process's own stderr only carries its start-up notice about TCP;
            # everything a cell prints arrives through the notebook's outputs.
            client.execute(stderr=subprocess.DEVNULL)
        except Exception as error:
            raise BuildError(f'{label}: a cell failed:\n{error}') from None
    for cell in nb.cells:
        for output in cell.get('outputs', []):
            if output.get('name') == 'stderr':
                raise BuildError(f'{label}: cell {cell.id} wrote to stderr (warnings and '
                                 f'logs must not reach the pages):\n{output["text"]}')
    return nb


def write_atomically(nb, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + '.tmp')
    nbformat.write(nb, tmp)
    os.replace(tmp, path)


def stale_notebooks():
    """(source, framework, split notebook, hash) for every notebook whose inputs changed."""
    stale = []
    for source in lesson_sources():
        source_nb = read_source(source)
        for framework in FRAMEWORKS:
            nb = split(source_nb, framework)
            digest = inputs_hash(nb, framework)
            path = notebook_path(source, framework)
            if not path.exists() or \
                    nbformat.read(path, as_version=4).metadata.get('d2lbook', {}).get('inputs_hash') != digest:
                stale.append((source, framework, nb, digest))
    return stale


def execute_stale(log=print):
    """Execute every stale notebook and write it next to the others; return their count."""
    todo = stale_notebooks()
    for source, framework, nb, digest in todo:
        path = notebook_path(source, framework)
        label = f'{source.relative_to(ROOT)} [{framework}]'
        started = time.perf_counter()
        log(f'executing {label} ...')
        path.parent.mkdir(parents=True, exist_ok=True)
        execute(nb, path.parent, label)
        nb.metadata['d2lbook'] = {'source': str(source.relative_to(ROOT)),
                                  'framework': framework, 'inputs_hash': digest}
        write_atomically(nb, path)
        log(f'  done in {time.perf_counter() - started:.1f} s -> {path.relative_to(ROOT)}')
    return len(todo)
