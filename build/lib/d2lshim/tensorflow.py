"""TensorFlow backend: `from d2lshim import tensorflow as d2l`."""
import itertools
import os
import random

# TensorFlow logs CPU-feature and oneDNN notices to stderr at import; they are not for
# readers. Disabling oneDNN's rewrites also keeps results identical from run to run.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '0')

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from d2lshim import common, data, frameworks  # noqa: E402
from d2lshim.common import (  # noqa: E402
    Accumulator, Animator, BatchLoader, Timer, image_grid, plt, set_figsize, show_images)

__all__ = ['Accumulator', 'Animator', 'Timer', 'plt', 'set_figsize', 'image_grid',
           'show_images', 'artifact_dir', 'set_seed', 'tensor', 'normal', 'matmul',
           'transpose', 'numpy', 'load_array', 'load_data_mnist']
FRAMEWORK = frameworks.of_backend(__name__).tag


# `normal` draws with stateless ops keyed by (seed, call number). Seeded stateful ops such as
# tf.random.normal build a new kernel for every eager call (about 0.45 ms for an 8 x 2
# batch, more than a whole training step of the Gaussian lesson); stateless ones reuse it.
_normal_keys = ((random.randrange(2**31), n) for n in itertools.count())


def set_seed(seed):
    """Seed Python, NumPy, TensorFlow, Keras and `normal`; make TensorFlow's ops deterministic."""
    global _normal_keys
    # tf.random.set_seed alone does not make Keras 3 initial weights repeat.
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    _normal_keys = ((seed, n) for n in itertools.count())


def tensor(data, dtype='float32'):
    return tf.constant(data, dtype=dtype)


def normal(mean, std, shape):
    """Samples from N(mean, std²) of the given shape, a new draw at every call."""
    shape = common.check_normal(mean, std, shape)
    key = tf.constant(next(_normal_keys), dtype=tf.int64)
    return tf.random.stateless_normal(shape, seed=key, mean=mean, stddev=std)


def matmul(a, b):
    return tf.matmul(a, b)


def transpose(x):
    return tf.transpose(x)


def numpy(x):
    return x.numpy() if hasattr(x, 'numpy') else tf.convert_to_tensor(x).numpy()


def _epoch_order(n, shuffle):
    return tf.random.shuffle(tf.range(n)) if shuffle else tf.range(n)


def load_array(arrays, batch_size, is_train=True):
    """Minibatches of `arrays` as tuples; see `d2lshim.common.BatchLoader`."""
    arrays = tuple(tf.constant(a) for a in common.example_arrays(arrays, numpy))
    return BatchLoader(arrays, batch_size, is_train,
                       epoch_order=_epoch_order, take=tf.gather)


def load_data_mnist(batch_size, train=True, num_examples=None):
    """MNIST minibatches (images, labels); see `d2lshim.data.mnist_arrays`."""
    return load_array(data.mnist_arrays(train, num_examples), batch_size, is_train=train)


def artifact_dir(lesson):
    return common.artifact_dir(lesson, FRAMEWORK)
