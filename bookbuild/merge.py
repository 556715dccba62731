"""Merge the executed per-framework notebooks of a lesson back into one page."""
import copy
import json

import nbformat

from bookbuild import FRAMEWORKS, SYNC_GROUP
from bookbuild.editions import EDITIONS_FOLDER, edition_name, platforms_note
from bookbuild.lessons import cell_frameworks, cell_id, is_framework_specific


def _comparable(outputs):
    outputs = copy.deepcopy(outputs)
    for output in outputs:
        output.pop('execution_count', None)
    return json.dumps(outputs, sort_keys=True)


def markdown_tab_set(cells):
    """One MyST tab-set for a run of framework-specific markdown cells."""
    texts = {framework: [] for framework in FRAMEWORKS}
    for cell in cells:
        for framework in cell_frameworks(cell):
            texts[framework].append(cell.source)
    lines = ['::::{tab-set}', f':sync-group: {SYNC_GROUP}', '']
    for framework in FRAMEWORKS.values():
        body = '\n\n'.join(texts[framework.tag]) or \
            f'*Nothing specific to {framework.label} here.*'
        lines += [f':::{{tab-item}} {framework.label}', f':sync: {framework.tag}', '', body,
                  ':::', '']
    return '\n'.join(lines + ['::::'])


def edition_links():
    """MyST links to every framework's edition, as staged by bookbuild.render."""
    return ', '.join(f'{{download}}`{framework.label} </{EDITIONS_FOLDER}/'
                     f'{edition_name(framework.tag)}.zip>`' for framework in FRAMEWORKS.values())


def pdf_links():
    """MyST links to every framework's PDF, as staged by bookbuild.render."""
    from bookbuild.pdf import pdf_name
    return ', '.join(f'{{download}}`{framework.label} </{EDITIONS_FOLDER}/'
                     f'{pdf_name(framework.tag)}>`' for framework in FRAMEWORKS.values())


def download_cell(downloads):
    """A note under the title linking every framework's edition and the lesson's notebooks."""
    links = ', '.join(f'{{download}}`{FRAMEWORKS[fw].label} <{path}>`'
                      for fw, path in downloads.items())
    text = ('```{admonition} Run this lesson yourself\n:class: tip\n'
            f'Download the edition of your framework ({edition_links()}): a zip with every '
            "lesson's notebook, the book as a PDF, the book's helper package and the pinned "
            'requirements. Unzip it; its README gives the two commands that install it and '
            f'open Jupyter. This lesson alone: {links}; it runs in a folder where an edition '
            f'is installed. {platforms_note()}\n```')
    cell = nbformat.v4.new_markdown_cell(text)
    cell.id = 'run-this-lesson'
    return cell


def merge(source_nb, executed, downloads):
    """The page notebook: common cells once, framework cells (and common cells whose
    outputs differ by framework) once per framework, tagged with the framework.

    `executed` maps framework -> executed split notebook; `downloads` maps framework ->
    the page-relative path of that notebook, linked under the title.
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata = {'kernelspec': {'name': 'python3', 'display_name': 'Python 3',
                                  'language': 'python'}}
    run_cells = {fw: {c.id: c for c in nb_.cells} for fw, nb_ in executed.items()}
    pending_prose = []

    def flush_prose():
        if pending_prose:
            cell = nbformat.v4.new_markdown_cell(markdown_tab_set(pending_prose))
            cell.id = pending_prose[0].id + '-tabs'
            nb.cells.append(cell)
            pending_prose.clear()

    for index, cell in enumerate(source_nb.cells):
        if cell.cell_type == 'markdown':
            if is_framework_specific(cell):
                cell = copy.deepcopy(cell)
                cell.id = cell_id(index)
                pending_prose.append(cell)
                continue
            flush_prose()
            new = nbformat.v4.new_markdown_cell(cell.source)
            new.id = cell_id(index)
            nb.cells.append(new)
            continue
        flush_prose()
        frameworks = cell_frameworks(cell)
        outputs = {fw: run_cells[fw][cell_id(index)].outputs for fw in frameworks}
        other_tags = [t for t in cell.metadata.get('tags', []) if t not in FRAMEWORKS]
        if not is_framework_specific(cell) and \
                len({_comparable(o) for o in outputs.values()}) == 1:
            new = nbformat.v4.new_code_cell(cell.source, outputs=outputs[frameworks[0]])
            new.id = cell_id(index)
            if other_tags:
                new.metadata['tags'] = other_tags
            nb.cells.append(new)
            continue
        for framework in frameworks:
            new = nbformat.v4.new_code_cell(cell.source, outputs=outputs[framework])
            new.id = cell_id(index, framework)
            new.metadata['tags'] = [framework] + other_tags
            nb.cells.append(new)
    flush_prose()
    nb.cells.insert(1 if nb.cells else 0, download_cell(downloads))
    return nb
