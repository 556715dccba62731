"""Run a lesson's own code in each framework's environment, up to its training loop, and
collect what `lesson_probes` computes there: the tests compare the frameworks' arrays."""
from pathlib import Path

import numpy as np

from bookbuild import CHAPTERS, FRAMEWORKS, REFERENCE
from bookbuild.execute import checked_env, run_in_lesson

TESTS = Path(__file__).resolve().parent
# Every framework is compared with the reference; a new framework is covered as it is added.
OTHERS = [framework for framework in FRAMEWORKS if framework != REFERENCE]


def probe(lesson, framework, calls, workdir, inputs=None, parameters=None,
          stop_before='train('):
    """Run the cells of `lesson` for `framework` up to the first that starts with
    `stop_before` (all of them if None), with `parameters` set as papermill would, then
    `lesson_probes.<call>(namespace, framework, inputs)` for each of `calls`; return the
    arrays they returned, as a dict."""
    source = CHAPTERS / f'{lesson}.md'
    folder = workdir / framework
    folder.mkdir(parents=True)
    np.savez(folder / 'inputs.npz', **(inputs or {}))
    code = (f'import sys\nsys.path.insert(0, {str(TESTS)!r})\nimport numpy\nimport lesson_probes\n'
            'inputs = dict(numpy.load("inputs.npz"))\nresult = {}\n'
            f'for call in {list(calls)!r}:\n'
            f'    result.update(getattr(lesson_probes, call)(globals(), {framework!r}, inputs))\n'
            'numpy.savez("result.npz", **result)\n')
    run_in_lesson(source, framework, code, folder, parameters=parameters,
                  stop_before=stop_before,
                  settings={**checked_env(framework), 'D2LSHIM_ARTIFACTS': str(folder)})
    with np.load(folder / 'result.npz') as result:
        return dict(result)


def batches(pairs):
    """Steps' batches [(X, Z), ...] as the arrays X0, Z0, X1, ... that `probe` passes on."""
    pairs = list(pairs)
    return {**numbered('X', [x for x, _ in pairs]), **numbered('Z', [z for _, z in pairs])}


def numbered(prefix, arrays):
    return {f'{prefix}{i}': a for i, a in enumerate(arrays)}


def unnumbered(prefix, data):
    return [data[f'{prefix}{i}'] for i in range(sum(k.startswith(prefix) and
                                                    k[len(prefix):].isdigit() for k in data))]
