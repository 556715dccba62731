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


def same_cells(a, b):
    def key(nb):
        return [(c.id, c.cell_type, c.source, c.metadata.get('tags', [])) for c in nb.cells]
    return key(a) == key(b)


def stale_notebooks():
    """(source, framework, split notebook, hash, committed notebook or None) for every
    notebook that differs from its source; committed is given when only prose changed."""
    stale = []
    for source in lesson_sources():
        source_nb = read_source(source)
        for framework in FRAMEWORKS:
            nb = split(source_nb, framework)
            digest = inputs_hash(nb, framework)
            path = notebook_path(source, framework)
            committed = nbformat.read(path, as_version=4) if path.exists() else None
            if committed is None or \
                    committed.metadata.get('d2lbook', {}).get('inputs_hash') != digest:
                stale.append((source, framework, nb, digest, None))
            elif not same_cells(nb, committed):
                stale.append((source, framework, nb, digest, committed))
    return stale


def reuse_outputs(nb, committed):
    """Give nb's code cells the outputs of the committed ones: same code, in the same order."""
    old = [c for c in committed.cells if c.cell_type == 'code']
    for cell, done in zip([c for c in nb.cells if c.cell_type == 'code'], old):
        cell.outputs, cell.execution_count = done.outputs, done.execution_count
    return nb


def execute_stale(log=print):
    """Bring every stale notebook up to date, executing only those whose code changed;
    return how many were executed."""
    executed = 0
    for source, framework, nb, digest, committed in stale_notebooks():
        path = notebook_path(source, framework)
        label = f'{source.relative_to(ROOT)} [{framework}]'
        started = time.perf_counter()
        if committed is not None:
            log(f'prose changed, outputs kept: {label}')
            reuse_outputs(nb, committed)
        else:
            log(f'executing {label} ...')
            path.parent.mkdir(parents=True, exist_ok=True)
            execute(nb, path.parent, label)
            executed += 1
            log(f'  done in {time.perf_counter() - started:.1f} s -> {path.relative_to(ROOT)}')
        nb.metadata['d2lbook'] = {'source': str(source.relative_to(ROOT)),
                                  'framework': framework, 'inputs_hash': digest}
        write_atomically(nb, path)
    return executed
