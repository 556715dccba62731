"""Sphinx extension: framework tabs around executed code cells, per-framework downloads.

MyST-NB cannot put a code cell inside a tab-item, so the merged page keeps framework
cells as plain cells tagged with their framework. At read time this transform wraps each
run of consecutive tagged cells into a sphinx-design tab-set: one tab per framework, in
the order of FRAMEWORKS, all in one sync group, so a click, the stored choice and
`?framework=mxnet` select a framework everywhere. The nodes follow sphinx-design 0.8.0's
tab-set contract (pinned; tests/test_site.py checks the emitted HTML). The `editions`
directive links every framework's edition.
"""
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.transforms import SphinxTransform
from sphinx.util.docutils import SphinxDirective

from bookbuild import FRAMEWORKS, SYNC_GROUP


def _framework_of(node):
    if not (isinstance(node, nodes.container) and node.get('nb_element') == 'cell_code'):
        return None
    for framework in FRAMEWORKS:
        if f'tag_{framework}' in node['classes']:
            return framework
    return None


def _tab_set(cells):
    tab_set = nodes.container('', is_div=True, design_component='tab-set',
                              classes=['sd-tab-set', 'framework-tabs'])
    for position, framework in enumerate(FRAMEWORKS):
        label = FRAMEWORKS[framework].label
        mine = [cell for cell in cells if _framework_of(cell) == framework]
        if not mine:
            mine = [nodes.paragraph('', f'This step has no {label} code.',
                                    classes=['framework-missing'])]
        item = nodes.container('', is_div=True, design_component='tab-item',
                               classes=['sd-tab-item'], selected=(position == 0))
        item += nodes.rubric(label, nodes.Text(label), classes=['sd-tab-label'],
                             sync_id=framework, sync_group=SYNC_GROUP)
        content = nodes.container('', is_div=True, design_component='tab-content',
                                  classes=['sd-tab-content'])
        content.extend(mine)
        item += content
        tab_set += item
    return tab_set


class FrameworkTabs(SphinxTransform):
    default_priority = 800

    def apply(self):
        if self.config.bookbuild_pdf_framework:  # a PDF has one framework's cells: no tabs
            return
        parents = {cell.parent for cell in self.document.findall(nodes.container)
                   if _framework_of(cell)}
        for parent in parents:
            children, run = [], []
            for child in parent.children:
                if _framework_of(child):
                    run.append(child)
                    continue
                if run:
                    children.append(_tab_set(run))
                    run = []
                children.append(child)
            if run:
                children.append(_tab_set(run))
            for child in parent.children:
                child.parent = None
            parent.children = []
            parent.extend(children)


def framework_download_buttons(app, pagename, templatename, context, doctree):
    """Make the theme's download menu offer the page's per-framework notebooks instead
    of the merged notebook, which runs no framework on its own."""
    notebooks = {}
    for filename, (docnames, dest) in app.env.dlfiles.items():
        if pagename in docnames and filename.endswith('.ipynb'):
            framework = filename.rsplit('_', 1)[-1][:-len('.ipynb')]
            if framework in FRAMEWORKS:
                notebooks[framework] = dest
    for group in context.get('header_buttons', []):
        if group.get('label') != 'download-buttons':
            continue
        kept = [b for b in group['buttons'] if b.get('label') == 'download-pdf-button']
        if not notebooks:
            group['buttons'] = [b for b in group['buttons']
                                if b.get('label') != 'download-notebook-button']
            continue
        links = [{'type': 'link', 'text': f'{FRAMEWORKS[fw].label} .ipynb',
                  'url': f"{context['pathto']('_downloads', 1)}/{notebooks[fw]}",
                  'icon': 'fas fa-code', 'tooltip': f'Download the {FRAMEWORKS[fw].label} notebook',
                  'label': f'download-{fw}-notebook-button'}
                 for fw in FRAMEWORKS if fw in notebooks]
        group['buttons'] = links + kept


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Sphinx 7.4 registers an inline script added by an extension twice, once with
    filename None and once with '' (sphinx-thebe's and sphinx-togglebutton's configuration);
    the second `const THEBE_JS_URL` is a JavaScript error on every page. Keep one copy."""
    seen, unique = set(), []
    for script in context.get('script_files', []):
        key = (getattr(script, 'filename', script) or '',
               tuple(sorted(getattr(script, 'attributes', {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context['script_files'] = unique


class EditionsDirective(SphinxDirective):
    """`{editions}`: a paragraph linking every framework's edition and saying where each
    runs (the home page's)."""

    def run(self):
        from bookbuild.editions import platforms_note
        from bookbuild.merge import edition_links, pdf_links
        framework = self.config.bookbuild_pdf_framework
        if framework:  # in a PDF, which links nothing of its own build
            text = (f'This PDF is the {FRAMEWORKS[framework].label} edition of the book. The '
                    f"book's website offers every framework's edition and PDF. "
                    f'{platforms_note()}')
        else:
            text = (f'Download an edition: {edition_links()}. Or read the book as a PDF with '
                    f"one framework's code (each edition holds its own): {pdf_links()}. "
                    f'{platforms_note()}')
        container = nodes.container()
        self.state.nested_parse(StringList([text]), self.content_offset, container)
        return container.children


def setup(app):
    # Set by bookbuild.pdf for a framework's PDF; the site leaves it None.
    app.add_config_value('bookbuild_pdf_framework', None, 'env')
    app.add_directive('editions', EditionsDirective)
    app.add_transform(FrameworkTabs)
    app.connect('html-page-context', drop_duplicate_scripts, priority=900)  # after all adders
    # after sphinx-book-theme fills header_buttons (priority 500) and launch buttons (501)
    app.connect('html-page-context', framework_download_buttons, priority=510)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
