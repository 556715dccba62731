"""Execute split notebooks, each in its own kernel, and keep them as the cache.

A committed notebook records the hash of its inputs (`inputs_hash`); it is executed again
only when that hash changes, so editing one TensorFlow cell re-runs only TensorFlow.
"""
import asyncio
import hashlib
import json
import os
import signal
import subprocess
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from bookbuild import FRAMEWORKS, ROOT, BuildError, environments
from bookbuild.lessons import (inputs_hash, lesson_sources, notebook_path, read_source,
                               short_run, split)
from bookbuild.numerics import PROFILE_KEYS, EmulatedKernelManager, numerics_profile

# What every kernel of the build and of the tests gets, with or without the numerics profile.
BUILD_ENV = {
    'D2LSHIM_BATCH': '1',  # Animator leaves one final figure instead of redrawing
    'TF_CPP_MIN_LOG_LEVEL': '2',  # keep TensorFlow's start-up notices out of the pages
    'PYTHONHASHSEED': '0',
    'MPLBACKEND': 'module://matplotlib_inline.backend_inline',
    # Files a lesson writes (checkpoints, samples) land in _build/artifacts/<lesson>/<framework>.
    'D2LSHIM_ARTIFACTS': str(ROOT / '_build' / 'artifacts'),
}
# A reader's own run: no numerics profile.
READER_ENV = BUILD_ENV


def checked_env(framework):
    """The environment of `framework`'s checked runs: the build's kernels and nbval's."""
    return {**BUILD_ENV, **numerics_profile(framework)}


CELL_TIMEOUT = 1800
# The most one cell's outputs may take in its notebook (its page shows them at about three
# times that), in all and as text (all but images). The committed notebooks' largest are a
# 375 kB figure (the MNIST samples) and 761 bytes of text.
MAX_OUTPUT, MAX_TEXT = 2_000_000, 100_000
# One file per lesson and framework executed on this machine, holding the inputs hash of
# that run: a lesson that reads another's files (front matter `needs: [mnist_gan]`) runs
# that one first unless its files come from a run of its current code.
RUNS = ROOT / '_build' / 'artifacts' / '.runs'


class Client(NotebookClient):
    """nbclient's client, remembering the cell it runs and whether Ctrl-C stopped it, to
    name them if the run fails."""
    running = None
    interrupted = False

    async def async_execute_cell(self, cell, *args, **kwargs):
        if self.interrupted:  # while the kernel started
            raise DeadKernelError('interrupted')
        self.running = cell
        return await super().async_execute_cell(cell, *args, **kwargs)

    async def async_start_new_kernel(self, **kwargs):
        # Ctrl-C reaches the build, not the kernel (it runs in a session of its own).
        # nbclient's handler stops the kernel, then fails with an empty AssertionError;
        # this one stops it too, and remembers why.
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self.interrupt)
        except RuntimeError:  # not the main thread, where Ctrl-C arrives
            pass
        await super().async_start_new_kernel(**kwargs)

    def interrupt(self):
        self.interrupted = True
        if self.running is not None:  # else it stops before its first cell
            asyncio.ensure_future(self.km.shutdown_kernel(now=True))


def kernel_env(settings):
    """This process's environment for a kernel, with `settings` in place of the build's
    variables and of every framework's profile (whatever the caller's shell set)."""
    env = {k: v for k, v in os.environ.items() if k not in BUILD_ENV and k not in PROFILE_KEYS}
    env.update(settings)
    return env


def label(source, framework):
    return f'{source.relative_to(ROOT)} [{framework}]'


def run_stamp(source, framework):
    return RUNS / f'{source.stem}.{framework}'


def needed_lessons(source_nb, source):
    """The lessons whose files `source` reads, from its front matter (`needs:`)."""
    needs = source_nb.metadata.get('needs', [])
    if not isinstance(needs, list) or not all(isinstance(name, str) for name in needs):
        raise BuildError(f'{source.name}: `needs:` in its front matter must be a list of '
                         f'lesson names, such as `needs: [mnist_gan]`; got {needs!r}')
    for name in needs:
        if not name or name != os.path.basename(name) or name.startswith('.') or \
                name.endswith('.md'):
            raise BuildError(f'{source.name}: `needs: [{name}]` must name a lesson in the '
                             f'same folder by its file name without `.md`, e.g. mnist_gan')
    paths = [source.parent / f'{name}.md' for name in needs]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise BuildError(f'{source.name} needs {", ".join(missing)}, which does not exist; '
                         'fix the `needs:` list in its front matter')
    lessons = set(lesson_sources())
    not_lessons = [p.name for p in paths if p not in lessons]
    if not_lessons:
        raise BuildError(f'{source.name} needs {", ".join(not_lessons)}, which is not a '
                         'lesson (not in _toc.yml, or no jupytext front matter); fix the '
                         '`needs:` list')
    return paths


def lesson_hash(source, framework, reading=()):
    """The inputs hash of `source`'s notebook for `framework`, combined with those of the
    lessons whose files it reads, so that editing a lesson also makes its readers stale."""
    if source in reading:
        raise BuildError(f'the `needs:` of {" -> ".join(p.name for p in (*reading, source))} '
                         'form a cycle; a lesson cannot read its own files')
    source_nb = read_source(source)
    digest = inputs_hash(split(source_nb, framework), framework)
    needed = needed_lessons(source_nb, source)
    if not needed:
        return digest
    parts = [digest] + [lesson_hash(p, framework, (*reading, source)) for p in needed]
    return hashlib.sha256('\n'.join(parts).encode()).hexdigest()


def execute(nb, framework, workdir, label, emulated=False, settings=None):
    """Run `nb` top to bottom in a fresh kernel of `framework`'s environment; fail on any
    error or stderr. With `emulated`, the kernel runs on an emulated EMULATED_CPU;
    `settings` (default: `checked_env(framework)`) are its environment's variables. The
    notebook keeps its plain python3 kernelspec, which is what readers' Jupyter runs."""
    environments.ensure(framework)
    manager = {'kernel_manager_class': EmulatedKernelManager} if emulated else {}
    client = Client(nb, timeout=CELL_TIMEOUT, kernel_name=environments.kernel_name(framework),
                    record_timing=False, resources={'metadata': {'path': str(workdir)}},
                    **manager)
    try:
        # The kernel process's own stderr only carries its start-up notice about TCP;
        # everything a cell prints arrives through the notebook's outputs.
        client.execute(stderr=subprocess.DEVNULL, env=kernel_env(
            checked_env(framework) if settings is None else settings))
    except Exception as error:
        running = client.running
        where = (f'while running cell {running.id}:\n{running.source[:300]}' if running
                 else 'before the first cell')
        if client.interrupted or getattr(error, 'ename', None) == 'KeyboardInterrupt':
            raise BuildError(f'{label}: the build was interrupted (Ctrl-C) {where}\n'
                             '(no notebook was written; the committed ones are as they were)'
                             ) from None
        if isinstance(error, DeadKernelError):
            raise BuildError(f'{label}: the kernel died (out of memory, or a crash in native '
                             f'code) {where}') from None
        raise BuildError(f'{label}: a cell failed:\n{error}') from None
    for cell in nb.cells:
        for output in cell.get('outputs', []):
            if output.get('name') == 'stderr':
                raise BuildError(f'{label}: cell {cell.id} wrote to stderr (warnings and '
                                 f'logs must not reach the pages):\n{output["text"]}')
    return nb


def output_sizes(cell):
    """The bytes a cell's outputs take in its notebook: in all, and as text (all but
    images)."""
    outputs = cell.get('outputs', [])
    size = len(json.dumps(outputs))
    images = sum(len(value) for output in outputs
                 for kind, value in output.get('data', {}).items() if kind.startswith('image/'))
    return size, size - images


def check_output_sizes(nb, label):
    for cell in nb.cells:
        size, text = output_sizes(cell)
        if size > MAX_OUTPUT or text > MAX_TEXT:
            raise BuildError(
                f'{label}: cell {cell.id} outputs {size / 1e3:,.0f} kB, {text / 1e3:,.0f} kB '
                f'of it text; a cell may output at most {MAX_OUTPUT / 1e3:,.0f} kB, '
                f'{MAX_TEXT / 1e3:,.0f} kB of it text (its page weighs about three times '
                'that). Print less, or save large output to a file in out_dir and show a '
                'summary (no notebook was written)')


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
            digest = lesson_hash(source, framework)
            path = notebook_path(source, framework)
            committed = nbformat.read(path, as_version=4) if path.exists() else None
            if committed is None or \
                    committed.metadata.get('d2lbook', {}).get('inputs_hash') != digest:
                stale.append((source, framework, nb, digest, None))
            elif not same_cells(nb, committed):
                stale.append((source, framework, nb, digest, committed))
    return stale


def reuse_outputs(nb, committed):
    """Give nb the outputs of the committed notebook's code cells (same code, same order)
    and the kernel's metadata (language_info) recorded when it was executed."""
    nb.metadata = committed.metadata
    old = [c for c in committed.cells if c.cell_type == 'code']
    for cell, done in zip([c for c in nb.cells if c.cell_type == 'code'], old):
        cell.outputs, cell.execution_count = done.outputs, done.execution_count
    return nb


def busy_cores(seconds=1.0):
    """How many cores the machine's processes kept busy over the next `seconds`."""
    def ticks():
        with open('/proc/stat') as stat:
            values = [int(value) for value in stat.readline().split()[1:]]
        return sum(values) - values[3] - values[4], sum(values)  # all but idle and iowait
    busy_before, total_before = ticks()
    time.sleep(seconds)
    busy_after, total_after = ticks()
    return (busy_after - busy_before) / max(total_after - total_before, 1) * os.cpu_count()


def execute_recorded(source, framework, nb, digest, log):
    """Execute `nb` in its notebook folder, log it and stamp the run (see RUNS): the stamp
    is removed when the run starts and written when it succeeds. The examples/sec a lesson
    prints is only true on an otherwise idle machine: say so if it is not."""
    path = notebook_path(source, framework)
    busy = busy_cores()
    if busy > 0.25:
        log(f'warning: other processes keep {busy:.1f} of {os.cpu_count()} cores busy; the '
            'speeds the notebook prints will be lower than on an idle machine')
    started = time.perf_counter()
    log(f'executing {label(source, framework)} ...')
    path.parent.mkdir(parents=True, exist_ok=True)
    # Until this run ends well, the lesson's files come from no known code: a run that
    # fails after writing them must leave no record a reader would trust.
    stamp = run_stamp(source, framework)
    stamp.unlink(missing_ok=True)
    execute(nb, framework, path.parent, label(source, framework))
    check_output_sizes(nb, label(source, framework))
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest)
    log(f'  done in {time.perf_counter() - started:.1f} s')


def run_needed_lessons(source, framework, log):
    """Execute the lessons `source` reads from, unless their files come from their current
    code; return how many ran. Their committed notebooks are left alone: same code, same
    outputs."""
    ran = 0
    for needed in needed_lessons(read_source(source), source):
        nb = split(read_source(needed), framework)
        digest = lesson_hash(needed, framework)
        stamp = run_stamp(needed, framework)
        if not stamp.exists() or stamp.read_text() != digest:
            log(f'{source.name} reads the files of {needed.name}; running that first')
            execute_recorded(needed, framework, nb, digest, log)
            ran += 1
    return ran


def execute_stale(log=print):
    """Bring every stale notebook up to date, executing only those whose code changed;
    return how many were executed. Notebooks are written only once all succeeded: a failed
    run leaves every committed notebook as it was."""
    executed, finished = 0, []
    for source, framework, nb, digest, committed in stale_notebooks():
        path = notebook_path(source, framework)
        if committed is not None:
            log(f'prose changed, outputs kept: {label(source, framework)}')
            reuse_outputs(nb, committed)
        else:
            executed += run_needed_lessons(source, framework, log)
            execute_recorded(source, framework, nb, digest, log)
            executed += 1
        nb.metadata['d2lbook'] = {'source': str(source.relative_to(ROOT)),
                                  'framework': framework, 'inputs_hash': digest}
        finished.append((nb, path))
    for nb, path in finished:
        write_atomically(nb, path)
    return executed


def run_in_lesson(source, framework, code, workdir, parameters=None, stop_before='train(',
                  settings=None):
    """Execute `source`'s cells for `framework`, with `parameters` set as papermill would,
    up to the first code cell that starts with `stop_before`, then `code`, in a kernel of
    the framework's environment with `settings`; return what `code` printed. Tests and
    benches use it to exercise exactly the code the book shows, framework by framework."""
    nb = short_run(source, framework, parameters=parameters, stop_before=stop_before)
    nb.cells.append(nbformat.v4.new_code_cell(code, id='appended'))
    execute(nb, framework, workdir, f'{label(source, framework)} + appended code',
            settings=settings)
    return ''.join(output.get('text', '') for output in nb.cells[-1].outputs
                   if output.get('name') == 'stdout')
