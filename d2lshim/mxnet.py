"""MXNet backend: `from d2lshim import mxnet as d2l`.

MXNet 1.9.1 (its last release) still uses `numpy.bool`, an alias NumPy removed in 1.24.
Restoring that one alias before the import is the only workaround it needs; this module
is the one place that does it, so lessons import MXNet after `d2lshim.mxnet`.
"""
import random

import numpy as _np

# Checked in the module dict: NumPy 1.26 warns on any attribute lookup of the old name.
if 'bool' not in vars(_np):
    _np.bool = bool

import mxnet as mx  # noqa: E402
from mxnet import np, npx  # noqa: E402

from d2lshim import common, data, frameworks  # noqa: E402
from d2lshim.common import (  # noqa: E402
    Accumulator, Animator, BatchLoader, Timer, check_parameters, image_grid, plt, set_figsize,
    show_images)

# Every lesson uses MXNet's NumPy interface (mxnet.np arrays, NumPy-style Gluon blocks).
npx.set_np()

__all__ = ['Accumulator', 'Animator', 'Timer', 'plt', 'set_figsize', 'image_grid',
           'show_images', 'artifact_dir', 'check_parameters', 'start_run', 'FRAMEWORK',
           'set_seed', 'tensor', 'normal', 'uniform', 'matmul',
           'transpose', 'numpy', 'load_array', 'load_data_mnist']
FRAMEWORK = frameworks.of_backend(__name__).tag


def set_seed(seed):
    """Seed Python, NumPy and MXNet."""
    random.seed(seed)
    _np.random.seed(seed)
    mx.random.seed(seed)


def tensor(data, dtype='float32'):
    return np.array(data, dtype=dtype)


def normal(mean, std, shape):
    """Samples from N(mean, std²) of the given shape, from MXNet's global generator."""
    return np.random.normal(mean, std, size=common.check_normal(mean, std, shape))


def uniform(low, high, shape):
    """Samples from U[low, high) of the given shape, from MXNet's global generator."""
    return np.random.uniform(low, high, size=common.check_uniform(low, high, shape))


def matmul(a, b):
    return np.matmul(a, b)


def transpose(x):
    return x.T


def numpy(x):
    return x.asnumpy()


def _epoch_order(n, shuffle):
    order = np.arange(n, dtype='int64')
    if shuffle:
        np.random.shuffle(order)
    return order


def load_array(arrays, batch_size, is_train=True):
    """Minibatches of `arrays` as tuples; see `d2lshim.common.BatchLoader`."""
    arrays = tuple(np.array(a, dtype=a.dtype) for a in common.example_arrays(arrays, numpy))
    # np.take, not a[rows]: MXNet's fancy indexing costs about 0.2 ms per batch, take 0.01.
    return BatchLoader(arrays, batch_size, is_train, epoch_order=_epoch_order,
                       take=lambda a, rows: np.take(a, rows, axis=0))


def load_data_mnist(batch_size, train=True, num_examples=None):
    """MNIST minibatches (images, labels); see `d2lshim.data.mnist_arrays`."""
    return load_array(data.mnist_arrays(train, num_examples), batch_size, is_train=train)


def artifact_dir(lesson):
    return common.artifact_dir(lesson, FRAMEWORK)


def start_run(lesson, out_dir, **parameters):
    """A run of `lesson` in this framework, writing to `out_dir` (see common.Run)."""
    return common.Run(lesson, FRAMEWORK, out_dir, parameters)
