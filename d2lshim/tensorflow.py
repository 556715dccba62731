"""TensorFlow backend: `from d2lshim import tensorflow as d2l`."""
import os

# TensorFlow logs CPU-feature and oneDNN notices to stderr at import; they are not for
# readers. Disabling oneDNN's rewrites also keeps results identical from run to run.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '0')

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from d2lshim import common, data
from d2lshim.common import (Accumulator, Animator, BatchLoader, Timer, image_grid, plt,
                             set_figsize, show_images)  # noqa: E402

__all__ = ['Accumulator', 'Animator', 'Timer', 'plt', 'set_figsize', 'image_grid',
           'show_images', 'artifact_dir', 'set_seed', 'tensor', 'normal', 'matmul',
           'transpose', 'numpy', 'load_array', 'load_data_mnist']
FRAMEWORK = 'tensorflow'


def set_seed(seed):
    """Seed Python, NumPy, TensorFlow and Keras, and make TensorFlow's ops deterministic."""
    # tf.random.set_seed alone does not make Keras 3 initial weights repeat.
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def tensor(data, dtype='float32'):
    return tf.constant(data, dtype=dtype)


def normal(mean, std, shape):
    """Samples from N(mean, std²) of the given shape, from TensorFlow's global generator."""
    return tf.random.normal(tuple(shape), mean, std)


def matmul(a, b):
    return tf.matmul(a, b)


def transpose(x):
    return tf.transpose(x)


def numpy(x):
    return x.numpy() if hasattr(x, 'numpy') else tf.convert_to_tensor(x).numpy()


def _permutation(n):
    return tf.random.shuffle(tf.range(n))


def load_array(arrays, batch_size, is_train=True):
    """Minibatches of `arrays` as tuples; see `d2lshim.common.BatchLoader`."""
    arrays = tuple(tf.convert_to_tensor(a) for a in arrays) if isinstance(arrays, (tuple, list)) else arrays
    return BatchLoader(arrays, batch_size, is_train,
                       permutation=_permutation, take=tf.gather)


def load_data_mnist(batch_size, train=True):
    """MNIST minibatches (images, labels); see `d2lshim.data.mnist_arrays`."""
    pixels, labels = data.mnist_arrays(train)
    return load_array((tf.constant(pixels), tf.constant(labels, dtype=tf.int64)), batch_size, is_train=train)


def artifact_dir(lesson):
    return common.artifact_dir(lesson, FRAMEWORK)
