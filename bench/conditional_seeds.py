"""Whether the conditional GAN lesson draws the digits it is asked for, per framework and
seed.

    .venv/bin/python bench/conditional_seeds.py [--seeds 0 1 2] [--set num_epochs=3 ...]
        [--frameworks pytorch] [--jobs 2]

Runs the lesson's own notebook whole for every framework and seed (the seed and any `--set`
values placed after its `parameters` cell, as papermill would) under the numerics profile,
`--jobs` runs at a time, and reads from the finished lesson what its last table prints: per
requested digit, the share of the 10,000 samples the book's classifier reads as that digit,
and the Fréchet distance of the samples of each digit to the test images of that digit.
Then, for the exercise on labels between digits, it asks the trained generator for 1,000
samples with a label row of 0.5 at one digit and 0.5 at another, for each pair of BETWEEN,
and counts what the classifier reads them as. A run takes 2 to 4 minutes on 2 cores when it has them to itself.
"""
import argparse
import concurrent.futures
import multiprocessing
import os
import tempfile

from bookbuild import CHAPTERS, FRAMEWORKS
from gaussian_seeds import assignment, lesson_report

LESSON = CHAPTERS / 'conditional_gan.md'
BETWEEN = [(3, 8), (1, 7), (4, 9)]
# Computed from the lesson's own variables, as its last table computes them. For the
# labels between two digits, `generate` is handed a `one_hot` that returns the mixed rows.
REPORT = f"""
import json
pure_one_hot, between = one_hot, {{}}
for a, b in {BETWEEN}:
    mixed = (pure_one_hot(d2l.tensor([a] * 1000, 'int64'))
             + pure_one_hot(d2l.tensor([b] * 1000, 'int64'))) / 2
    one_hot = lambda y: mixed
    images = generate(net_G, d2l.normal(0.0, 1.0, (1000, latent_dim)), [a] * 1000)
    read = classifier.predict(images.reshape(-1, 784))[1].argmax(1)
    between[f'{{a}}{{b}}'] = numpy.bincount(read, minlength=10).tolist()
one_hot = pure_one_hot
print(json.dumps({{
    'agreement': [float((read_as[digits == k] == k).mean()) for k in range(10)],
    'overall': float((read_as == digits).mean()),
    'frechet': [metrics.frechet_distance(features[digits == k],
                                         test_features[test_labels == k]) for k in range(10)],
    'frechet_all': metrics.frechet_distance(features, test_features),
    'between': between}}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--set', type=assignment, action='append', default=[],
                        metavar='NAME=VALUE', help="override one of the lesson's parameters")
    parser.add_argument('--frameworks', nargs='+', choices=FRAMEWORKS, default=list(FRAMEWORKS))
    parser.add_argument('--jobs', type=int, default=os.cpu_count())
    args = parser.parse_args()
    overrides = dict(args.set)
    context = multiprocessing.get_context('spawn')
    with tempfile.TemporaryDirectory() as workdir, \
            concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
        futures = {(fw, seed): pool.submit(lesson_report, LESSON, fw,
                                           {**overrides, 'seed': seed}, workdir, REPORT)
                   for fw in args.frameworks for seed in args.seeds}
        results = {job: future.result() for job, future in futures.items()}
    print('Conditional GAN lesson, seeds', *args.seeds,
          *(f'{k}={v}' for k, v in overrides.items()))
    print('| framework | seed | agreement | lowest digit | Fréchet, all | Fréchet per digit |')
    print('|---|---|---|---|---|---|')
    for framework in args.frameworks:
        for seed in args.seeds:
            r = results[framework, seed]
            low = min(range(10), key=lambda k: r['agreement'][k])
            print(f'| {framework} | {seed} | {r["overall"]:.3f} '
                  f'| {low}: {r["agreement"][low]:.3f} | {r["frechet_all"]:.1f} '
                  f'| {min(r["frechet"]):.1f}–{max(r["frechet"]):.1f} |')
    every = [results[job] for job in results]
    print(f'agreement over all {len(every)} runs: '
          f'{min(r["overall"] for r in every):.3f}–{max(r["overall"] for r in every):.3f}; '
          f'lowest for one digit: {min(min(r["agreement"]) for r in every):.3f}')
    print('Labels half one digit, half another: what the classifier reads in 1,000 samples')
    print('| framework | seed | ' + ' | '.join(f'{a} and {b}' for a, b in BETWEEN) + ' |')
    print('|---|---|' + '---|' * len(BETWEEN))
    for framework in args.frameworks:
        for seed in args.seeds:
            counts = results[framework, seed]['between']
            print(f'| {framework} | {seed} | ' + ' | '.join(
                read_as_text(counts[f'{a}{b}']) for a, b in BETWEEN) + ' |')


def read_as_text(counts):
    """The digits read most often, with their counts: '3: 612, 8: 301, 5: 40'."""
    top = sorted(range(10), key=lambda k: -counts[k])[:3]
    return ', '.join(f'{k}: {counts[k]}' for k in top if counts[k])


if __name__ == '__main__':
    main()
