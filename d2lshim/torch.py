"""PyTorch backend: `from d2lshim import torch as d2l`."""
import random

import numpy as _np
import torch

from d2lshim import common, data
from d2lshim.common import (Accumulator, Animator, BatchLoader, Timer, image_grid, plt,
                             set_figsize, show_images)

__all__ = ['Accumulator', 'Animator', 'Timer', 'plt', 'set_figsize', 'image_grid',
           'show_images', 'artifact_dir', 'set_seed', 'tensor', 'normal', 'matmul',
           'transpose', 'numpy', 'load_array', 'load_data_mnist']
FRAMEWORK = 'pytorch'


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
    return torch.normal(mean, std, size=tuple(shape))


def matmul(a, b):
    return torch.matmul(a, b)


def transpose(x):
    return x.T


def numpy(x):
    return x.detach().cpu().numpy()


def load_array(arrays, batch_size, is_train=True):
    """Minibatches of `arrays` as tuples; see `d2lshim.common.BatchLoader`."""
    if isinstance(arrays, (tuple, list)):  # anything else gets BatchLoader's error
        arrays = tuple(torch.as_tensor(a) for a in arrays)
    return BatchLoader(arrays, batch_size, is_train,
                       permutation=torch.randperm, take=lambda a, rows: a[rows])


def load_data_mnist(batch_size, train=True, num_examples=None):
    """MNIST minibatches (images, labels); see `d2lshim.data.mnist_arrays`."""
    pixels, labels = data.mnist_arrays(train, num_examples)
    arrays = (torch.as_tensor(pixels), torch.as_tensor(labels, dtype=torch.int64))
    return load_array(arrays, batch_size, is_train=train)


def artifact_dir(lesson):
    return common.artifact_dir(lesson, FRAMEWORK)
