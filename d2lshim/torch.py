"""PyTorch backend: `from d2lshim import torch as d2l`."""
import random

import numpy as _np
import torch

from d2lshim import common, data, frameworks
from d2lshim.common import (Accumulator, Animator, BatchLoader, Timer, check_parameters,
                             image_grid, plt, set_figsize, show_images)

__all__ = ['Accumulator', 'Animator', 'Timer', 'plt', 'set_figsize', 'image_grid',
           'show_images', 'artifact_dir', 'check_parameters', 'start_run', 'FRAMEWORK',
           'set_seed', 'tensor', 'normal', 'uniform', 'matmul',
           'transpose', 'numpy', 'load_array', 'load_data_mnist']
FRAMEWORK = frameworks.of_backend(__name__).tag


def set_seed(seed):
    """Seed Python, NumPy and PyTorch, and ask PyTorch for deterministic kernels."""
    random.seed(seed)
    _np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def tensor(data, dtype='float32'):
    return torch.tensor(data, dtype=getattr(torch, dtype))


def normal(mean, std, shape):
    """Samples from N(mean, std²) of the given shape, from PyTorch's global generator."""
    return torch.normal(mean, std, size=common.check_normal(mean, std, shape))


def uniform(low, high, shape):
    """Samples from U[low, high) of the given shape, from PyTorch's global generator."""
    shape = common.check_uniform(low, high, shape)
    return low + (high - low) * torch.rand(shape)


def matmul(a, b):
    return torch.matmul(a, b)


def transpose(x):
    return x.T


def numpy(x):
    return x.detach().cpu().numpy()


def _epoch_order(n, shuffle):
    return torch.randperm(n) if shuffle else torch.arange(n)


def load_array(arrays, batch_size, is_train=True):
    """Minibatches of `arrays` as tuples; see `d2lshim.common.BatchLoader`."""
    arrays = tuple(torch.from_numpy(a) for a in common.example_arrays(arrays, numpy))
    return BatchLoader(arrays, batch_size, is_train,
                       epoch_order=_epoch_order, take=lambda a, rows: a[rows])


def load_data_mnist(batch_size, train=True, num_examples=None):
    """MNIST minibatches (images, labels); see `d2lshim.data.mnist_arrays`."""
    return load_array(data.mnist_arrays(train, num_examples), batch_size, is_train=train)


def artifact_dir(lesson):
    return common.artifact_dir(lesson, FRAMEWORK)


def start_run(lesson, out_dir, **parameters):
    """A run of `lesson` in this framework, writing to `out_dir` (see common.Run)."""
    return common.Run(lesson, FRAMEWORK, out_dir, parameters)
