"""A reader with only the website: download an edition, follow its README in an empty folder
with a fresh environment, run the Gaussian lesson, and get the book's outputs."""
import os
import re
import shutil
import subprocess
import zipfile

import nbformat
import pytest

from bookbuild import FRAMEWORKS, ROOT
from bookbuild.editions import WHEEL, build_editions, edition_name
from bookbuild.environments import lock_file
from bookbuild.execute import KERNEL_ENV
from bookbuild.lessons import lesson_sources
from bookbuild.numerics import fingerprint


@pytest.fixture(scope='module')
def editions():
    return {path.stem: path for path in build_editions()}


def readme_commands(readme):
    (block,) = re.findall(r'```bash\n(.*?)```', readme, flags=re.S)
    return block.strip().splitlines()


def reader_env():
    """A shell as a reader has it: no environment of the book's active, none of its kernel
    settings but the numerics profile and its quiet, one-figure batch mode, so that the
    outputs can be compared with the page's. Files go where a reader's go: ./artifacts."""
    env = {key: value for key, value in os.environ.items()
           if key not in KERNEL_ENV and key not in ('VIRTUAL_ENV', 'PYTHONPATH', 'JUPYTER_PATH')}
    env['PATH'] = os.pathsep.join(p for p in env['PATH'].split(os.pathsep)
                                  if not p.startswith(str(ROOT)))
    return env, {k: v for k, v in KERNEL_ENV.items() if k != 'D2LSHIM_ARTIFACTS'}


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_an_edition_holds_the_notebooks_the_wheel_the_lock_and_a_readme(editions, framework):
    name = edition_name(framework)
    with zipfile.ZipFile(editions[name]) as archive:
        names = set(archive.namelist())
        assert names == {f'{name}/{file}' for file in
                         ['README.md', 'requirements.txt', WHEEL,
                          *[f'{source.stem}.ipynb' for source in lesson_sources()]]}
        assert archive.read(f'{name}/requirements.txt') == lock_file(framework).read_bytes()
        with zipfile.ZipFile(archive.open(f'{name}/{WHEEL}')) as wheel:
            files = wheel.namelist()
            assert 'd2lshim/mnist_classifier.npz' in files
            assert not any(f.startswith(('bookbuild/', 'tests/')) for f in files)
            metadata = wheel.read(next(f for f in files if f.endswith('/METADATA'))).decode()
            assert 'Name: d2lshim' in metadata and 'Provides-Extra: torch' in metadata
            assert 'Requires-Dist: numpy' in metadata and 'Requires-Dist: matplotlib' in metadata
            assert 'Requires-Dist: torch' in metadata  # only under the extra:
            assert re.search(r'Requires-Dist: torch.*extra == "torch"', metadata)


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_a_reader_runs_an_edition_from_its_readme(editions, framework, tmp_path):
    name = edition_name(framework)
    with zipfile.ZipFile(editions[name]) as archive:
        archive.extractall(tmp_path)
    folder = tmp_path / name
    install, start = readme_commands((folder / 'README.md').read_text())
    assert start == '.venv/bin/jupyter lab'
    python = install.split()[0]
    if shutil.which(python) is None:
        pytest.fail(f'{python}, which the README asks for, is not on PATH')
    env, profile = reader_env()
    done = subprocess.run(install, shell=True, cwd=folder, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # The notebook as the reader's Jupyter runs it: its python3 kernel, the edition's own.
    run = subprocess.run(['.venv/bin/jupyter', 'nbconvert', '--to', 'notebook', '--execute',
                          '--output', 'executed.ipynb', 'gaussian_gan.ipynb'],
                         cwd=folder, env={**env, **profile}, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    executed = nbformat.read(folder / 'executed.ipynb', as_version=4)
    assert executed.metadata.kernelspec.name == 'python3'
    shipped = nbformat.read(folder / 'gaussian_gan.ipynb', as_version=4)
    assert any('learned mean' in content for *_, content in fingerprint(executed))
    assert fingerprint(executed) == fingerprint(shipped)

