"""How often the plain GAN and the WGAN-GP of the training-failures lesson cover the ring's
eight modes, per framework and seed.

    .venv/bin/python bench/failure_seeds.py [--seeds 10] [--set lr=1e-3 ...] [--frameworks pytorch]
        [--jobs 2]

Runs the lesson's own notebook for every framework and seeds 1 to `--seeds`, the seed (and
any `--set` values) placed after its `parameters` cell as papermill would, under the numerics
profile, `--jobs` runs at a time. Reads the records the lesson keeps (`gan_history`,
`wgan_history`: modes covered and quality every 10 or 16 epochs) and prints, per framework,
how many runs end with all eight modes, the fewest modes in the second half of training, the
final quality, and the correlation of each GAN's loss with its quality over the records.
"""
import argparse
import concurrent.futures
import multiprocessing
import os
import tempfile

import numpy as np

from bookbuild import CHAPTERS, FRAMEWORKS
from gaussian_seeds import assignment, lesson_report

LESSON = CHAPTERS / 'training_failures.md'
REPORT = "import json; print(json.dumps({'gan': gan_history, 'wgan': wgan_history}))"


def histories(framework, parameters, workdir):
    """{'gan': records, 'wgan': records} of one run of the lesson with `parameters`."""
    return lesson_report(LESSON, framework, parameters, workdir, REPORT)


def summary(records):
    """(final modes, fewest modes in the second half, final quality, correlation of the
    loss column with quality) of one GAN's records."""
    steps, modes, quality, loss = (np.array(column) for column in list(zip(*records))[:4])
    second_half = modes[len(modes) // 2:]
    return modes[-1], second_half.min(), quality[-1], np.corrcoef(loss, quality)[0, 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, default=10, help='seeds 1 to this number')
    parser.add_argument('--set', type=assignment, action='append', default=[],
                        metavar='NAME=VALUE', help="override one of the lesson's parameters")
    parser.add_argument('--frameworks', nargs='+', choices=FRAMEWORKS, default=list(FRAMEWORKS))
    parser.add_argument('--jobs', type=int, default=os.cpu_count())
    args = parser.parse_args()
    overrides = dict(args.set)
    seeds = range(1, args.seeds + 1)
    context = multiprocessing.get_context('spawn')
    with tempfile.TemporaryDirectory() as workdir, \
            concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
        futures = {(fw, seed): pool.submit(histories, fw, {**overrides, 'seed': seed}, workdir)
                   for fw in args.frameworks for seed in seeds}
        results = {job: future.result() for job, future in futures.items()}
    print(f'Training-failures lesson, seeds 1-{args.seeds}',
          *(f'{k}={v}' for k, v in overrides.items()))
    print('modes: final / fewest in the second half of training; quality: share of samples '
          'within 0.1 of a mode; r: correlation of the loss (plain: loss_D, WGAN-GP: '
          'W estimate) with quality over the records\n')
    print('| framework | GAN | all 8 modes at the end | final modes | fewest modes, 2nd half '
          '| final quality | r |')
    print('|---|---|---|---|---|---|---|')
    for framework in args.frameworks:
        for gan, name in (('gan', 'plain'), ('wgan', 'WGAN-GP')):
            rows = [summary(results[framework, seed][gan]) for seed in seeds]
            final, fewest, quality, r = zip(*rows)
            print(f'| {framework} | {name} | {sum(m == 8 for m in final)}/{len(rows)} | '
                  f'{" ".join(map(str, final))} | {" ".join(map(str, fewest))} | '
                  f'{min(quality):.2f}-{max(quality):.2f} | '
                  f'{min(r):+.2f} to {max(r):+.2f} |')


if __name__ == '__main__':
    main()
