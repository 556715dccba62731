"""The book as a PDF per framework: every chapter, with that framework's code and outputs only.

Each PDF is rendered from a book of its own, staged in _build/pdf/<framework>/src: the
prose chapters as they are, and each lesson as the framework's executed notebook (the one
its edition ships, without the setup note that opens it), so the PDF shows exactly the
outputs the site's tab shows. Jupyter Book's LaTeX builder renders it with XeLaTeX
(Debian's texlive-xetex, latexmk and fonts-freefont-otf; `.ci/run` installs them), which
sets the book's Unicode (≤, ², Fréchet) without the declarations pdfLaTeX needs. LaTeX
cannot include SVG: figures are converted to PDF with rsvg-convert (Debian's librsvg2-bin).
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

from bookbuild import BUILD, CHAPTERS, FRAMEWORKS, ROOT, BuildError
from bookbuild.lessons import SETUP_CELL_ID, lesson_sources, notebook_path

PDFS = BUILD / 'pdf'
BOOK_FILES = ['_toc.yml', 'intro.md', 'references.bib']
# What the LaTeX build needs besides the tooling environment, and where it comes from.
TOOLS = {'latexmk': 'latexmk', 'xelatex': 'texlive-xetex', 'rsvg-convert': 'librsvg2-bin'}
# Jupyter Book's LaTeX class loads the bbm package for four macros the book never uses;
# Debian ships bbm only in texlive-fonts-extra (1.4 GB). This stand-in defines its one
# command with amssymb's blackboard bold.
BBM = Path(__file__).with_name('bbm.sty')


def pdf_name(framework):
    return f'gans-{framework}.pdf'


def missing_tools():
    return {tool: package for tool, package in TOOLS.items() if shutil.which(tool) is None}


def _config(framework):
    config = yaml.safe_load((ROOT / '_config.yml').read_text())
    label = FRAMEWORKS[framework].label
    config['title'] = f'{config["title"]}: the {label} edition'
    config['latex'] = {'latex_engine': 'xelatex',
                       'latex_documents': {'targetname': 'book.tex'}}
    # In tables, inline code such as `load_data_mnist(batch_size,` is one word that runs
    # into the next column: let LaTeX break inline code after "(" too (Sphinx breaks it after
    # . , ; ? ! /), and keep tabulary from narrowing a column below 1.8 in.
    preamble = ('\\renewcommand*\\sphinxbreaksafteractivelist{\\do\\.\\do\\,\\do\\;\\do\\?'
                '\\do\\!\\do\\/\\do\\(}\n\\setlength{\\tymin}{1.8in}')
    config.setdefault('sphinx', {}).setdefault('config', {}).update(
        latex_additional_files=[BBM.name],
        latex_elements={'preamble': preamble},
        # No date on the title page: the build's is fixed (SOURCE_DATE_EPOCH, below), so it
        # would be a made-up one.
        today=' ',
        # Read by the {editions} directive, which writes prose in a PDF, not links.
        bookbuild_pdf_framework=framework)
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def _svg_as_pdf(svg, pdf):
    result = subprocess.run(['rsvg-convert', '--format', 'pdf', '--output', str(pdf), str(svg)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f'rsvg-convert could not convert {svg.relative_to(ROOT)}:\n'
                         f'{result.stderr}')


def _figures_as_pdf(markdown):
    """`markdown` with each SVG figure named `.*`, which lets Sphinx take the PDF that
    `stage` converted it to (the site keeps the SVG)."""
    return re.sub(r'(\{figure\}\s+\S+)\.svg', r'\1.*', markdown)


def stage(framework):
    """Write the framework's book to _build/pdf/<framework>/src; return that folder."""
    source = PDFS / framework / 'src'
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    (source / '_config.yml').write_text(_config(framework))
    for path in [*(ROOT / name for name in BOOK_FILES), BBM]:
        shutil.copy(path, source / path.name)
    lessons = set(lesson_sources())
    for path in sorted(CHAPTERS.rglob('*')):
        target = source / path.relative_to(ROOT)
        if not path.is_file() or path in lessons:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == '.svg':
            _svg_as_pdf(path, target.with_suffix('.pdf'))
        elif path.suffix == '.md':
            target.write_text(_figures_as_pdf(path.read_text()))
        else:
            shutil.copy(path, target)
    for lesson in lessons:
        notebook = nbformat.read(notebook_path(lesson, framework), as_version=4)
        notebook.cells = [cell for cell in notebook.cells if cell.get('id') != SETUP_CELL_ID]
        for cell in notebook.cells:
            if cell.cell_type == 'markdown':
                cell.source = _figures_as_pdf(cell.source)
        target = source / lesson.relative_to(ROOT).with_suffix('.ipynb')
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
    return source


def build_pdf(framework):
    """Render the framework's PDF into _build/pdf/gans-<framework>.pdf; return its path."""
    missing = missing_tools()
    if missing:
        raise BuildError(f'the PDFs need {", ".join(missing)}: install Debian\'s '
                         f'{" ".join(sorted(set(missing.values())))} (`.ci/run` does)')
    source = stage(framework)
    output = PDFS / framework
    jupyter_book = Path(sys.executable).parent / 'jupyter-book'
    from bookbuild.editions import SOURCE_DATE  # which ship the PDFs
    # The editions' date, so that the PDF (its title page, its metadata) changes only when
    # the book does.
    dated = {**os.environ, 'SOURCE_DATE_EPOCH': str(SOURCE_DATE), 'FORCE_SOURCE_DATE': '1'}
    result = subprocess.run([str(jupyter_book), 'build', str(source), '--builder', 'pdflatex',
                             '--path-output', str(output), '-W', '-n', '--keep-going', '-q'],
                            capture_output=True, text=True, env=dated)
    built = output / '_build' / 'latex' / 'book.pdf'
    if result.returncode != 0 or not built.exists():
        log = output / 'build.log'
        log.write_text(result.stdout + result.stderr)
        raise BuildError(f'the {FRAMEWORKS[framework].label} PDF did not build (exit '
                         f'{result.returncode}); the end of its log:\n'
                         f'{(result.stdout + result.stderr)[-3000:]}\nwhole log: {log}')
    return Path(shutil.copy(built, PDFS / pdf_name(framework)))


def build_pdfs():
    return [build_pdf(framework) for framework in FRAMEWORKS]
