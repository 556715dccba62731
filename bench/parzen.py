"""Time the Parzen-window protocol of d2lshim.metrics on real MNIST (target: under 30 s).

    .venv/bin/python bench/parzen.py

Scores train[:10000] as if they were generated samples: sigma selection on 1,000
validation images plus the 10,000 x 10,000 test evaluation, as `python -m d2lshim.metrics`
runs it. Data loading is timed separately.
"""
import time

from d2lshim import metrics


def main():
    started = time.perf_counter()
    samples = metrics.mnist_unit_images(train=True)[:10000]
    metrics.mnist_unit_images(train=False)
    loaded = time.perf_counter()
    result = metrics.parzen(samples)
    done = time.perf_counter()
    print(f'data loading      {loaded - started:6.1f} s')
    print(f'Parzen protocol   {done - loaded:6.1f} s  (target < 30 s)  -> '
          f'{result["mean"]:.1f} ± {result["sem"]:.1f}, sigma {result["sigma"]:.3f}')


if __name__ == '__main__':
    main()
