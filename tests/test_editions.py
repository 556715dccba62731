"""A reader with only the website: download an edition, follow its README in an empty folder
with a fresh environment, run the Gaussian lesson, and get the book's outputs."""
import concurrent.futures
import os
import re
import shutil
import subprocess
import time
import zipfile

import nbformat
import pytest

from bookbuild import FRAMEWORKS, ROOT, BuildError
from bookbuild.editions import (WHEEL, build_editions, edition_name, locked_pins,
                                readable_notebook, readme, requirements)
from bookbuild.execute import checked_env, kernel_env
from bookbuild.lessons import lesson_sources, read_text
from bookbuild.numerics import SHARED_CORES_ENV, fingerprint
from bookbuild.pdf import PDFS, pdf_name


@pytest.fixture(scope='module')
def editions():
    return {path.stem: path for path in build_editions()}


def test_editions_are_the_same_bytes_when_nothing_changed(editions):
    """The site serves what _build/editions holds; a rebuild must not change it."""
    before = {name: path.read_bytes() for name, path in editions.items()}
    assert {path.stem: path.read_bytes() for path in build_editions()} == before


def readme_commands(readme):
    (block,) = re.findall(r'```bash\n(.*?)```', readme, flags=re.S)
    return block.strip().splitlines()


def reader_env(framework):
    """A shell as a reader has it: no environment of the book's active, none of its kernel
    settings but the framework's numerics profile and its quiet, one-figure batch mode, so
    that the outputs can be compared with the page's. Files go where a reader's go:
    ./artifacts."""
    env = {key: value for key, value in kernel_env({}).items()
           if key not in ('VIRTUAL_ENV', 'PYTHONPATH', 'JUPYTER_PATH')}
    env['PATH'] = os.pathsep.join(p for p in env['PATH'].split(os.pathsep)
                                  if not p.startswith(str(ROOT)))
    return env, {k: v for k, v in checked_env(framework).items() if k != 'D2LSHIM_ARTIFACTS'}


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_an_edition_holds_the_notebooks_the_wheel_the_lock_and_a_readme(editions, framework):
    name = edition_name(framework)
    with zipfile.ZipFile(editions[name]) as archive:
        names = set(archive.namelist())
        assert names == {f'{name}/{file}' for file in
                         ['README.md', 'requirements.txt', WHEEL, pdf_name(framework),
                          *[f'{source.stem}.ipynb' for source in lesson_sources()]]}
        assert archive.read(f'{name}/{pdf_name(framework)}') == \
            (PDFS / pdf_name(framework)).read_bytes()
        shipped = archive.read(f'{name}/requirements.txt').decode()
        assert shipped == requirements(framework)
        # the lock's versions, every one (tests/test_edition_platforms.py: where they install)
        pins = [line.split(' ;')[0] for line in shipped.splitlines() if not line.startswith('#')]
        assert all(f'{name}=={version}' in pins for name, version in locked_pins(framework))
        assert len(pins) == len(locked_pins(framework)) + (framework == 'tensorflow')
        with zipfile.ZipFile(archive.open(f'{name}/{WHEEL}')) as wheel:
            files = wheel.namelist()
            assert 'd2lshim/mnist_classifier.npz' in files
            assert not any(f.startswith(('bookbuild/', 'tests/')) for f in files)
            metadata = wheel.read(next(f for f in files if f.endswith('/METADATA'))).decode()
            assert 'Name: d2lshim' in metadata and 'Provides-Extra: torch' in metadata
            assert 'Requires-Dist: numpy' in metadata and 'Requires-Dist: matplotlib' in metadata
            assert 'Requires-Dist: torch' in metadata  # only under the extra:
            assert re.search(r'Requires-Dist: torch.*extra == "torch"', metadata)


# MyST that JupyterLab shows as raw text: a role such as {cite}`key`, a directive's fence.
MYST_MARKUP = re.compile(r'\{[a-z]+(:[a-z]+)?\}`|^(`{3,}|:{3,})\{', re.M)


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_an_editions_notebooks_hold_only_markdown_jupyterlab_renders(editions, framework):
    """No MyST role or directive is left; every solution is hidden in <details> after its
    numbered exercise; the works cited are listed; nothing named is missing from the zip or,
    for a figure, from its cell."""
    name = edition_name(framework)
    with zipfile.ZipFile(editions[name]) as archive:
        shipped = {path.rsplit('/', 1)[1] for path in archive.namelist()}
        for source in lesson_sources():
            book = read_text(source)
            notebook = nbformat.reads(archive.read(f'{name}/{source.stem}.ipynb').decode(),
                                      as_version=4)
            prose = '\n\n'.join(cell.source for cell in notebook.cells
                                 if cell.cell_type == 'markdown')
            assert not MYST_MARKUP.search(prose), (source.name, MYST_MARKUP.search(prose))
            exercises = book.count('{exercise}')
            assert prose.count('<details>') == book.count('{solution}') == exercises
            assert all(f'**Exercise {n}.**' in prose for n in range(1, exercises + 1))
            assert all(f'Solution to exercise {n}</b>' in prose for n in range(1, exercises + 1))
            for key in set(re.findall(r'\{cite(?::[pt])?\}`([^`]+)`', book)):
                title = re.search(rf'@\w+\{{{key},.*?title *= *\{{(.+?)\}},',
                                  (ROOT / 'references.bib').read_text(), re.S).group(1)
                first_word = re.sub('[{}]', '', title.split()[0])  # BibTeX's case guards
                assert first_word in notebook.cells[-1].source, (source.name, key)
            for file in re.findall(r'`([\w./-]+\.(?:pdf|ipynb|whl|txt))`', prose):
                assert file in shipped, (source.name, file)
            for cell in notebook.cells:  # a figure travels inside its cell
                for image in re.findall(r'\]\(attachment:([^)]+)\)', cell.source):
                    assert cell.attachments[image]['image/png'], (source.name, image)
            for mention in re.finditer('`bench/', prose):  # scripts the zip does not hold
                words = ' '.join(prose[mention.start():mention.start() + 120].split())
                assert "book's repository" in words, words


def test_a_readable_notebook_names_a_citation_or_solution_it_cannot_resolve():
    cite = nbformat.v4.new_markdown_cell('As {cite}`nobody2099` showed.')
    with pytest.raises(BuildError, match='nobody2099'):
        readable_notebook(nbformat.v4.new_notebook(cells=[cite]), 'pytorch')
    orphan = nbformat.v4.new_markdown_cell('```{solution} missing-exercise\nYes.\n```')
    with pytest.raises(BuildError, match="'missing-exercise', which no exercise"):
        readable_notebook(nbformat.v4.new_notebook(cells=[orphan]), 'pytorch')


def follow_readme(edition, framework, workdir):
    """What a reader does with a downloaded edition: unzip it into an empty folder, run the
    README's install command, then run notebooks with the edition's own Jupyter."""
    with zipfile.ZipFile(edition) as archive:
        archive.extractall(workdir)
    folder = workdir / edition.stem
    install, start = readme_commands((folder / 'README.md').read_text())
    env, profile = reader_env(framework)
    started = time.perf_counter()
    installing = subprocess.run(install, shell=True, cwd=folder, env=env, capture_output=True,
                                text=True)
    seconds = time.perf_counter() - started

    def execute(notebook, output):
        # as the reader's Jupyter runs it: its python3 kernel, the edition's own
        return subprocess.run(['.venv/bin/jupyter', 'nbconvert', '--to', 'notebook',
                               '--execute', '--output', output, notebook], cwd=folder,
                              env={**env, **profile, **SHARED_CORES_ENV}, capture_output=True,
                              text=True)
    runs = {}
    if installing.returncode == 0:
        runs = {'gaussian': execute('gaussian_gan.ipynb', 'executed.ipynb'),
                # the evaluation chapter before the MNIST lesson: it says what to run first
                'evaluation first': execute('evaluating_gans.ipynb', 'early.ipynb')}
    return {'folder': folder, 'install': install, 'start': start, 'installing': installing,
            'seconds': seconds, 'runs': runs}


@pytest.fixture(scope='module')
def readers(editions, tmp_path_factory):
    """Every edition followed by its reader, as many at once as there are cores (installing
    is mostly one process unpacking wheels)."""
    workdir = tmp_path_factory.mktemp('readers')
    python = readme_commands(readme(next(iter(FRAMEWORKS))))[0].split()[0]
    if shutil.which(python) is None:
        pytest.fail(f'{python}, which the README asks for, is not on PATH')
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        futures = {fw: pool.submit(follow_readme, editions[edition_name(fw)], fw, workdir)
                   for fw in FRAMEWORKS}
        return {fw: future.result() for fw, future in futures.items()}


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_a_reader_runs_an_edition_from_its_readme(readers, framework):
    reader = readers[framework]
    assert reader['start'] == '.venv/bin/jupyter lab'
    installing = reader['installing']
    assert installing.returncode == 0, installing.stdout[-3000:] + installing.stderr[-3000:]
    run, early = reader['runs']['gaussian'], reader['runs']['evaluation first']
    assert run.returncode == 0, run.stderr[-3000:]
    assert early.returncode != 0
    assert 'no samples at artifacts/mnist' in early.stderr, early.stderr[-3000:]
    assert ('run from the same folder: mnist_gan.ipynb writes artifacts/mnist/, '
            'dcgan.ipynb artifacts/dcgan/' in early.stderr)
    folder = reader['folder']
    executed = nbformat.read(folder / 'executed.ipynb', as_version=4)
    assert executed.metadata.kernelspec.name == 'python3'
    shipped = nbformat.read(folder / 'gaussian_gan.ipynb', as_version=4)
    printed = [content for *_, mime, content in fingerprint(executed) if mime == 'text/plain']
    assert any('learned mean' in text for text in printed)
    assert fingerprint(executed) == fingerprint(shipped)
    result = next(line for text in printed for line in text.splitlines() if 'mean off by' in line)
    print(f'{folder.name}: installed in {reader["seconds"]:.0f} s; gaussian_gan.ipynb printed, '
          f'as the book: {result}')
