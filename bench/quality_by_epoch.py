"""How sample quality grows with training length: what shortening a lesson would cost.

    .venv/bin/python bench/quality_by_epoch.py --lesson mnist_gan --epochs 15 \
        --measure 4 6 8 10 15 [--seeds 0 1] [--frameworks pytorch mxnet]

Trains the lesson's own code (its networks, steps, optimizers, loader and noise, up to its
`train(` cell) under the numerics profile, one epoch after another, and after each epoch in
`--measure` draws 10,000 samples with the lesson's `generate` and measures them with the
evaluation chapter's metrics (`d2lshim.metrics.evaluate`): classifier Fréchet distance,
classes covered and, with `--parzen`, the Parzen log-likelihood. The loop is the lesson's
`train` without its figures; drawing the samples takes random numbers the lesson's training
would have used, so from the first measured epoch on a run is not the page's. Runs go one
at a time (each kernel uses both cores). Measured for the MLP GAN (PyTorch, seed 0, 15
epochs): Fréchet 432, 346, 230, 186, 118, 93, 89, 71 after epochs 3, 4, 5, 6, 8, 10, 12, 15.
"""
import argparse
import tempfile
from pathlib import Path

LESSONS = {'mnist_gan', 'dcgan'}

# Runs in the lesson's kernel after its cells up to `train(`.
TRAIN_AND_SAVE = """
import numpy
for epoch in range(1, {epochs} + 1):
    for X, _ in train_iter:
        Z = d2l.normal(0.0, 1.0, (X.shape[0], latent_dim))
        if 'train_step' in globals():
            train_step(as_images(X), Z, net_D, net_G, loss, trainer_D, trainer_G)
        else:
            update_D(X, Z, net_D, net_G, loss, trainer_D)
            update_G(Z, net_D, net_G, loss, trainer_G)
    if epoch in {measure}:
        samples = generate(net_G, d2l.normal(0.0, 1.0, (10000, latent_dim)))
        numpy.save(f'samples_{{epoch}}.npy', numpy.asarray(samples, dtype=numpy.float32))
"""


def main():
    from bookbuild import CHAPTERS, FRAMEWORKS
    from bookbuild.execute import checked_env, run_in_lesson
    import numpy
    from d2lshim import metrics

    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--lesson', choices=sorted(LESSONS), required=True)
    parser.add_argument('--epochs', type=int, required=True)
    parser.add_argument('--measure', type=int, nargs='+', required=True)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--frameworks', nargs='+', choices=FRAMEWORKS, default=list(FRAMEWORKS))
    parser.add_argument('--parzen', action='store_true',
                        help='also the Parzen log-likelihood (about a minute per measurement)')
    args = parser.parse_args()
    print(f'{args.lesson}: metrics of 10,000 samples after each epoch in {args.measure}')
    print(f'{"framework":11s} {"seed":>4s} {"epoch":>5s} {"Parzen":>7s} {"Fréchet":>8s} '
          f'{"classes":>7s}', flush=True)
    for framework in args.frameworks:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as folder:
                code = TRAIN_AND_SAVE.format(epochs=args.epochs, measure=set(args.measure))
                run_in_lesson(CHAPTERS / f'{args.lesson}.md', framework, code, Path(folder),
                              parameters={'seed': seed, 'num_epochs': args.epochs,
                                          'out_dir': folder},
                              settings={**checked_env(framework), 'D2LSHIM_ARTIFACTS': folder})
                for epoch in sorted(args.measure):
                    result = metrics.evaluate(numpy.load(Path(folder) / f'samples_{epoch}.npy'),
                                              parzen_protocol=args.parzen)
                    parzen = f'{result["parzen"]["mean"]:7.0f}' if args.parzen else '      -'
                    print(f'{FRAMEWORKS[framework].label:11s} {seed:4d} {epoch:5d} {parzen} '
                          f'{result["frechet"]:8.2f} {result["covered"]:7d}', flush=True)


if __name__ == '__main__':
    main()
