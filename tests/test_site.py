"""The rendered book: tabs with outputs in every framework, per-framework downloads and
editions.

The framework tabs are built from sphinx-design 0.8.0's internal node layout, so this
test reads the HTML that actually comes out.
"""
import json

from bs4 import BeautifulSoup

from bookbuild import FRAMEWORKS
from bookbuild.lessons import book_chapters, read_text, shown

LABELS = [framework.label for framework in FRAMEWORKS.values()]


def page(site, name):
    return BeautifulSoup((site / name).read_text(encoding='utf-8'), 'html.parser')


def test_every_page_of_the_toc_is_rendered(site):
    for name in ['index.html', 'intro.html', 'chapters/gan_fundamentals.html',
                 'chapters/gaussian_gan.html', 'chapters/mnist_gan.html',
                 'chapters/evaluating_gans.html', 'chapters/bibliography.html']:
        assert (site / name).exists(), name
    fundamentals = page(site, 'chapters/gan_fundamentals.html')
    assert 'Goodfellow' in page(site, 'chapters/bibliography.html').get_text()
    assert fundamentals.select('a[href*="bibliography.html#id"]'), 'citation not linked'
    assert fundamentals.select('div.math'), 'display math missing'


def test_lesson_tab_sets_have_three_synced_frameworks_with_outputs(site):
    soup = page(site, 'chapters/gaussian_gan.html')
    tab_sets = soup.select('div.sd-tab-set')
    assert len(tab_sets) >= 8
    for tab_set in tab_sets:
        labels = tab_set.find_all('label', class_='sd-tab-label', recursive=False)
        assert [label.get_text(strip=True) for label in labels] == LABELS
        assert [label['data-sync-group'] for label in labels] == ['framework'] * 3
        assert [label['data-sync-id'] for label in labels] == list(FRAMEWORKS)
        assert 'This step has no' not in tab_set.get_text()
    training = [t for t in tab_sets if 'examples/sec' in t.get_text()]
    assert len(training) == 1, 'the training cell should be one tab-set'
    panels = training[0].find_all('div', class_='sd-tab-content', recursive=False)
    assert len(panels) == 3
    for panel in panels:
        assert 'loss_D' in panel.get_text() and panel.find('img'), panel.get_text()[:200]
    # framework-specific prose is a tab-set too
    assert any('trainer.step(1)' in t.get_text() and not t.select('div.cell') for t in tab_sets)
    # code and outputs common to all frameworks appear once, outside any tab
    outside = [c for c in soup.select('div.cell') if not c.find_parent('div', class_='sd-tab-set')]
    assert any('true covariance' in c.get_text() for c in outside)


def test_lesson_offers_one_runnable_notebook_per_framework(site):
    soup = page(site, 'chapters/gaussian_gan.html')
    in_page = {a['href'] for a in soup.select('article a[href*="_downloads/"]')}
    header = {fw: [a['href'] for a in soup.select(f'a.btn-download-{fw}-notebook-button')]
              for fw in FRAMEWORKS}
    hrefs = in_page | {h for links in header.values() for h in links}
    for framework in FRAMEWORKS:
        assert len(header[framework]) == 1, header
        assert header[framework][0] in in_page
    for framework in FRAMEWORKS:
        mine = [h for h in hrefs if h.endswith(f'gaussian_gan_{framework}.ipynb')]
        assert mine, (framework, hrefs)
        notebook = json.loads((site / 'chapters' / mine[0]).resolve().read_text())
        assert notebook['metadata']['kernelspec']['name'] == 'python3'
        assert notebook['metadata']['d2lbook']['framework'] == framework
    assert not [h for h in hrefs if h.endswith('gaussian_gan.ipynb')], 'merged notebook offered'
    assert not soup.select('a[href$="_sources/chapters/gaussian_gan.ipynb"]')


def test_home_page_and_every_lesson_link_every_edition(site):
    from bookbuild.editions import EDITIONS, edition_name
    from bookbuild.lessons import lesson_sources
    pages = ['intro.html'] + [f'chapters/{source.stem}.html' for source in lesson_sources()]
    for name in pages:
        soup = page(site, name)
        for framework in FRAMEWORKS:
            zip_name = f'{edition_name(framework)}.zip'
            links = [a['href'] for a in soup.select('article a[href]')
                     if a['href'].endswith(zip_name)]
            assert links, (name, zip_name)
            served = (site / name).parent / links[0]
            assert served.resolve().read_bytes() == (EDITIONS / zip_name).read_bytes()
    box = page(site, 'chapters/gaussian_gan.html').select_one('div.admonition.tip')
    assert 'Run this lesson yourself' in box.get_text() and 'README' in box.get_text()
    from bookbuild.editions import unsupported_sentence  # where a reader chooses, too
    for framework in FRAMEWORKS:
        sentence = unsupported_sentence(framework)
        if sentence:
            assert ' '.join(sentence.split()) in ' '.join(box.get_text().split()), framework


def test_every_exercise_and_solution_is_rendered_on_its_own(site):
    """A solution whose closing fence went missing swallows the exercises after it. Every
    chapter of _toc.yml, lesson or prose, wherever it lives."""
    for source in book_chapters():
        name = shown(source)
        text = read_text(source)
        written = text.count('```{exercise}'), text.count('```{solution}')
        soup = page(site, shown(source.with_suffix('.html')))
        exercises, solutions = soup.select('div.exercise'), soup.select('div.solution')
        assert (len(exercises), len(solutions)) == written, name
        for box in exercises + solutions:
            assert not box.find_parent('div', class_='solution'), (name, box.get_text()[:80])
            assert not box.find_parent('div', class_='exercise'), (name, box.get_text()[:80])
