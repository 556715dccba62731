"""The set of lessons is exactly _toc.yml's, wherever they live: nothing outside it is
executed, committed or shipped (issue 28), on small books in temporary folders."""
import zipfile

import nbformat
import pytest

from bookbuild import FRAMEWORKS, BuildError

LESSON = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
# A lesson

```{code-cell} ipython3
print(1)
```
"""


@pytest.fixture
def book(tmp_path, monkeypatch):
    """A book in tmp_path: `book(toc, chapters)` writes _toc.yml listing `toc` (entries such
    as 'chapters/a') and `chapters` ({path: text}); the lessons module reads it."""
    from bookbuild import lessons
    monkeypatch.setattr(lessons, 'CHAPTERS', tmp_path / 'chapters')
    monkeypatch.setattr(lessons, 'NOTEBOOKS', tmp_path / 'notebooks')
    # the table of contents the lessons module reads (before issue 28: none of its own)
    monkeypatch.setattr(lessons, 'TOC', tmp_path / '_toc.yml', raising=False)

    def write(toc, chapters):
        entries = ''.join(f'      - file: {name}\n' for name in toc)
        (tmp_path / '_toc.yml').write_text(f'format: jb-book\nroot: intro\nparts:\n'
                                           f'  - chapters:\n{entries}', encoding='utf-8')
        for name, text in chapters.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding='utf-8')
        return lessons
    return write


def test_a_lesson_in_a_subfolder_is_a_lesson_and_one_left_out_of_the_toc_is_not(book,
                                                                                 tmp_path):
    lessons = book(['chapters/extra/x', 'chapters/a', 'chapters/prose'],
                   {'chapters/a.md': LESSON, 'chapters/extra/x.md': LESSON,
                    'chapters/prose.md': '# Prose\n', 'chapters/left_out.md': LESSON})
    assert lessons.lesson_sources() == [tmp_path / 'chapters' / 'extra' / 'x.md',
                                        tmp_path / 'chapters' / 'a.md']  # in the toc's order


def test_two_lessons_with_one_name_are_an_error(book):
    lessons = book(['chapters/x', 'chapters/extra/x'],
                   {'chapters/x.md': LESSON, 'chapters/extra/x.md': LESSON})
    with pytest.raises(BuildError, match=r'chapters/x.md and chapters/extra/x.md are both '
                                         r'lessons named x.*rename one'):
        lessons.lesson_sources()


def test_a_chapter_missing_from_its_folder_is_an_error(book):
    lessons = book(['chapters/a', 'chapters/gone'], {'chapters/a.md': LESSON})
    with pytest.raises(BuildError, match=r'_toc.yml lists chapters/gone, but chapters/gone.md '
                                         r'does not exist'):
        lessons.lesson_sources()


def test_a_chapter_left_out_of_the_toc_is_not_executed_nor_shipped(book, tmp_path,
                                                                   monkeypatch):
    from bookbuild import editions
    from bookbuild import execute as ex
    lessons = book(['chapters/a'], {'chapters/a.md': LESSON, 'chapters/dcgan.md': LESSON})
    assert [source.name for source, *_ in ex.stale_notebooks()] == ['a.md'] * len(FRAMEWORKS)
    for framework in FRAMEWORKS:
        for name in ('a', 'dcgan'):  # dcgan's notebooks from before it left the toc
            path = tmp_path / 'notebooks' / framework / f'{name}.ipynb'
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nbformat.v4.new_notebook(), path)
    monkeypatch.setattr(editions, 'EDITIONS', tmp_path / 'editions')
    (tmp_path / 'editions').mkdir()
    wheel = tmp_path / editions.WHEEL
    wheel.write_bytes(b'a wheel')
    pdf = tmp_path / 'gans-pytorch.pdf'
    pdf.write_bytes(b'a PDF')
    assert '`a.ipynb`' in editions.readme('pytorch')
    assert 'dcgan' not in editions.readme('pytorch')
    with zipfile.ZipFile(editions.build_edition('pytorch', wheel, pdf)) as archive:
        assert [name for name in archive.namelist() if name.endswith('.ipynb')] == \
            ['gans-pytorch/a.ipynb']
    assert lessons.lesson_sources() == [tmp_path / 'chapters' / 'a.md']


def test_a_lesson_in_a_subfolder_is_staged_as_a_page_with_its_downloads(book, tmp_path,
                                                                        monkeypatch):
    from bookbuild import render
    from bookbuild.lessons import notebook_path, read_source, split
    lessons = book(['chapters/a', 'chapters/extra/x'],
                   {'chapters/a.md': LESSON, 'chapters/extra/x.md': LESSON})
    for name in render.BOOK_FILES:
        (tmp_path / name).touch()
    for source in lessons.lesson_sources():
        for framework in FRAMEWORKS:
            path = notebook_path(source, framework)
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(split(read_source(source), framework), path)
    monkeypatch.setattr(render, 'ROOT', tmp_path)
    monkeypatch.setattr(render, 'CHAPTERS', tmp_path / 'chapters')
    monkeypatch.setattr(render, 'STAGE', tmp_path / 'stage')
    monkeypatch.setattr(render, 'build_pdfs', lambda: [])
    monkeypatch.setattr(render, 'build_editions', lambda pdfs: [])
    render.stage()
    for page in ('chapters/a.ipynb', 'chapters/extra/x.ipynb'):
        page = tmp_path / 'stage' / page
        links = nbformat.read(page, as_version=4).cells[1].source  # under the title
        targets = [link.split('<')[1] for link in links.split('`') if '_notebooks/' in link]
        assert len(targets) == len(FRAMEWORKS)
        assert all((page.parent / target.rstrip('>')).is_file() for target in targets), targets


def test_check_names_a_committed_notebook_whose_lesson_is_gone(book, tmp_path, capsys):
    from bookbuild.__main__ import main
    book(['chapters/prose'], {'chapters/prose.md': '# Prose\n'})
    gone = tmp_path / 'notebooks' / 'pytorch' / 'gone.ipynb'  # its chapter was deleted
    gone.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), gone)
    assert main(['check']) == 1
    out = capsys.readouterr().out
    assert 'notebooks/pytorch/gone.ipynb is made by no lesson of _toc.yml' in out
    assert 'delete it (git rm notebooks/pytorch/gone.ipynb)' in out


def test_nbval_does_not_run_a_notebook_whose_lesson_is_gone(book, tmp_path):
    """The root conftest.py leaves such a notebook out of the run, saying so."""
    import importlib.util
    import inspect
    from types import SimpleNamespace

    from bookbuild import ROOT
    spec = importlib.util.spec_from_file_location('book_conftest', ROOT / 'conftest.py')
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    book(['chapters/prose'], {'chapters/prose.md': '# Prose\n'})
    gone = tmp_path / 'notebooks' / 'pytorch' / 'gone.ipynb'
    gone.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), gone)

    def item(path):
        nb = SimpleNamespace(metadata={'kernelspec': {'name': 'python3'}})
        return SimpleNamespace(path=path, add_marker=lambda marker: None,
                               parent=SimpleNamespace(nb=nb))
    unit_test, cell = item(tmp_path / 'tests' / 'test_x.py'), item(gone)
    items, deselected = [unit_test, cell], []
    config = SimpleNamespace(hook=SimpleNamespace(
        pytest_deselected=lambda items: deselected.extend(items)))
    with pytest.warns(pytest.PytestWarning, match='notebooks/pytorch/gone.ipynb is made by '
                                                  'no lesson of _toc.yml'):
        hook = conftest.pytest_collection_modifyitems  # called as pytest does, by name
        hook(**{name: value for name, value in {'config': config, 'items': items}.items()
                if name in inspect.signature(hook).parameters})
    assert items == [unit_test] and deselected == [cell]


@pytest.mark.parametrize('command', ['check', 'notebooks', 'editions'])
def test_a_chapter_that_is_not_utf8_is_named_with_the_fix(book, tmp_path, monkeypatch, capsys,
                                                          command):
    from bookbuild import editions
    from bookbuild.__main__ import main
    book(['chapters/a'], {'chapters/a.md': LESSON.replace('# A lesson', '# Caf\xe9')
                          .encode('latin-1')})
    monkeypatch.setattr(editions, 'build_wheel', lambda: tmp_path / editions.WHEEL)
    monkeypatch.setattr(editions, 'EDITIONS', tmp_path)
    assert main([command]) == 1
    assert "error: chapters/a.md is not UTF-8 text (byte 159 is b'\\xe9'); save it with " \
        'the UTF-8 encoding' in capsys.readouterr().err


def test_a_table_of_contents_that_is_not_utf8_is_named_with_the_fix(book, tmp_path):
    lessons = book([], {})
    (tmp_path / '_toc.yml').write_bytes('# Caf\xe9\nparts: []\n'.encode('latin-1'))
    with pytest.raises(BuildError, match='_toc.yml is not UTF-8 text .*; save it with the '
                                         'UTF-8 encoding'):
        lessons.lesson_sources()


def test_the_sites_exercise_check_covers_a_chapter_in_a_subfolder(book, tmp_path, monkeypatch):
    """tests/test_site.py checked the pages of chapters/*.md only: a chapter of _toc.yml in
    a subfolder whose page lost its exercise passed."""
    import importlib.util

    from bookbuild import ROOT
    spec = importlib.util.spec_from_file_location('site_tests', ROOT / 'tests' / 'test_site.py')
    site_tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(site_tests)
    monkeypatch.setattr(site_tests, 'CHAPTERS', tmp_path / 'chapters', raising=False)
    with_exercise = LESSON + '\n```{exercise}\nWhy?\n```\n'
    book(['chapters/a', 'chapters/extra/x'],
         {'chapters/a.md': with_exercise, 'chapters/extra/x.md': with_exercise})
    site = tmp_path / 'html'
    for page, body in {'a': '<div class="exercise">Why?</div>', 'extra/x': ''}.items():
        path = site / 'chapters' / f'{page}.html'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'<html><body>{body}</body></html>', encoding='utf-8')
    with pytest.raises(AssertionError, match='chapters/extra/x.md'):
        site_tests.test_every_exercise_and_solution_is_rendered_on_its_own(site)
