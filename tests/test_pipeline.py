"""Split, hash, merge: the pieces of the build, on small notebooks and on the real lessons."""
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from docutils import nodes

from bookbuild import FRAMEWORKS, ROOT
from bookbuild.editions import install_commands
from bookbuild.execute import stale_notebooks
from bookbuild.lessons import (helper_modules, inputs_hash, lesson_sources, notebook_path,
                               read_source, short_run, split)
from bookbuild.merge import merge
from bookbuild.numerics import numerics_profile
from bookbuild.sphinx_ext import _tab_set


def code(source, *tags):
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata['tags'] = list(tags)
    return cell


def markdown(source, *tags):
    cell = nbformat.v4.new_markdown_cell(source)
    if tags:
        cell.metadata['tags'] = list(tags)
    return cell


@pytest.fixture
def source_nb():
    nb = nbformat.v4.new_notebook()
    nb.cells = [markdown('# Title'), code('import torch', 'pytorch'),
                code('import tensorflow', 'tensorflow'), code('import mxnet', 'mxnet'),
                code('x = 1', 'parameters'), markdown('torch only', 'pytorch'),
                markdown('tf and mxnet', 'tensorflow', 'mxnet'), code('print(x)'),
                code('print(framework)')]
    return nb


def test_split_keeps_common_cells_and_one_framework(source_nb):
    nb = split(source_nb, 'tensorflow')
    assert [c.source for c in nb.cells[1:]] == ['# Title', 'import tensorflow', 'x = 1',
                                                'tf and mxnet', 'print(x)', 'print(framework)']
    # first, how to set the notebook up: which edition it is from, and its two commands
    note = nb.cells[0]
    assert note.cell_type == 'markdown' and note.id == 'edition-setup'
    assert 'TensorFlow edition' in note.source and 'gans-tensorflow.zip' in note.source
    for command in install_commands():
        assert command in note.source
    assert nb.metadata.kernelspec.name == 'python3'
    assert [c.id for c in nb.cells] == [c.id for c in split(source_nb, 'tensorflow').cells]
    assert nb.cells[3].metadata['tags'] == ['parameters']
    with pytest.raises(ValueError, match="unknown framework 'jax'; known: pytorch, tensorflow, mxnet"):
        split(source_nb, 'jax')


def test_hash_changes_only_for_the_framework_whose_cells_changed(source_nb):
    before = {fw: inputs_hash(split(source_nb, fw), fw) for fw in FRAMEWORKS}
    source_nb.cells[2].source = 'import tensorflow as tf'
    after = {fw: inputs_hash(split(source_nb, fw), fw) for fw in FRAMEWORKS}
    assert [fw for fw in FRAMEWORKS if before[fw] != after[fw]] == ['tensorflow']
    source_nb.cells[0].source = '# Another title'  # prose cannot change outputs
    assert {fw: inputs_hash(split(source_nb, fw), fw) for fw in FRAMEWORKS} == after


def test_hash_covers_the_helper_modules_a_backend_runs():
    # data.py feeds the MNIST lesson; the other backends and tools like metrics.py do not
    for framework in FRAMEWORKS.values():
        assert [p.name for p in helper_modules(framework.backend)] == \
            ['__init__.py', 'common.py', 'data.py', 'frameworks.py', f'{framework.backend}.py']


def test_hash_covers_the_frameworks_own_lock_only(source_nb, tmp_path, monkeypatch):
    from bookbuild import lessons
    locks = {fw: tmp_path / f'{fw}.txt' for fw in FRAMEWORKS}
    for path in locks.values():
        path.write_text('numpy==2.4.6\n')
    monkeypatch.setattr(lessons, 'lock_file', lambda name: locks[name])
    before = {fw: inputs_hash(split(source_nb, fw), fw) for fw in FRAMEWORKS}
    locks['mxnet'].write_text('numpy==1.26.4\n')
    after = {fw: inputs_hash(split(source_nb, fw), fw) for fw in FRAMEWORKS}
    assert [fw for fw in FRAMEWORKS if before[fw] != after[fw]] == ['mxnet']


def test_every_framework_has_a_lock_an_extra_and_a_backend_module():
    """What README's "Adding a framework" asks for, checked for every entry."""
    import tomllib

    from bookbuild.environments import lock_file
    extras = tomllib.loads((ROOT / 'pyproject.toml').read_text())['project'][
        'optional-dependencies']
    for framework in FRAMEWORKS.values():
        assert lock_file(framework.tag).exists(), framework
        assert framework.backend in extras, framework
        assert (ROOT / 'd2lshim' / f'{framework.backend}.py').exists(), framework
    assert set(extras) == {framework.backend for framework in FRAMEWORKS.values()}


def test_hash_covers_the_frameworks_own_numerics_profile_only(source_nb, monkeypatch):
    from bookbuild import numerics
    before = {fw: inputs_hash(split(source_nb, fw), fw) for fw in FRAMEWORKS}
    monkeypatch.setitem(numerics.SHARED_PROFILE, 'OMP_NUM_THREADS', '4')
    assert all(inputs_hash(split(source_nb, fw), fw) != before[fw] for fw in FRAMEWORKS)
    monkeypatch.undo()
    monkeypatch.setitem(numerics.FRAMEWORK_PROFILES['mxnet'], 'DNNL_MAX_CPU_ISA', 'SSE41')
    after = {fw: inputs_hash(split(source_nb, fw), fw) for fw in FRAMEWORKS}
    assert [fw for fw in FRAMEWORKS if after[fw] != before[fw]] == ['mxnet']


def test_the_hash_does_not_depend_on_where_the_checkout_is(source_nb, monkeypatch):
    from bookbuild import environments
    before = inputs_hash(split(source_nb, 'pytorch'), 'pytorch')
    monkeypatch.setattr(environments, 'ENVS', Path('/elsewhere/.envs'))
    assert numerics_profile('pytorch')['LD_PRELOAD'].startswith('/elsewhere/.envs/pytorch/')
    assert inputs_hash(split(source_nb, 'pytorch'), 'pytorch') == before


def test_every_framework_has_a_profile_and_the_libraries_it_preloads_are_built():
    from bookbuild import environments, numerics
    assert set(numerics.FRAMEWORK_PROFILES) == set(FRAMEWORKS)
    assert set(numerics.PROFILE_LIBRARIES) <= set(FRAMEWORKS)
    for framework in FRAMEWORKS:
        for path in numerics_profile(framework).get('LD_PRELOAD', '').split():
            assert Path(path).parent == environments.env_dir(framework) / 'lib'
            assert Path(path).name in numerics.PROFILE_LIBRARIES[framework]
            assert Path(path).is_file()  # conftest made the environments


def test_profile_command_prints_one_frameworks_exports(capsys):
    from bookbuild.__main__ import main
    assert main(['profile', 'mxnet']) == 0
    exports = capsys.readouterr().out.splitlines()
    assert "export DNNL_MAX_CPU_ISA=AVX" in exports
    assert not any('MKL_CBWR' in line for line in exports)  # PyTorch's, not MXNet's
    for wrong in (['profile'], ['profile', 'jax'], ['profile', 'mxnet', 'pytorch']):
        assert main(wrong) == 1
        assert 'profile takes one framework' in capsys.readouterr().err


def test_kernels_get_their_frameworks_profile_whatever_the_callers_environment(monkeypatch):
    from bookbuild.execute import checked_env, kernel_env
    monkeypatch.setenv('OMP_NUM_THREADS', '16')
    monkeypatch.setenv('MKL_CBWR', 'AUTO')
    monkeypatch.setenv('DNNL_MAX_CPU_ISA', 'AVX512_CORE')
    monkeypatch.setenv('SOME_USER_SETTING', 'kept')
    env = kernel_env(checked_env('pytorch'))
    assert env['OMP_NUM_THREADS'] == checked_env('pytorch')['OMP_NUM_THREADS'] == '2'
    assert env['MKL_CBWR'] == checked_env('pytorch')['MKL_CBWR'] != 'AUTO'
    assert 'DNNL_MAX_CPU_ISA' not in env  # MXNet's setting, not the caller's either
    assert env['SOME_USER_SETTING'] == 'kept'
    assert kernel_env(checked_env('mxnet'))['DNNL_MAX_CPU_ISA'] == 'AVX'
    # a bench or test that leaves a setting out gets a kernel without it, not the caller's
    assert 'MKL_CBWR' not in kernel_env({k: v for k, v in checked_env('pytorch').items()
                                         if k != 'MKL_CBWR'})


def test_short_runs_inject_parameters_and_stop_after_a_cell():
    nb = short_run(ROOT / 'chapters' / 'mnist_gan.md', 'mxnet',
                   parameters={'num_epochs': 1}, stop_after='train(')
    code_cells = [c for c in nb.cells if c.cell_type == 'code']
    injected = code_cells.index(next(c for c in code_cells if c.id == 'injected-parameters'))
    assert 'parameters' in code_cells[injected - 1].metadata['tags']
    assert code_cells[injected].source == 'num_epochs = 1\n'
    assert code_cells[-1].source.startswith('train(')
    assert len(nb.cells) < len(split(read_source(ROOT / 'chapters' / 'mnist_gan.md'),
                                     'mxnet').cells)
    with pytest.raises(ValueError, match=r"mnist_gan.md has no parameters \['num_epoch'\]; "
                                         r"its cell tagged `parameters` sets \[.*'num_epochs'"):
        short_run(ROOT / 'chapters' / 'mnist_gan.md', 'mxnet', parameters={'num_epoch': 1})


def test_prose_edits_keep_outputs_and_code_edits_do_not(source_nb, tmp_path, monkeypatch):
    from bookbuild import execute as ex
    source = tmp_path / 'lesson.md'
    monkeypatch.setattr(ex, 'lesson_sources', lambda: [source])
    monkeypatch.setattr(ex, 'read_source', lambda path: source_nb)
    monkeypatch.setattr(ex, 'notebook_path', lambda s, fw: tmp_path / fw / 'lesson.ipynb')
    monkeypatch.setattr(ex, 'ROOT', tmp_path)
    monkeypatch.setattr(ex, 'RUNS', tmp_path / 'runs')
    runs = []

    def fake_execute(nb, framework, workdir, label):
        runs.append(label)
        nb.metadata['language_info'] = {'name': 'python', 'version': '3.11.7'}
        for cell in nb.cells:
            if cell.cell_type == 'code':
                cell.outputs = [nbformat.v4.new_output('stream', name='stdout', text='1\n')]
        return nb
    monkeypatch.setattr(ex, 'execute', fake_execute)
    assert ex.execute_stale(log=lambda *a: None) == 3 and ex.stale_notebooks() == []
    source_nb.cells[0].source = '# A better title'
    runs.clear()
    assert ex.execute_stale(log=lambda *a: None) == 0 and runs == []
    for fw in FRAMEWORKS:
        nb = nbformat.read(tmp_path / fw / 'lesson.ipynb', as_version=4)
        assert nb.cells[1].source == '# A better title'  # after the edition's note
        assert nb.metadata.language_info.version == '3.11.7'  # the kernel's, kept
        assert [o.text for c in nb.cells if c.source == 'print(x)' for o in c.outputs] == ['1\n']
    source_nb.cells[2].source = 'import tensorflow as tf'
    assert ex.execute_stale(log=lambda *a: None) == 1 and ex.stale_notebooks() == []


def fake_build(monkeypatch, tmp_path, sources):
    """The execute module working on `sources` (path -> source notebook) in tmp_path, with
    an `execute` that records what ran instead of starting kernels."""
    from bookbuild import execute as ex
    for path in sources:
        path.touch()
    monkeypatch.setattr(ex, 'lesson_sources', lambda: list(sources))
    monkeypatch.setattr(ex, 'read_source', lambda path: sources[path])
    monkeypatch.setattr(ex, 'notebook_path', lambda s, fw: tmp_path / fw / f'{s.stem}.ipynb')
    monkeypatch.setattr(ex, 'ROOT', tmp_path)
    monkeypatch.setattr(ex, 'RUNS', tmp_path / 'runs')
    runs = []
    monkeypatch.setattr(ex, 'execute',
                        lambda nb, framework, workdir, label: runs.append(label) or nb)
    return ex, runs


def test_a_lesson_runs_the_lessons_it_reads_from_first(source_nb, tmp_path, monkeypatch):
    writer, reader = tmp_path / 'writer.md', tmp_path / 'reader.md'
    reader_nb = nbformat.from_dict(source_nb)
    reader_nb.metadata['needs'] = ['writer']
    ex, runs = fake_build(monkeypatch, tmp_path, {writer: source_nb, reader: reader_nb})
    quiet = {'log': lambda *a: None}

    assert ex.execute_stale(**quiet) == 6  # the writer ran first, so nothing runs twice
    assert runs[:3] == [f'writer.md [{fw}]' for fw in FRAMEWORKS]
    committed_writer = (tmp_path / 'pytorch' / 'writer.ipynb').read_bytes()

    # A fresh clone: committed notebooks up to date, but no lesson has run on this machine.
    for stamp in (tmp_path / 'runs').iterdir():
        stamp.unlink()
    runs.clear()
    reader_nb.cells[1].source = 'import torch as pt'
    assert ex.execute_stale(**quiet) == 2
    assert runs == ['writer.md [pytorch]', 'reader.md [pytorch]']
    assert (tmp_path / 'pytorch' / 'writer.ipynb').read_bytes() == committed_writer

    runs.clear()  # the writer's files now come from its current code
    reader_nb.cells[1].source = 'import torch'
    assert ex.execute_stale(**quiet) == 1 and runs == ['reader.md [pytorch]']

    reader_nb.metadata['needs'] = ['nowhere']
    reader_nb.cells[1].source = 'import torch as pt'
    with pytest.raises(ex.BuildError, match='reader.md needs nowhere.md, which does not exist'):
        ex.execute_stale(**quiet)


def test_lessons_execute_in_book_order():
    chapters = [p.stem for p in lesson_sources()]
    toc = (ROOT / '_toc.yml').read_text()
    assert chapters == sorted(chapters, key=lambda name: toc.index(f'chapters/{name}'))
    assert chapters.index('mnist_gan') < chapters.index('evaluating_gans')


def executed(source_nb, framework):
    nb = split(source_nb, framework)
    for cell in nb.cells:
        if cell.cell_type == 'code' and cell.source.startswith('print'):
            text = '1\n' if cell.source == 'print(x)' else f'{framework}\n'
            cell.outputs = [nbformat.v4.new_output('stream', name='stdout', text=text)]
    return nb


def test_merge_shows_equal_outputs_once_and_different_ones_per_framework(source_nb):
    runs = {fw: executed(source_nb, fw) for fw in FRAMEWORKS}
    page = merge(source_nb, runs, {fw: f'../{fw}.ipynb' for fw in FRAMEWORKS})
    summary = [(c.cell_type, c.source.splitlines()[0], c.metadata.get('tags', []))
               for c in page.cells]
    assert summary[0] == ('markdown', '# Title', [])
    assert summary[1][1] == '```{admonition} Run this lesson yourself'
    assert summary[2:] == [
        ('code', 'import torch', ['pytorch']),
        ('code', 'import tensorflow', ['tensorflow']),
        ('code', 'import mxnet', ['mxnet']),
        ('code', 'x = 1', ['parameters']),
        ('markdown', '::::{tab-set}', []),
        ('code', 'print(x)', []),
        ('code', 'print(framework)', ['pytorch']),
        ('code', 'print(framework)', ['tensorflow']),
        ('code', 'print(framework)', ['mxnet']),
    ]
    assert page.cells[-1].outputs[0].text == 'mxnet\n'
    prose = page.cells[6].source
    for label in ['PyTorch', 'TensorFlow', 'MXNet']:
        assert f':::{{tab-item}} {label}' in prose
    assert ':sync-group: framework' in prose and ':sync: mxnet' in prose
    assert prose.count('tf and mxnet') == 2 and prose.count('torch only') == 1
    assert len({c.id for c in page.cells}) == len(page.cells)
    assert '{download}`MXNet <../mxnet.ipynb>`' in page.cells[1].source
    assert '{download}`MXNet </_editions/gans-mxnet.zip>`' in page.cells[1].source
    assert 'edition-setup' not in {c.id for c in page.cells}  # the notebooks' note only


def test_tab_set_says_which_framework_has_no_code():
    cell = nodes.container('', nb_element='cell_code', classes=['cell', 'tag_pytorch'])
    tab_set = _tab_set([cell])
    labels = [item[0].astext() for item in tab_set.children]
    assert labels == ['PyTorch', 'TensorFlow', 'MXNet']
    assert [item[0]['sync_group'] for item in tab_set.children] == ['framework'] * 3
    assert tab_set.children[0][1].children == [cell]
    assert tab_set.children[2][1].astext() == 'This step has no MXNet code.'


def test_committed_notebooks_are_up_to_date_with_their_sources():
    stale = [f'{s.relative_to(ROOT)} [{fw}]' for s, fw, *_ in stale_notebooks()]
    assert not stale, f'stale notebooks (run `make notebooks` and commit them): {stale}'


def test_every_committed_notebook_is_made_by_a_lesson():
    from bookbuild.lessons import orphan_notebooks
    assert not orphan_notebooks(), list(orphan_notebooks().values())


@pytest.mark.parametrize('source', lesson_sources(), ids=lambda p: p.stem)
@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_committed_notebooks_are_clean_runnable_python3_notebooks(source, framework):
    from bookbuild.execute import check_output_sizes
    nb = nbformat.read(notebook_path(source, framework), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == 'python3'
    assert [c.source for c in nb.cells] == [c.source for c in split(read_source(source), framework).cells]
    check_output_sizes(nb, f'{source.name} [{framework}]')  # what the build allows
    for cell in nb.cells:
        for output in cell.get('outputs', []):
            assert output.output_type != 'error', cell.id
            assert output.get('name') != 'stderr', (cell.id, output.get('text'))
        images = [o for o in cell.get('outputs', []) if 'image/png' in o.get('data', {})]
        assert len(images) <= 1, f'{cell.id} has {len(images)} figures (Animator redraws?)'


def test_training_cell_keeps_exactly_one_final_figure():
    for framework in FRAMEWORKS:
        nb = nbformat.read(notebook_path(ROOT / 'chapters' / 'gaussian_gan.md', framework), 4)
        (cell,) = [c for c in nb.cells if c.source.startswith('train(')]
        kinds = [o.output_type for o in cell.outputs]
        assert kinds == ['stream', 'display_data'], (framework, kinds)
        assert 'examples/sec' in cell.outputs[0].text


def test_editing_a_lesson_makes_the_lessons_that_read_it_stale(source_nb, tmp_path,
                                                                monkeypatch):
    reader_nb = nbformat.from_dict(source_nb)
    reader_nb.metadata['needs'] = ['writer']
    writer, reader = tmp_path / 'writer.md', tmp_path / 'reader.md'
    ex, runs = fake_build(monkeypatch, tmp_path, {writer: source_nb, reader: reader_nb})
    ex.execute_stale(log=lambda *a: None)
    assert ex.stale_notebooks() == []
    source_nb.cells[2].source = 'import tensorflow as tf'  # the writer's TensorFlow code
    stale = [(s.name, fw) for s, fw, *_ in ex.stale_notebooks()]
    assert stale == [('writer.md', 'tensorflow'), ('reader.md', 'tensorflow')]


@pytest.mark.parametrize('needs, message', [
    ('writer', r'must be a list of lesson names, such as `needs: \[mnist_gan\]`; got .writer.'),
    (['../outside'], r'`needs: \[../outside\]` must name a lesson in the same folder'),
    (['writer.md'], r'must name a lesson in the same folder by its file name without `.md`'),
    (['notes'], 'reader.md needs notes.md, which is not a lesson'),
    (['reader'], 'form a cycle'),
])
def test_needs_is_checked_on_every_run(source_nb, tmp_path, monkeypatch, needs, message):
    reader_nb = nbformat.from_dict(source_nb)
    writer, reader = tmp_path / 'writer.md', tmp_path / 'reader.md'
    ex, runs = fake_build(monkeypatch, tmp_path, {writer: source_nb, reader: reader_nb})
    ex.execute_stale(log=lambda *a: None)
    (tmp_path / 'notes.md').touch()
    reader_nb.metadata['needs'] = needs  # front matter only: no code changed
    with pytest.raises(ex.BuildError, match=message):
        ex.stale_notebooks()


def test_a_failed_run_writes_no_notebook(source_nb, tmp_path, monkeypatch):
    second_nb = nbformat.from_dict(source_nb)
    first, second = tmp_path / 'first.md', tmp_path / 'second.md'
    ex, runs = fake_build(monkeypatch, tmp_path, {first: source_nb, second: second_nb})
    ex.execute_stale(log=lambda *a: None)
    committed = {p: p.read_bytes() for p in tmp_path.glob('*/*.ipynb')}
    source_nb.cells[0].source = '# Prose only'  # first: rewritten without running
    second_nb.cells[1].source = 'import torch as pt'  # second: runs, and fails

    def failing(nb, framework, workdir, label):
        raise ex.BuildError(f'{label}: a cell failed')
    monkeypatch.setattr(ex, 'execute', failing)
    with pytest.raises(ex.BuildError, match=r'second.md \[pytorch\]: a cell failed'):
        ex.execute_stale(log=lambda *a: None)
    assert {p: p.read_bytes() for p in tmp_path.glob('*/*.ipynb')} == committed


LESSON_TEXT = """# A lesson

```{code-cell} ipython3
:tags: [TAG]
print(1)
```
"""
JUPYTEXT = """jupytext:
  text_representation:
    extension: .md
    format_name: myst
"""
KERNELSPEC = """kernelspec:
  display_name: Python 3
  language: python
  name: python3
"""


@pytest.mark.parametrize('front', [
    f'---\n{JUPYTEXT}{KERNELSPEC}---\n',
    f'---\n{KERNELSPEC}{JUPYTEXT}---\n',  # kernelspec first
    f'\ufeff---\n{JUPYTEXT}{KERNELSPEC}---\n',  # a UTF-8 byte-order mark
])
def test_lessons_are_recognised_by_their_front_matter(tmp_path, monkeypatch, front):
    from bookbuild import lessons
    monkeypatch.setattr(lessons, 'TOC', tmp_path / '_toc.yml')
    (tmp_path / '_toc.yml').write_text('parts:\n  - chapters: [file: lesson, file: prose]\n')
    (tmp_path / 'lesson.md').write_text(front + LESSON_TEXT.replace('TAG', 'mxnet'),
                                        encoding='utf-8')
    (tmp_path / 'prose.md').write_text('# Just prose\n', encoding='utf-8')
    assert lessons.lesson_sources() == [tmp_path / 'lesson.md']
    nb = lessons.read_source(tmp_path / 'lesson.md')
    assert [c.metadata.get('tags') for c in nb.cells if c.cell_type == 'code'] == [['mxnet']]


def test_code_without_lesson_front_matter_and_misspelt_tags_are_errors(tmp_path, monkeypatch):
    from bookbuild import BuildError, lessons
    monkeypatch.setattr(lessons, 'TOC', tmp_path / '_toc.yml')
    (tmp_path / '_toc.yml').write_text('parts:\n  - chapters: [file: page]\n')
    page = tmp_path / 'page.md'
    page.write_text(LESSON_TEXT.replace('TAG', 'mxnet'), encoding='utf-8')
    with pytest.raises(BuildError, match='page.md has code cells but no jupytext front matter'):
        lessons.lesson_sources()
    page.write_text(f'---\n{JUPYTEXT}{KERNELSPEC}---\n' + LESSON_TEXT.replace('TAG', 'tensorflw'),
                    encoding='utf-8')
    with pytest.raises(BuildError, match="page.md, cell 2: unknown tag 'tensorflw'. Framework "
                                         'tags are pytorch, tensorflow, mxnet'):
        lessons.read_source(page)


@pytest.mark.parametrize('toc, message', [
    (None, '_toc.yml is missing'),
    ('parts: [chapters: [file: a]\n', '_toc.yml is not valid YAML'),
    ('format: jb-book\nroot: intro\n', 'must hold `parts:`'),
    ('parts:\n  - chapters:\n      - url: https://example.org\n', "entries this book does not "
                                                                     "build: {'url'"),
    ('parts:\n  - chapters:\n      - glob: chapters/*\n', "does not build: {'glob'"),
])
def test_a_bad_table_of_contents_gets_one_clear_error(tmp_path, toc, message):
    from bookbuild import BuildError
    from bookbuild.lessons import book_order
    path = tmp_path / '_toc.yml'
    if toc is not None:
        path.write_text(toc, encoding='utf-8')
    with pytest.raises(BuildError, match=message):
        book_order(path)


def test_a_dying_kernel_names_the_cell_it_was_running(tmp_path):
    from bookbuild import BuildError
    from bookbuild.execute import execute
    nb = nbformat.v4.new_notebook()
    nb.cells = [code('x = 1'), code('import os\nos._exit(1)'), code('print(x)')]
    nb.cells[1].id = 'the-fatal-cell'
    with pytest.raises(BuildError, match=r'the kernel died .* while running cell '
                                         r'the-fatal-cell:\nimport os'):
        execute(nb, 'pytorch', tmp_path, 'dying.md [pytorch]')


def test_the_render_drops_only_the_kernels_start_up_notice():
    from bookbuild.render import KERNEL_NOTICE, without_kernel_notice
    stderr = ('WARNING: a real Sphinx warning\n'
              f'[IPKernelApp] WARNING | {KERNEL_NOTICE}. All communication is plain text.\n'
              'Traceback (most recent call last):\n')
    assert without_kernel_notice(stderr) == ('WARNING: a real Sphinx warning\n'
                                             'Traceback (most recent call last):\n')


def test_fingerprint_merges_a_print_split_into_two_messages():
    """A busy machine split one print into two stream messages (portability test, native
    run): the fingerprint must not tell that from one message, as nbval does not."""
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from bookbuild.numerics import fingerprint

    def notebook(*texts):
        cell = new_code_cell('print(...)', id='cell-0', outputs=[
            new_output('stream', name='stdout', text=text) for text in texts])
        return new_notebook(cells=[cell])
    split = notebook('generator: 1\n', 'discriminator: 2\n')
    assert fingerprint(split) == fingerprint(notebook('generator: 1\ndiscriminator: 2\n'))
    assert fingerprint(split) != fingerprint(notebook('generator: 1\ndiscriminator: 3\n'))
    assert len(split.cells[0].outputs) == 2  # the notebook itself is left as it was


def test_a_failed_run_leaves_no_record_that_its_files_are_current(source_nb, tmp_path,
                                                                  monkeypatch):
    """The writer's code is changed, its run fails after writing its files, the author
    reverts it: the reader must not read the failed run's files (issue 28, case 1)."""
    writer, reader = tmp_path / 'writer.md', tmp_path / 'reader.md'
    reader_nb = nbformat.from_dict(source_nb)
    reader_nb.metadata['needs'] = ['writer']
    ex, runs = fake_build(monkeypatch, tmp_path, {writer: source_nb, reader: reader_nb})
    files, read = {}, []  # the writer's files, by framework; what the reader found

    def fake_execute(nb, framework, workdir, label):
        if label.startswith('writer'):
            files[framework] = next(c.source for c in nb.cells if c.source.startswith('write'))
            if files[framework] == 'write(2)':
                raise ex.BuildError(f'{label}: a cell failed after writing its files')
        else:
            read.append(files[framework])
        return nb
    monkeypatch.setattr(ex, 'execute', fake_execute)
    source_nb.cells.append(code('write(1)'))
    reader_nb.cells.append(code('read()'))
    ex.execute_stale(log=lambda *a: None)
    assert read == ['write(1)'] * 3

    source_nb.cells[-1].source = 'write(2)'
    with pytest.raises(ex.BuildError, match='failed after writing its files'):
        ex.execute_stale(log=lambda *a: None)
    source_nb.cells[-1].source = 'write(1)'  # reverted: the committed notebooks are current
    assert ex.stale_notebooks() == []
    read.clear()
    reader_nb.cells[-1].source = 'read()  # edited'
    ex.execute_stale(log=lambda *a: None)
    assert read == ['write(1)'] * 3


def test_a_kernel_registered_through_another_path_to_its_environment_is_kept(tmp_path,
                                                                           monkeypatch):
    """Two checkouts sharing one .venv and one set of environments (one reaches them through
    a symbolic link) must not register the kernels again and again with each other's
    paths; a kernel of another environment is registered again."""
    import json
    import sys

    from bookbuild import environments
    envs = tmp_path / 'first' / '.envs'
    (envs / 'pytorch' / 'bin').mkdir(parents=True)
    (envs / 'pytorch' / '.ready').write_text('current')
    (envs / 'pytorch' / 'bin' / 'python').symlink_to(sys.executable)  # as venv makes it
    (tmp_path / 'second').mkdir()
    (tmp_path / 'second' / '.envs').symlink_to(envs)
    spec = tmp_path / 'kernels' / 'gans-pytorch' / 'kernel.json'
    spec.parent.mkdir(parents=True)
    monkeypatch.setattr(environments, 'ENVS', tmp_path / 'second' / '.envs')
    monkeypatch.setattr(environments, 'kernel_spec', lambda framework: spec.parent)
    monkeypatch.setattr(environments, '_fingerprint', lambda framework: 'current')
    runs = []
    monkeypatch.setattr(environments, '_run', lambda command, what: runs.append(what))

    spec.write_text(json.dumps({'argv': [str(envs / 'pytorch' / 'bin' / 'python')]}))
    environments.ensure('pytorch', log=runs.append)
    assert runs == []
    other = tmp_path / 'other' / 'bin' / 'python'  # another environment, same interpreter
    other.parent.mkdir(parents=True)
    other.symlink_to(sys.executable)
    spec.write_text(json.dumps({'argv': [str(other)]}))
    environments.ensure('pytorch', log=runs.append)
    assert runs == ['registering the pytorch kernel']


@pytest.mark.parametrize('how', ['Ctrl-C', 'raise KeyboardInterrupt'])
def test_an_interrupted_cell_is_named_and_no_notebook_is_written(tmp_path, monkeypatch, how):
    """Ctrl-C while a cell runs said "a cell failed:" and nothing else (issue 28)."""
    import os
    import signal
    import threading

    from bookbuild.execute import execute as real_execute
    lesson = nbformat.v4.new_notebook()
    lesson.cells = [markdown('# A lesson'), code('print(1)')]
    ex, runs = fake_build(monkeypatch, tmp_path, {tmp_path / 'lesson.md': lesson})
    ex.execute_stale(log=lambda *a: None)
    committed = {p: p.read_bytes() for p in tmp_path.glob('*/*.ipynb')}
    started = tmp_path / 'pytorch' / 'started'
    if how == 'Ctrl-C':  # as a reader's terminal sends it: to the build, not to the kernel
        lesson.cells.append(code(f'import os, time\nopen({str(started)!r}, "w").write('
                                 'str(os.getpid()))\ntime.sleep(120)'))

        def press_ctrl_c():
            for _ in range(1200):
                if started.exists() and started.read_text():
                    os.kill(os.getpid(), signal.SIGINT)
                    return
                threading.Event().wait(0.1)
        threading.Thread(target=press_ctrl_c, daemon=True).start()
    else:
        lesson.cells.append(code('raise KeyboardInterrupt'))
    monkeypatch.setattr(ex, 'execute', real_execute)
    with pytest.raises(ex.BuildError) as raised:
        ex.execute_stale(log=lambda *a: None)
    assert str(raised.value).startswith(
        'lesson.md [pytorch]: the build was interrupted (Ctrl-C) while running cell cell-002:'
        '\n'), str(raised.value)
    assert 'no notebook was written' in str(raised.value)
    assert {p: p.read_bytes() for p in tmp_path.glob('*/*.ipynb')} == committed
    if how == 'Ctrl-C':  # and its kernel is gone
        assert not (Path('/proc') / started.read_text()).exists()


@pytest.mark.parametrize('output, message', [
    (nbformat.v4.new_output('stream', name='stdout', text='0123456789\n' * 20_000),
     r'outputs 240 kB, 240 kB of it text; a cell may output at most 2,000 kB, 100 kB of it '
     r'text'),
    (nbformat.v4.new_output('display_data', data={'image/png': 'iVBORw0K' * 400_000,
                                                  'text/plain': '<Figure>'}),
     r'outputs 3,200 kB, 0 kB of it text; a cell may output at most 2,000 kB'),
])
def test_a_cell_with_huge_outputs_fails_the_build_and_writes_no_notebook(tmp_path, monkeypatch,
                                                                          output, message):
    """A cell printing 10 MB made an 11 MB notebook and a 30 MB page, silently (issue 28)."""
    lesson = nbformat.v4.new_notebook()
    lesson.cells = [markdown('# A lesson'), code('print(1)'), code('show()')]
    ex, runs = fake_build(monkeypatch, tmp_path, {tmp_path / 'lesson.md': lesson})
    ex.execute_stale(log=lambda *a: None)
    committed = {p: p.read_bytes() for p in tmp_path.glob('*/*.ipynb')}

    def fake_execute(nb, framework, workdir, label):
        nb.cells[-1].outputs = [output]
        return nb
    monkeypatch.setattr(ex, 'execute', fake_execute)
    lesson.cells[-1].source = 'show(more)'
    with pytest.raises(ex.BuildError, match=r'^lesson.md \[pytorch\]: cell cell-002 ' + message +
                       r'.*Print less, or save large output to a file in out_dir.*'
                       r'no notebook was written'):
        ex.execute_stale(log=lambda *a: None)
    assert {p: p.read_bytes() for p in tmp_path.glob('*/*.ipynb')} == committed


def test_requirements_txt_is_the_tooling_environment_make_setup_made(tmp_path):
    """`pip install -r requirements.txt`, as a contributor runs it, asks for what `.venv`
    holds: pip's dry run in `.venv` would install d2lshim from this checkout and nothing
    else (every pin of locks/tooling.txt is satisfied, no other version is wanted)."""
    report = tmp_path / 'report.json'
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--dry-run', '--quiet',
                    '--disable-pip-version-check', '--report', str(report),
                    '-r', str(ROOT / 'requirements.txt')], check=True, cwd=ROOT)
    wanted = [(item['metadata']['name'], item.get('download_info', {}).get('url'))
              for item in json.loads(report.read_text())['install']]
    assert wanted == [('d2lshim', ROOT.as_uri())]
