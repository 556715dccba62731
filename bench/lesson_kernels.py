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
from bookbuild.numerics import numerics_profile

BENCH = Path(__file__).resolve().parent


def without_profile(framework):
    """A kernel's settings as in a reader's own run: no numerics profile."""
    return READER_ENV


def with_profile(framework):
    """A kernel's settings under `framework`'s numerics profile, as the build runs it."""
    return {**READER_ENV, **numerics_profile(framework)}


def measure_in_lessons(lesson, module, function, settings=without_profile, **arguments):
    """{framework: what `module.function` returned in that framework's lesson kernel, run
    with the variables `settings(framework)`}."""
    results = {}
    for framework in FRAMEWORKS:
        code = (f'import json, sys\nsys.path.insert(0, {str(BENCH)!r})\nimport {module}\n'
                f'print(json.dumps({module}.{function}(globals(), {framework!r}, '
                f'{FRAMEWORKS[framework].label!r}, **{arguments!r})))\n')
        with tempfile.TemporaryDirectory() as folder:
            printed = run_in_lesson(lesson, framework, code, Path(folder),
                                    settings={**settings(framework), 'D2LSHIM_ARTIFACTS': folder})
        results[framework] = json.loads(printed.splitlines()[-1])
    return results
