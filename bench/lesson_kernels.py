"""Run a bench's measurement inside each framework's lesson, in that framework's environment.

Each environment holds one framework, so a bench cannot import them side by side: it runs
the lesson's own cells up to its training loop in a kernel of each framework's environment
(bookbuild.execute.run_in_lesson), then calls `<bench module>.<function>(namespace,
framework, label, **arguments)` there and reads back the JSON it returns. The bench
modules import no framework and no bookbuild at the top, so that they import in any
environment.
"""
import json
import tempfile
from pathlib import Path

from bookbuild import FRAMEWORKS
from bookbuild.execute import READER_ENV, run_in_lesson

BENCH = Path(__file__).resolve().parent
# As a reader's own run: no numerics profile, unless a bench compares with it.
WITHOUT_PROFILE = READER_ENV


def measure_in_lessons(lesson, module, function, settings=WITHOUT_PROFILE, **arguments):
    """{framework: what `module.function` returned in that framework's lesson kernel}."""
    results = {}
    for framework in FRAMEWORKS:
        code = (f'import json, sys\nsys.path.insert(0, {str(BENCH)!r})\nimport {module}\n'
                f'print(json.dumps({module}.{function}(globals(), {framework!r}, '
                f'{FRAMEWORKS[framework].label!r}, **{arguments!r})))\n')
        with tempfile.TemporaryDirectory() as folder:
            printed = run_in_lesson(lesson, framework, code, Path(folder),
                                    settings={**settings, 'D2LSHIM_ARTIFACTS': folder})
        results[framework] = json.loads(printed.splitlines()[-1])
    return results
