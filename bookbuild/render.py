"""Assemble the book's sources with merged lessons in _build/src (and the editions and PDFs
it links), and render it to HTML."""
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from bookbuild import BUILD, CHAPTERS, FRAMEWORKS, ROOT
from bookbuild.editions import EDITIONS_FOLDER, build_editions
from bookbuild.lessons import lesson_sources, notebook_path, read_source
from bookbuild.merge import merge
from bookbuild.pdf import build_pdfs

STAGE = BUILD / 'src'
BOOK_FILES = ['_config.yml', '_toc.yml', 'intro.md', 'references.bib']
DOWNLOADS = '_notebooks'  # inside STAGE; never a page, only download targets


def _write_if_changed(path, data):
    # Unchanged files keep their mtime, so Sphinx re-reads only pages that changed.
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def stage():
    """Write the renderable book to STAGE; return the files written."""
    wanted = {}
    for name in BOOK_FILES:
        wanted[STAGE / name] = (ROOT / name).read_bytes()
    lessons = set(lesson_sources())
    for path in sorted(CHAPTERS.rglob('*')):
        if path.is_file() and path not in lessons:
            wanted[STAGE / path.relative_to(ROOT)] = path.read_bytes()
    for source in sorted(lessons):
        executed, downloads = {}, {}
        page_path = STAGE / source.relative_to(ROOT).with_suffix('.ipynb')
        for framework in FRAMEWORKS:
            path = notebook_path(source, framework)
            if not path.exists():
                raise FileNotFoundError(f'{path.relative_to(ROOT)} is missing: run '
                                        '`make notebooks` to execute the lessons first')
            executed[framework] = nbformat.read(path, as_version=4)
            download = STAGE / DOWNLOADS / f'{source.stem}_{framework}.ipynb'
            wanted[download] = path.read_bytes()
            # from the page, which may be in a subfolder of chapters/
            downloads[framework] = Path(os.path.relpath(download, page_path.parent)).as_posix()
        page = merge(read_source(source), executed, downloads)
        wanted[page_path] = nbformat.writes(page).encode()
    pdfs = build_pdfs()
    for path in [*build_editions(pdfs), *pdfs]:
        wanted[STAGE / EDITIONS_FOLDER / path.name] = path.read_bytes()
    for path, data in wanted.items():
        _write_if_changed(path, data)
    for path in list(STAGE.rglob('*')):
        if path.is_file() and path not in wanted and '_build' not in path.parts[len(STAGE.parts):]:
            path.unlink()
    return sorted(wanted)


RENDERER = Path(__file__).with_name('sphinx_ext.py')
# ipykernel's start-up notice, written by the kernel MyST-NB starts for the framework-free
# page it executes (gan_fundamentals.md); the kernel listens on localhost only.
KERNEL_NOTICE = 'Kernel is running over TCP without encryption'


def without_kernel_notice(stderr):
    """`stderr` of the render without the line of ipykernel's start-up notice."""
    return ''.join(line for line in stderr.splitlines(keepends=True)
                   if KERNEL_NOTICE not in line)
RENDERER_STAMP = BUILD / '.sphinx_ext.sha256'


def render():
    """Run Jupyter Book on STAGE with execution off; any Sphinx warning fails the build."""
    jupyter_book = Path(sys.executable).parent / 'jupyter-book'
    command = [str(jupyter_book), 'build', str(STAGE), '--path-output', str(ROOT),
               '-W', '-n', '--keep-going', '-q']
    # Sphinx re-writes only pages whose sources changed; a change to our own extension
    # changes every page, so it needs a full build.
    renderer = hashlib.sha256(RENDERER.read_bytes()).hexdigest()
    if not RENDERER_STAMP.exists() or RENDERER_STAMP.read_text() != renderer:
        command.append('--all')
    result = subprocess.run(command, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(without_kernel_notice(result.stderr))
    if result.returncode != 0:
        raise SystemExit(f'the book did not build (exit {result.returncode}); see the '
                         'warnings above')
    RENDERER_STAMP.write_text(renderer)
    return BUILD / 'html'


def clean_stage():
    shutil.rmtree(STAGE, ignore_errors=True)
