"""How often the Gaussian lesson's generator finds the data's distribution, per framework.

    .venv/bin/python bench/gaussian_seeds.py [--seeds 10] [--set beta1=0.9 ...] [--frameworks pytorch]

Runs the lesson's own notebook for every framework and seeds 1 to `--seeds`, the seed (and
any `--set` values) placed after its `parameters` cell as papermill would, under the numerics
profile, two runs at a time. Reads the errors the lesson itself prints at the end
(`mean_error`, `cov_error`: against the 1,000 points it trains on) and counts a run as a
success when the mean is within 0.1 and the covariance within 15 %.
"""
import argparse
import ast
import concurrent.futures
import json
import multiprocessing
import os
import tempfile
from pathlib import Path

import nbformat

from bookbuild import CHAPTERS, FRAMEWORKS
from bookbuild.execute import checked_env, execute
from bookbuild.lessons import short_run
from bookbuild.numerics import SHARED_CORES_ENV

LESSON = CHAPTERS / 'gaussian_gan.md'
MEAN_TOLERANCE, COV_TOLERANCE = 0.1, 0.15
REPORT = "import json; print(json.dumps([float(mean_error), float(cov_error)]))"


def lesson_report(lesson, framework, parameters, workdir, report):
    """Run `lesson` (a chapter's path) whole with `parameters`, under the numerics profile,
    then the code `report`, which prints JSON; return what it printed, decoded."""
    folder = Path(workdir) / framework / str(parameters['seed'])
    folder.mkdir(parents=True)
    nb = short_run(lesson, framework, parameters)
    nb.cells.append(nbformat.v4.new_code_cell(report))
    settings = {**checked_env(framework), **SHARED_CORES_ENV, 'D2LSHIM_ARTIFACTS': str(folder)}
    nb = execute(nb, framework, folder, f'{lesson.name} [{framework}] {parameters}',
                 settings=settings)
    return json.loads(nb.cells[-1].outputs[0]['text'])


def errors(framework, parameters, workdir):
    """(mean error, covariance error) of one run of the lesson with `parameters`."""
    return tuple(lesson_report(LESSON, framework, parameters, workdir, REPORT))


def assignment(text):
    name, _, value = text.partition('=')
    try:
        return name.strip(), ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        raise argparse.ArgumentTypeError(
            f'--set {text!r}: write name=value with a Python literal, e.g. beta1=0.9') from None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, default=10, help='seeds 1 to this number')
    parser.add_argument('--set', type=assignment, action='append', default=[],
                        metavar='NAME=VALUE', help="override one of the lesson's parameters")
    parser.add_argument('--frameworks', nargs='+', choices=FRAMEWORKS, default=list(FRAMEWORKS))
    args = parser.parse_args()
    overrides = dict(args.set)
    seeds = range(1, args.seeds + 1)
    context = multiprocessing.get_context('spawn')
    with tempfile.TemporaryDirectory() as workdir, \
            concurrent.futures.ProcessPoolExecutor(os.cpu_count(), mp_context=context) as pool:
        futures = {(fw, seed): pool.submit(errors, fw, {**overrides, 'seed': seed}, workdir)
                   for fw in args.frameworks for seed in seeds}
        results = {job: future.result() for job, future in futures.items()}
    print(f'Gaussian lesson, seeds 1-{args.seeds}', *(f'{k}={v}' for k, v in overrides.items()))
    print(f'success: mean within {MEAN_TOLERANCE}, covariance within {COV_TOLERANCE:.0%}\n')
    print('| framework | successes | worst mean error | worst covariance error | '
          'per seed (mean / covariance) |')
    print('|---|---|---|---|---|')
    for framework in args.frameworks:
        runs = [results[framework, seed] for seed in seeds]
        successes = sum(m <= MEAN_TOLERANCE and c <= COV_TOLERANCE for m, c in runs)
        print(f'| {framework} | {successes}/{len(runs)} | {max(m for m, _ in runs):.2f} | '
              f'{max(c for _, c in runs):.0%} | '
              + ' '.join(f'{m:.2f}/{c:.0%}' for m, c in runs) + ' |')


if __name__ == '__main__':
    main()
