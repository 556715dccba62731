"""Lessons: one MyST markdown source each, split into one notebook per framework."""
import ast
import hashlib
import json

import jupytext
import nbformat
import yaml

from bookbuild import CHAPTERS, FRAMEWORKS, NOTEBOOKS, ROOT, BuildError
from bookbuild.environments import lock_file
from bookbuild.numerics import numerics_profile

# Cell tags other than the frameworks' that a lesson may use (papermill's and MyST-NB's);
# anything else is most likely a misspelt framework and would run in every framework.
OTHER_TAGS = {'parameters', 'injected-parameters', 'hide-input', 'hide-output', 'hide-cell',
              'remove-input', 'remove-output', 'remove-cell', 'raises-exception',
              'skip-execution'}


# The book's table of contents: its chapters, and only they, are the book (Jupyter Book's
# format; entries are paths from its folder, without `.md`).
TOC = ROOT / '_toc.yml'


def shown(path):
    """`path` as an author knows it: from the book's folder."""
    try:
        return path.relative_to(TOC.parent).as_posix()
    except ValueError:
        return str(path)


def read_text(path):
    """A chapter's text; a byte-order mark is no reason to differ."""
    try:
        return path.read_text(encoding='utf-8-sig')
    except UnicodeDecodeError as error:
        raise BuildError(f'{shown(path)} is not UTF-8 text (byte {error.start} is '
                         f'{error.object[error.start:error.start + 1]!r}); save it with '
                         'the UTF-8 encoding') from None


def book_chapters(toc_path=None):
    """The chapter files _toc.yml lists, in its order."""
    toc_path = toc_path or TOC
    problem = None
    try:
        toc = yaml.safe_load(read_text(toc_path))
        parts = toc['parts']
        entries = [entry for part in parts for entry in part['chapters']]
    except FileNotFoundError:
        problem = 'is missing'
    except yaml.YAMLError as error:
        problem = f'is not valid YAML ({str(error).splitlines()[0]})'
    except (KeyError, TypeError):
        problem = 'must hold `parts:`, each with a list of `chapters:`'
    else:
        wrong = [e for e in entries if not isinstance(e, dict) or set(e) != {'file'}
                 or not isinstance(e['file'], str)]
        if wrong:
            problem = (f'has entries this book does not build: {wrong[0]!r}; every chapter is '
                       'one `- file: chapters/<name>` (no url:, glob: or sections)')
    if problem:
        raise BuildError(f'{toc_path.name} {problem}. See the Jupyter Book table of contents '
                         'format: format: jb-book, root: intro, parts: [chapters: [file: ...]]')
    chapters = []
    for name in (entry['file'] for entry in entries):
        path = toc_path.parent / (name if name.endswith('.md') else f'{name}.md')
        if not path.is_file():
            raise BuildError(f'{toc_path.name} lists {name}, but {shown(path)} does not '
                             f'exist: add it, or take it out of {toc_path.name}')
        chapters.append(path)
    return chapters


def book_order(toc_path=None):
    """Chapter names (file stems) -> their position in _toc.yml."""
    return {path.stem: i for i, path in enumerate(book_chapters(toc_path))}


def front_matter(path):
    """The YAML front matter of a markdown file as a dict ({} when it has none)."""
    text = read_text(path)
    if not text.startswith('---\n') or '\n---' not in text[3:]:
        return {}
    try:
        matter = yaml.safe_load(text[4:text.index('\n---', 3)])
    except yaml.YAMLError as error:
        raise BuildError(f'{path.name}: its front matter is not valid YAML: {error}') from None
    return matter if isinstance(matter, dict) else {}


def chapter_title(path):
    """A chapter's title: its first level-1 heading after the front matter."""
    text = read_text(path)
    if text.startswith('---\n') and '\n---' in text[3:]:
        text = text[text.index('\n---', 3) + 4:]
    for line in text.splitlines():
        if line.startswith('# '):
            return line[2:].strip()
    raise BuildError(f'{path.name} has no title (a line starting with "# ")')


def lesson_sources():
    """The chapters of _toc.yml that hold code (jupytext front matter), in its order: a
    later lesson may read what an earlier one wrote (evaluation reads the MNIST samples).
    These and nothing else are executed, committed and shipped."""
    lessons, named = [], {}
    for path in book_chapters():
        matter = front_matter(path)
        if 'jupytext' not in matter:
            if '```{code-cell}' in read_text(path) and \
                    matter.get('file_format') != 'mystnb':  # framework-free, run by MyST-NB
                raise BuildError(f'{path.name} has code cells but no jupytext front matter, '
                                 'so it would render without outputs; start it with the '
                                 'front matter of the other lessons (jupytext: and '
                                 'kernelspec:)')
            continue
        if path.stem in named:  # their notebooks would be one file
            raise BuildError(f'{shown(named[path.stem])} and {shown(path)} are both lessons '
                             f'named {path.stem}, and a lesson\'s notebooks are named after '
                             f'it (notebooks/<framework>/{path.stem}.ipynb): rename one, or '
                             f'list it once in {TOC.name}')
        named[path.stem] = path
        lessons.append(path)
    return lessons


def read_source(path):
    nb = jupytext.reads(read_text(path), fmt='md:myst')
    for index, cell in enumerate(nb.cells):
        unknown = [t for t in cell.metadata.get('tags', [])
                   if t not in FRAMEWORKS and t not in OTHER_TAGS]
        if unknown:
            raise BuildError(f'{path.name}, cell {index + 1}: unknown tag {unknown[0]!r}. '
                             f'Framework tags are {", ".join(FRAMEWORKS)}; other tags '
                             f'allowed: {", ".join(sorted(OTHER_TAGS))}')
    return nb


def cell_frameworks(cell):
    """The frameworks a source cell belongs to: its framework tags, or all when untagged."""
    tags = [t for t in cell.metadata.get('tags', []) if t in FRAMEWORKS]
    return tags or list(FRAMEWORKS)


def is_framework_specific(cell):
    return any(t in FRAMEWORKS for t in cell.metadata.get('tags', []))


def cell_id(index, framework=None):
    # jupytext invents random ids on every read; ours follow the source order.
    return f'cell-{index:03d}' + (f'-{framework}' if framework else '')


def notebook_path(source, framework):
    return NOTEBOOKS / framework / (source.stem + '.ipynb')


def orphan_notebooks():
    """The notebooks in notebooks/ that no lesson of _toc.yml makes (their chapter was
    deleted, renamed or taken out of _toc.yml), each with what to do about it."""
    made = {notebook_path(source, framework) for source in lesson_sources()
            for framework in FRAMEWORKS}
    found = [path for path in NOTEBOOKS.rglob('*.ipynb') if path not in made and not any(
        part.startswith('.') for part in path.relative_to(NOTEBOOKS).parts)]  # checkpoints
    return {path: f'{shown(path)} is made by no lesson of {TOC.name} (its chapter was '
                  f'deleted, renamed or left out of {TOC.name}, or its framework is gone): '
                  f'delete it (git rm {shown(path)})' for path in sorted(found)}


# The first cell of every split notebook: which edition it belongs to and how to set it up.
SETUP_CELL_ID = 'edition-setup'


def split(source_nb, framework):
    """The notebook a reader of `framework` runs: a note on how to set it up, then the
    common cells and that framework's."""
    if framework not in FRAMEWORKS:
        raise ValueError(f'unknown framework {framework!r}; known: {", ".join(FRAMEWORKS)}')
    nb = nbformat.v4.new_notebook()
    nb.metadata = {'kernelspec': {'name': 'python3', 'display_name': 'Python 3',
                                  'language': 'python'},
                   'language_info': {'name': 'python'}}
    for index, cell in enumerate(source_nb.cells):
        if framework not in cell_frameworks(cell):
            continue
        metadata = {'tags': cell.metadata['tags']} if cell.metadata.get('tags') else {}
        if cell.cell_type == 'code':
            new = nbformat.v4.new_code_cell(cell.source, metadata=metadata)
        else:
            new = nbformat.v4.new_markdown_cell(cell.source, metadata=metadata)
        new.id = cell_id(index)
        nb.cells.append(new)
    from bookbuild.editions import setup_note  # editions reads the split notebooks
    note = nbformat.v4.new_markdown_cell(setup_note(framework))
    note.id = SETUP_CELL_ID
    nb.cells.insert(0, note)
    return nb


def _imported_helpers(code):
    """Names of d2lshim modules that `code` imports (`from d2lshim import x`, `d2lshim.x`)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:  # IPython magics; our lessons have none
        return []
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('d2lshim'):
            names += [node.module.split('.', 1)[1]] if '.' in node.module else \
                [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name.split('.', 1)[1] for a in node.names if a.name.startswith('d2lshim.')]
    return names


def helper_modules(backend, code=()):
    """The d2lshim files a notebook runs: the package, its backend, the modules that the
    notebook's `code` cells import, and everything those import from d2lshim."""
    package = ROOT / 'd2lshim'
    found = {package / '__init__.py'}
    todo = [package / f'{backend}.py'] + [package / f'{name}.py' for cell in code
                                          for name in _imported_helpers(cell)]
    while todo:
        path = todo.pop()
        if path in found or not path.exists():
            continue
        found.add(path)
        todo += [package / f'{name}.py' for name in _imported_helpers(path.read_text('utf-8'))]
    return sorted(found)


def inputs_hash(split_nb, framework):
    """A hash of everything that can change the outputs of a split notebook: its code cells
    (prose cannot), the helper modules it runs, its framework's lock file and the numerics
    profile.
    Data files a helper reads are pinned by a checksum in that helper's source (see
    d2lshim/classifier.py)."""
    digest = hashlib.sha256()
    cells = [[c.source, c.metadata.get('tags', [])] for c in split_nb.cells
             if c.cell_type == 'code']
    digest.update(json.dumps(cells, sort_keys=True).encode())
    code = [c.source for c in split_nb.cells if c.cell_type == 'code']
    for path in helper_modules(FRAMEWORKS[framework].backend, code):
        digest.update(path.name.encode() + path.read_bytes())
    digest.update(lock_file(framework).read_bytes())
    # unresolved: the hash must not depend on where the checkout is
    digest.update(json.dumps(numerics_profile(framework, resolved=False), sort_keys=True).encode())
    return digest.hexdigest()


def short_run(source, framework, parameters=None, stop_after=None, stop_before=None,
              last_cell=None):
    """The split notebook of `source` with `parameters` set in a cell after the one tagged
    `parameters` (as papermill does), ending with the first code cell that starts with
    `stop_after`, or just before the first that starts with `stop_before` (or with the
    last cell); then, if given, a code cell of source `last_cell`."""
    nb = split(read_source(source), framework)
    settable = {name.id for cell in nb.cells if 'parameters' in cell.metadata.get('tags', [])
                for node in ast.walk(ast.parse(cell.source)) if isinstance(node, ast.Assign)
                for target in node.targets for name in ast.walk(target)
                if isinstance(name, ast.Name)}
    unknown = sorted(set(parameters or {}) - settable)
    if unknown:
        raise ValueError(f'{source.name} has no parameters {unknown}; its cell tagged '
                         f'`parameters` sets {sorted(settable)}')
    cells = []
    for cell in nb.cells:
        if cell.cell_type == 'code' and stop_before and \
                cell.source.lstrip().startswith(stop_before):
            break
        cells.append(cell)
        if 'parameters' in cell.metadata.get('tags', []) and parameters:
            cells.append(nbformat.v4.new_code_cell(
                ''.join(f'{name} = {value!r}\n' for name, value in parameters.items()),
                id='injected-parameters', metadata={'tags': ['injected-parameters']}))
        if cell.cell_type == 'code' and stop_after and cell.source.startswith(stop_after):
            break
    if last_cell:
        cells.append(nbformat.v4.new_code_cell(last_cell, id='last-cell'))
    nb.cells = cells
    return nb


def joined_runs(runs, framework):
    """One notebook of `framework` holding the short runs `runs` ({lesson: arguments of
    `short_run`}) one after the other, each cell's id prefixed by its lesson and a hyphen,
    so that they execute in one kernel: the framework is imported once."""
    joined = None
    for lesson, arguments in runs.items():
        nb = short_run(CHAPTERS / f'{lesson}.md', framework, **arguments)
        for cell in nb.cells:
            cell.id = f'{lesson}-{cell.id}'
        if joined is None:
            joined = nb
        else:
            joined.cells.extend(nb.cells)
    return joined
