"""The site as readers use it, in headless Chromium (Debian's, never a downloaded one).

The freshly built site is served on localhost; every request that would leave the machine
is blocked and counted. Screenshots of every page, desktop and phone sized, land in
_build/test-artifacts/screenshots for a person to look at.
"""
import functools
import http.server
import json
import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from bookbuild import BUILD, CHAPTERS, FRAMEWORKS, NOTEBOOKS
from bookbuild.lessons import book_order

CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
                 '--disable-background-networking', '--disable-component-update',
                 '--disable-sync', '--no-first-run']
SCREENSHOTS = BUILD / 'test-artifacts' / 'screenshots'
# Every page of the table of contents (each chapter is `chapters/<name>`), in its order.
CHAPTER_ORDER = book_order()
PAGES = ['intro.html'] + [f'chapters/{name}.html'
                          for name in sorted(CHAPTER_ORDER, key=CHAPTER_ORDER.get)]
LESSONS = ['chapters/gaussian_gan.html', 'chapters/mnist_gan.html', 'chapters/dcgan.html',
           'chapters/training_failures.html', 'chapters/conditional_gan.html']
WITH_MATH = ['chapters/gan_fundamentals.html', 'chapters/evaluating_gans.html'] + LESSONS
LABELS = [framework.label for framework in FRAMEWORKS.values()]
DESKTOP = {'width': 1280, 'height': 900}
PHONE = {'width': 390, 'height': 844}


@pytest.fixture(scope='module')
def base_url(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}/'
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f'{CHROMIUM} is missing: install Debian\'s browser with '
                    '`apt-get install chromium` (.ci/run does)')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """A fresh browser context (empty storage) that records what went wrong."""

    def __init__(self, browser, base_url, viewport=DESKTOP):
        self.base_url = base_url
        self.context = browser.new_context(viewport=viewport)
        self.left_machine, self.failed, self.errors = [], [], []
        self.context.route('**/*', self._route)
        self.page = self.context.new_page()
        self.page.on('console', lambda m: self.errors.append(m.text) if m.type == 'error' else None)
        self.page.on('pageerror', lambda e: self.errors.append(str(e)))
        self.page.on('requestfailed', lambda r: self.failed.append(r.url))

    def _route(self, route):
        if route.request.url.startswith(self.base_url):
            route.continue_()
        else:
            self.left_machine.append(route.request.url)
            route.abort()

    def open(self, path):
        self.page.goto(self.base_url + path)
        self.page.wait_for_load_state('networkidle')
        return self.page

    def assert_clean(self):
        assert self.left_machine == [], f'requests that would leave the machine: {self.left_machine}'
        assert self.failed == [], f'failed requests: {self.failed}'
        assert self.errors == [], f'console errors: {self.errors}'

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, base_url):
    visits = []

    def make(viewport=DESKTOP):
        visits.append(Visit(browser, base_url, viewport))
        return visits[-1]
    yield make
    for v in visits:
        v.close()


def selected_frameworks(page):
    """The label of the selected tab of every framework tab-set on the page."""
    return page.evaluate('''() => [...document.querySelectorAll('div.sd-tab-set')]
        .filter(set => set.querySelector('label[data-sync-group="framework"]'))
        .map(set => set.querySelector(':scope > input:checked + label').textContent.trim())''')


@pytest.mark.parametrize('viewport', [DESKTOP, PHONE], ids=['desktop', 'phone'])
def test_every_page_loads_offline_with_images_and_math(visit, viewport):
    v = visit(viewport)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path in PAGES:
        page = v.open(path)
        broken = page.evaluate('''() => [...document.images]
            .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src)''')
        assert broken == [], (path, broken)
        text = page.inner_text('article')
        assert '$$' not in text and '\\begin{' not in text, f'{path}: raw TeX left'
        if path in WITH_MATH:
            page.wait_for_selector('mjx-container', state='attached')
            assert page.locator('mjx-container').count() > 5, path
        if viewport is PHONE:  # only code blocks and wide outputs may scroll sideways
            assert page.evaluate('document.documentElement.scrollWidth') <= PHONE['width'], path
        name = path.replace('/', '_').replace('.html', '')
        page.screenshot(path=SCREENSHOTS / f'{name}-{viewport["width"]}.png', full_page=True)
    v.assert_clean()


def test_home_page_leads_to_the_book(visit):
    v = visit()
    page = v.open('index.html')
    assert page.url.endswith('intro.html')  # index redirects to the first page
    for path in PAGES[1:]:
        assert page.locator(f'nav a[href$="{Path(path).name}"]').count() >= 1, path
    v.assert_clean()


@pytest.mark.parametrize('path', LESSONS)
def test_lesson_tabs_have_every_framework_and_their_outputs(visit, path):
    v = visit()
    page = v.open(path)
    tab_sets = page.evaluate('''() => [...document.querySelectorAll('div.sd-tab-set')]
        .filter(set => set.querySelector('label[data-sync-group="framework"]'))
        .map(set => ({
            labels: [...set.querySelectorAll(':scope > label')].map(l => l.textContent.trim()),
            outputs: [...set.querySelectorAll(':scope > div.sd-tab-content')]
                .map(c => c.querySelectorAll('.cell_output').length)}))''')
    assert len(tab_sets) >= 8
    assert page.locator('button.copybtn').count() >= len(tab_sets)  # copy buttons on code
    for tab_set in tab_sets:
        assert tab_set['labels'] == LABELS
        if any(tab_set['outputs']):
            assert all(tab_set['outputs']), tab_set  # one framework's output means all three
    v.assert_clean()


def test_one_click_selects_a_framework_everywhere_and_it_persists(visit):
    v = visit()
    page = v.open(LESSONS[0])
    assert set(selected_frameworks(page)) == {'PyTorch'}
    page.locator('label[data-sync-id="mxnet"]').nth(3).click()
    assert set(selected_frameworks(page)) == {'MXNet'}
    page.reload()
    page.wait_for_load_state('networkidle')
    assert set(selected_frameworks(page)) == {'MXNet'}
    page = v.open(LESSONS[1])
    assert set(selected_frameworks(page)) == {'MXNet'}
    v.assert_clean()


@pytest.mark.parametrize('viewport', [DESKTOP, PHONE], ids=['desktop', 'phone'])
def test_framework_query_parameter_preselects(visit, viewport):
    v = visit(viewport)
    page = v.open(LESSONS[1] + '?framework=tensorflow')
    chosen = selected_frameworks(page)
    assert len(chosen) >= 8 and set(chosen) == {'TensorFlow'}
    v.assert_clean()


def test_search_finds_the_discriminator(visit):
    v = visit()
    page = v.open('search.html?q=discriminator')
    page.wait_for_selector('#search-results ul.search li', timeout=15000)
    found = page.locator('#search-results ul.search li a').all_inner_texts()
    assert any('Gaussian' in title for title in found), found
    v.assert_clean()


def test_exercise_solutions_are_hidden_until_clicked(visit):
    v = visit()
    page = v.open(LESSONS[0])
    solutions = page.locator('div.solution')
    written = (CHAPTERS / 'gaussian_gan.md').read_text().count('```{solution}')
    assert written >= 3 and solutions.count() == written
    body = solutions.first.locator('section').first
    assert not body.is_visible()
    solutions.first.locator('.admonition-title').click()
    body.wait_for(state='visible')
    assert 'affine' in body.inner_text()
    assert not solutions.nth(1).locator('section').first.is_visible()  # the others stay shut
    v.assert_clean()


@pytest.mark.parametrize('path', LESSONS)
def test_downloads_are_the_checked_per_framework_notebooks(visit, path):
    v = visit()
    page = v.open(path)
    lesson = Path(path).stem
    for framework in FRAMEWORKS:
        link = page.locator(f'a.btn-download-{framework}-notebook-button')
        assert link.count() == 1, framework
        response = page.request.get(link.evaluate('a => a.href'))
        assert response.ok, framework
        committed = NOTEBOOKS / framework / f'{lesson}.ipynb'
        # byte for byte the notebook that nbval re-executes in a fresh python3 kernel
        assert response.body() == committed.read_bytes(), framework
        assert json.loads(response.body())['metadata']['kernelspec']['name'] == 'python3'
    v.assert_clean()

