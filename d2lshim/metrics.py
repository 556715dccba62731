"""Sample-quality metrics for MNIST generators, framework-free (NumPy only).

    python -m d2lshim.metrics SAMPLES.npy

Parzen-window log-likelihood follows Goodfellow et al. (2014): a Gaussian kernel of width
sigma on every generated sample, sigma chosen from logspace(-1, 0, 10) by the mean
log-likelihood of 1,000 validation images (train[50000:51000]), reported as the mean
log-likelihood of the 10,000 test images with its standard error. Pixels are in [0, 1].
"""
import argparse
import functools
import json
import math
import sys
from pathlib import Path

import numpy as np

from d2lshim import classifier
from d2lshim.common import RUN_RECORD
from d2lshim.data import DataError, load_mnist

SIGMAS = np.logspace(-1, 0, 10)
# Rounding slack at the ends of a pixel range: [0, 1] images computed in float32 may reach
# -1e-7, which must not make them look like a tanh generator's [-1, 1] images.
RANGE_SLACK = 1e-3
PROTOCOL_SAMPLES = 10000
BATCH = 1000  # rows of the distance matrix computed at once: 1000 x 10000 float32 = 40 MB


def as_unit_images(samples, name='samples'):
    """`samples` as float32 (n, 784) in [0, 1]; accepts (n, 28, 28) or (n, 784), pixels in
    [0, 1] or [-1, 1] (a tanh generator's range, recognised by values below -RANGE_SLACK)."""
    array = np.asarray(samples)
    if array.ndim == 3 and array.shape[1:] == (28, 28):
        array = array.reshape(len(array), 784)
    if array.ndim != 2 or array.shape[1] != 784:
        raise ValueError(f'{name} must have shape (n, 28, 28) or (n, 784); got {array.shape}')
    if len(array) == 0:
        raise ValueError(f'{name} hold no images (shape {array.shape})')
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ValueError(f'{name} must be real numbers; got dtype {array.dtype}')
    if not np.isfinite(array).all():
        raise ValueError(f'{name} contain NaN or infinite values')
    # The range is checked in the samples' own dtype: huge float64 values would overflow
    # float32 and pass for infinite ones.
    low, high = float(array.min()), float(array.max())
    if low >= -RANGE_SLACK and high <= 1 + RANGE_SLACK:
        return np.clip(array.astype(np.float32), 0, 1)
    if low >= -1 - RANGE_SLACK and high <= 1 + RANGE_SLACK:
        return np.clip((array.astype(np.float32) + 1) / 2, 0, 1)
    raise ValueError(f'{name} must have pixels in [0, 1] or [-1, 1]; got [{low:g}, {high:g}] '
                     '(divide 0..255 images by 255)')


def run_record(folder):
    """What the lesson run that wrote its files to `folder` recorded about itself
    (`run.json`: lesson, framework, parameters), or None if no finished run did."""
    path = Path(folder) / RUN_RECORD
    try:
        return json.loads(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        return None
    except (ValueError, OSError) as error:
        raise ValueError(f'{path} is not a readable run record ({error}); run the lesson '
                         'that writes this folder again') from None


def check_run(path, lesson, framework=None):
    """Fail unless the samples at `path` come from a finished run of `lesson` (in
    `framework`), as the run record beside them says."""
    wanted = f'the {lesson} lesson' + (f' in {framework}' if framework else '')
    record = run_record(Path(path).parent)
    if record is None:
        raise ValueError(f'{path} has no record of a finished run beside it '
                         f'({RUN_RECORD}): the run that wrote it stopped before the end, or '
                         f'nothing ran there yet. Run {wanted} (to the end) first')
    if record.get('lesson') != lesson or framework and record.get('framework') != framework:
        raise ValueError(f'{path} holds samples of the {record.get("lesson")} lesson in '
                         f'{record.get("framework")}, not of {wanted}: point to the folder '
                         'that lesson writes, or run it')


def load_samples(path, lesson=None, framework=None):
    """Images saved with np.save at `path`, checked and scaled by `as_unit_images`; with
    `lesson`, only from a finished run of that lesson (and `framework`): see `check_run`."""
    if lesson is not None and Path(path).exists():
        check_run(path, lesson, framework)
    try:
        # Memory-mapped first: a header that claims a huge shape costs nothing, and its
        # size can be checked against the file before anything is read.
        mapped = np.load(path, mmap_mode='r', allow_pickle=False)
        archive = isinstance(mapped, np.lib.npyio.NpzFile)
        samples = mapped.close() if archive else np.array(mapped)
    except FileNotFoundError:
        raise FileNotFoundError(f'no samples at {path}: run the generator that writes them '
                                'first (for the book\'s GANs, the lesson that trains it, run '
                                'from the same folder: mnist_gan.ipynb writes artifacts/mnist/, '
                                'dcgan.ipynb artifacts/dcgan/), or pass another .npy file') \
            from None
    except (ValueError, OSError, EOFError) as error:
        raise ValueError(f'{path} is not a readable .npy array, or it is truncated '
                         f'({error or type(error).__name__}); save samples with numpy.save') \
            from None
    if archive:
        raise ValueError(f'{path} is an .npz archive; save the samples as one array with '
                         'numpy.save(path, samples), which writes an .npy file')
    return as_unit_images(samples, str(path))


def mnist_unit_images(train):
    images, _ = load_mnist(train)
    return images.reshape(len(images), 784).astype(np.float32) / 255


def _squared_distances(x, y, y_norms):
    return np.maximum((x * x).sum(1, keepdims=True) + y_norms - 2 * x @ y.T, 0)


def _log_mean_exp(a, axis):
    top = a.max(axis=axis, keepdims=True)
    return (top + np.log(np.mean(np.exp(a - top), axis=axis, keepdims=True))).squeeze(axis)


def parzen_log_likelihoods(samples, data, sigmas):
    """Log-likelihood of each row of `data` under a Gaussian Parzen window on `samples`,
    for each sigma: an array (len(sigmas), len(data)), computed in batches with log-sum-exp."""
    samples = samples.astype(np.float32)
    norms = (samples * samples).sum(1)[None, :]
    d = samples.shape[1]
    sigmas = np.asarray(sigmas, dtype=np.float64)
    result = np.empty((len(sigmas), len(data)))
    for start in range(0, len(data), BATCH):
        dist = _squared_distances(data[start:start + BATCH].astype(np.float32), samples, norms)
        dist = dist.astype(np.float64)
        for i, sigma in enumerate(sigmas):
            result[i, start:start + BATCH] = (_log_mean_exp(-dist / (2 * sigma ** 2), axis=1)
                                              - d / 2 * math.log(2 * math.pi * sigma ** 2))
    return result


def parzen(samples, test=None, validation=None, sigmas=SIGMAS):
    """The paper's protocol: returns dict(mean, sem, sigma, validation) of the test set's
    log-likelihood under a Parzen window on 10,000 samples (pixels in [0, 1])."""
    samples = as_unit_images(samples)
    if len(samples) < PROTOCOL_SAMPLES:
        raise ValueError(f'the Parzen protocol needs {PROTOCOL_SAMPLES:,} samples; got '
                         f'{len(samples):,}')
    samples = samples[:PROTOCOL_SAMPLES]
    if validation is None:
        validation = mnist_unit_images(train=True)[50000:51000]
    if test is None:
        test = mnist_unit_images(train=False)
    on_validation = parzen_log_likelihoods(samples, validation, sigmas).mean(axis=1)
    best = int(np.argmax(on_validation))
    scores = parzen_log_likelihoods(samples, test, [sigmas[best]])[0]
    return {'mean': float(scores.mean()), 'sem': float(scores.std(ddof=1) / math.sqrt(len(scores))),
            'sigma': float(sigmas[best]), 'validation': float(on_validation[best])}


def frechet_distance(features_a, features_b):
    """Fréchet distance between Gaussians fitted to two feature sets (rows are examples)."""
    mu_a, mu_b = features_a.mean(0), features_b.mean(0)
    cov_a = np.cov(features_a, rowvar=False)
    cov_b = np.cov(features_b, rowvar=False)
    # Tr sqrt(cov_a cov_b) = Tr sqrt(S cov_b S) with S = sqrt(cov_a), a symmetric PSD matrix
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    distance = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    return max(float(distance), 0.0)  # a set against itself can round to -1e-12


def classifier_score(probabilities):
    """exp(E_x KL(p(y|x) || p(y))): between 1 and the number of classes."""
    p = np.clip(probabilities, 1e-12, 1)
    marginal = p.mean(0, keepdims=True)
    return float(np.exp((p * (np.log(p) - np.log(marginal))).sum(1).mean()))


def class_coverage(probabilities, min_share=0.01):
    """(histogram of predicted classes, number of classes predicted for at least
    `min_share` of the samples)."""
    histogram = np.bincount(probabilities.argmax(1), minlength=probabilities.shape[1])
    return histogram, int((histogram >= min_share * len(probabilities)).sum())


def nearest_distances(samples, reference):
    """Euclidean distance from each sample to its nearest row of `reference`."""
    reference = reference.astype(np.float32)
    norms = (reference * reference).sum(1)[None, :]
    nearest = np.empty(len(samples), dtype=np.int64)
    for start in range(0, len(samples), BATCH):
        dist = _squared_distances(samples[start:start + BATCH], reference, norms)
        nearest[start:start + BATCH] = dist.argmin(1)
    # the expanded form loses digits to cancellation near 0; measure the winner directly
    return np.linalg.norm(samples.astype(np.float64) - reference[nearest], axis=1)


def evaluate(samples, parzen_protocol=True, neighbours=1000):
    """Every metric for `samples` (any accepted layout): a dict with the Parzen result
    (None when skipped), the Fréchet distance of classifier features to the test set, the
    classifier score, the class histogram, the classes covered, and the mean distance from
    the first `neighbours` samples to their nearest training image."""
    samples = as_unit_images(samples)
    test_features, _ = _test_set_features()
    features, probabilities = classifier.predict(samples)
    histogram, covered = class_coverage(probabilities)
    return {
        'parzen': parzen(samples) if parzen_protocol else None,
        'frechet': frechet_distance(features, test_features),
        'score': classifier_score(probabilities),
        'histogram': histogram, 'covered': covered,
        'nearest_train': float(nearest_distances(samples[:neighbours],
                                                 mnist_unit_images(train=True)).mean()),
    }


@functools.lru_cache(maxsize=1)
def _test_set_features():
    return classifier.predict(mnist_unit_images(train=False))


def report(result):
    """The lines `python -m d2lshim.metrics` prints for one result of `evaluate`."""
    lines = []
    if result['parzen'] is not None:
        p = result['parzen']
        lines.append(f'Parzen log-likelihood (test set): {p["mean"]:.1f} ± {p["sem"]:.1f} '
                     f'(sigma {p["sigma"]:.3f})')
    lines += [f'Fréchet distance to the test set (classifier features): {result["frechet"]:.2f}',
              f'classifier score (at most 10): {result["score"]:.2f}',
              f'classes covered (at least 1 % of samples): {result["covered"]} of 10',
              f'class histogram: {result["histogram"].tolist()}',
              f'mean distance to the nearest training image: {result["nearest_train"]:.2f}']
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m d2lshim.metrics',
                                     description=__doc__.split('\n\n')[0])
    parser.add_argument('samples', help='.npy file: (n, 28, 28) or (n, 784), pixels in '
                                        '[0, 1] or [-1, 1], n >= 10,000')
    args = parser.parse_args(argv)
    try:
        record = run_record(Path(args.samples).parent)
        if record and Path(args.samples).name == 'samples.npy':  # the file a run writes
            print(f'samples of the {record["lesson"]} lesson in {record["framework"]}, '
                  f'settings {record["parameters"]}')
        samples = load_samples(args.samples)
        if len(samples) < PROTOCOL_SAMPLES:
            raise ValueError(f'the Parzen protocol needs {PROTOCOL_SAMPLES:,} samples; got '
                             f'{len(samples):,}')
        result = evaluate(samples)
    except (ValueError, OSError, DataError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    print('\n'.join(report(result)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
