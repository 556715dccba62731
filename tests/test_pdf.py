"""The book as a PDF per framework (bookbuild.pdf), read back with poppler's tools: every
chapter, only that framework's code, every figure and plot, the bibliography, and linked
from the site."""
import re
import subprocess

import nbformat
import pytest
from bs4 import BeautifulSoup

from bookbuild import FRAMEWORKS, ROOT
from bookbuild.lessons import (book_chapters, chapter_title, lesson_sources, notebook_path,
                               read_text)
from bookbuild.pdf import PDFS, pdf_name


def pdf_text(framework):
    text = subprocess.run(['pdftotext', str(PDFS / pdf_name(framework)), '-'],
                          capture_output=True, text=True, check=True).stdout
    return ' '.join(text.replace('\u2019', "'").split())  # Sphinx's curly apostrophes


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_a_pdf_holds_every_chapter_with_its_frameworks_code_only(site, framework):
    text = pdf_text(framework)
    assert f'the {FRAMEWORKS[framework].label} edition' in text
    for chapter in book_chapters():
        assert chapter_title(chapter).replace('`', '') in text, (framework, chapter.name)
    lessons = set(lesson_sources())
    prose = ' '.join(read_text(path) for path in [ROOT / 'intro.md', *book_chapters()]
                     if path not in lessons)
    for other in FRAMEWORKS.values():  # the prose chapters quote each one's import too
        imported = f'from d2lshim import {other.backend} as d2l'
        quoted = prose.count(imported)
        if other.tag == framework:
            assert text.count(imported) >= quoted + len(lessons), (framework, imported)
        else:
            assert text.count(imported) == quoted, (framework, imported)
    assert 'This step has no' not in text  # the site's tabs are not drawn
    bibliography = (ROOT / 'references.bib').read_text()
    for entry_title in re.findall(r'^\s*title *= *\{(.+?)\},$', bibliography, re.M):
        words = ' '.join(entry_title.replace('{', '').replace('}', '').split()[:3])
        assert words.lower() in text.lower(), (framework, entry_title)


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_a_pdf_shows_every_figure_and_plot_and_every_character(site, framework):
    listing = subprocess.run(['pdfimages', '-list', str(PDFS / pdf_name(framework))],
                             capture_output=True, text=True, check=True).stdout
    images = [line for line in listing.splitlines()[2:] if ' image ' in line]
    plots = sum(1 for source in lesson_sources()
                for cell in nbformat.read(notebook_path(source, framework), as_version=4).cells
                for output in cell.get('outputs', []) if 'image/png' in output.get('data', {}))
    assert plots > 0 and len(images) >= plots, (framework, len(images), plots)
    # the figures drawn as SVG become vector PDF: their text is there
    assert 'discriminator' in pdf_text(framework)
    log = (PDFS / framework / '_build' / 'latex' / 'book.log').read_text(errors='replace')
    assert 'Missing character' not in log, re.findall(r'Missing character.*', log)[:5]
    # nothing runs past its table column or into the margin
    assert 'Overfull \\hbox' not in log, re.findall(r'Overfull \\hbox.*', log)[:5]


def test_the_home_page_links_every_frameworks_pdf(site):
    soup = BeautifulSoup((site / 'intro.html').read_text(encoding='utf-8'), 'html.parser')
    for framework in FRAMEWORKS:
        links = [a['href'] for a in soup.select('article a[href]')
                 if a['href'].endswith(pdf_name(framework))]
        assert links, framework
        served = (site / links[0]).resolve()
        assert served.read_bytes() == (PDFS / pdf_name(framework)).read_bytes()
