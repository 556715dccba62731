"""How much the MNIST lessons' evaluation numbers vary from seed to seed, per framework.

    .venv/bin/python bench/mnist_seeds.py [--lesson dcgan] [--seeds 1 2] [--set num_epochs=15 ...] [--frameworks pytorch]

Trains the lesson's own notebook (the MLP GAN's, mnist_gan, or the DCGAN's) for every
framework and seed (the seed and any
`--set` values placed after its `parameters` cell, as papermill would) under the numerics
profile, two runs at a time, then measures each run's 10,000 samples with
`d2lshim.metrics.evaluate`, the evaluation chapter's metrics. The book's pages show seed 0.
A full run of the MLP GAN takes about 5 minutes per framework and seed on 2 cores.
"""
import argparse
import concurrent.futures
import csv
import multiprocessing
import os
import statistics
import tempfile
from pathlib import Path

from bookbuild import CHAPTERS, FRAMEWORKS
from bookbuild.execute import checked_env, execute
from bookbuild.lessons import short_run
from bookbuild.numerics import SHARED_CORES_ENV
from gaussian_seeds import assignment

LESSONS = ['mnist_gan', 'dcgan']


def train_and_evaluate(lesson, framework, parameters, workdir):
    """The evaluation chapter's metrics of one run of `lesson` with `parameters`."""
    folder = Path(workdir) / framework / str(parameters['seed'])
    folder.mkdir(parents=True)
    source = CHAPTERS / f'{lesson}.md'
    nb = short_run(source, framework, {**parameters, 'out_dir': str(folder)})
    settings = {**checked_env(framework), **SHARED_CORES_ENV, 'D2LSHIM_ARTIFACTS': str(folder)}
    execute(nb, framework, folder, f'{source.name} [{framework}] {parameters}',
            settings=settings)
    from d2lshim import metrics
    result = metrics.evaluate(metrics.load_samples(folder / 'samples.npy'))
    with open(folder / 'losses.csv', newline='') as f:
        epochs = list(csv.DictReader(f))
    print(f'{framework} seed {parameters["seed"]}: Parzen {result["parzen"]["mean"]:.0f}, '
          f'Fréchet {result["frechet"]:.2f}; per epoch:', flush=True)
    for epoch in epochs:
        print('   ', ', '.join(f'{name} {float(value):.3f}' for name, value in epoch.items()),
              flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--lesson', choices=LESSONS, default=LESSONS[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--set', type=assignment, action='append', default=[],
                        metavar='NAME=VALUE', help="override one of the lesson's parameters")
    parser.add_argument('--frameworks', nargs='+', choices=FRAMEWORKS, default=list(FRAMEWORKS))
    args = parser.parse_args()
    overrides = dict(args.set)
    context = multiprocessing.get_context('spawn')
    with tempfile.TemporaryDirectory() as workdir, \
            concurrent.futures.ProcessPoolExecutor(os.cpu_count(), mp_context=context) as pool:
        futures = {(fw, seed): pool.submit(train_and_evaluate, args.lesson, fw,
                                           {**overrides, 'seed': seed}, workdir)
                   for fw in args.frameworks for seed in args.seeds}
        results = {job: future.result() for job, future in futures.items()}
    print(args.lesson, 'seeds', *args.seeds, *(f'{k}={v}' for k, v in overrides.items()))
    print('| framework | seed | Parzen LL | Fréchet | score | classes | nearest train |')
    print('|---|---|---|---|---|---|---|')
    for framework in args.frameworks:
        rows = [results[framework, seed] for seed in args.seeds]
        for seed, r in zip(args.seeds, rows):
            print(f'| {framework} | {seed} | {r["parzen"]["mean"]:.0f} ± {r["parzen"]["sem"]:.0f} '
                  f'| {r["frechet"]:.2f} | {r["score"]:.2f} | {r["covered"]} '
                  f'| {r["nearest_train"]:.2f} |')
        if len(rows) > 1:
            columns = {'Parzen': [r['parzen']['mean'] for r in rows],
                       'Fréchet': [r['frechet'] for r in rows],
                       'score': [r['score'] for r in rows]}
            print(f'| {framework} | mean ± sd |', ' | '.join(
                f'{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f}'
                for v in columns.values()), '| | |')


if __name__ == '__main__':
    main()
