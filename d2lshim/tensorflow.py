"""TensorFlow backend: `from d2lshim import tensorflow as d2l`."""
import itertools
import os
import random
import re
import sys
import tempfile

from d2lshim import common, data, frameworks
from d2lshim.common import (Accumulator, Animator, BatchLoader, Timer, check_parameters,
                             image_grid, plt, set_figsize, show_images)

# oneDNN's kernels for products and convolutions, TensorFlow's default on x86, set here in
# case a shell turned them off: the book's numbers repeat on any CPU with them. Eigen's
# kernels, used without them, split their sums by the size of the CPU's L1 cache: a 48 KB
# Sapphire Rapids and a 32 KB Haswell (emulated) differed in convolutions and in
# 8x1024 by 1024x512 products. oneDNN's, on AVX2 (the numerics profile's
# ONEDNN_MAX_CPU_ISA), agreed on both and on an emulated AMD EPYC-Rome.
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # CPU-feature notices
# Logged at import, before TF_CPP_MIN_LOG_LEVEL applies: the notice that oneDNN is on.
_IMPORT_NOTICES = re.compile(r'WARNING: All log messages before absl::InitializeLog\(\) is '
                             r'called are written to STDERR|I0000 .*oneDNN custom operations are on')


def _import_without_notices():
    """Import TensorFlow and Keras with the oneDNN notice kept off stderr (file descriptor 2,
    where C++ writes); anything else they write there is passed on."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras
            import tensorflow
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors='replace').splitlines(keepends=True)
            sys.stderr.write(''.join(line for line in lines if not _IMPORT_NOTICES.search(line)))
    return keras, tensorflow


keras, tf = _import_without_notices()
# Grappler's remapper, which fuses a convolution with its bias and activation into one oneDNN
# kernel, fails on the gradient of a convolution followed by a leaky ReLU and logs an error
# (the DCGAN's discriminator); without it each operation keeps its own kernel.
tf.config.optimizer.set_experimental_options({'remapping': False})

__all__ = ['Accumulator', 'Animator', 'Timer', 'plt', 'set_figsize', 'image_grid',
           'show_images', 'artifact_dir', 'check_parameters', 'start_run', 'FRAMEWORK',
           'set_seed', 'tensor', 'normal', 'uniform', 'matmul',
           'transpose', 'numpy', 'load_array', 'load_data_mnist']
FRAMEWORK = frameworks.of_backend(__name__).tag


# `normal` and `uniform` draw with stateless ops keyed by (seed, call number). Seeded stateful ops such as
# tf.random.normal build a new kernel for every eager call (about 0.45 ms for an 8 x 2
# batch, more than a whole training step of the Gaussian lesson); stateless ones reuse it.
_draw_keys = ((random.randrange(2**31), n) for n in itertools.count())


def set_seed(seed):
    """Seed Python, NumPy, TensorFlow, Keras, `normal` and `uniform`; make TensorFlow's ops
    deterministic."""
    global _draw_keys
    # tf.random.set_seed alone does not make Keras 3 initial weights repeat.
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    _draw_keys = ((seed, n) for n in itertools.count())


def tensor(data, dtype='float32'):
    return tf.constant(data, dtype=dtype)


def normal(mean, std, shape):
    """Samples from N(mean, std²) of the given shape, a new draw at every call."""
    shape = common.check_normal(mean, std, shape)
    key = tf.constant(next(_draw_keys), dtype=tf.int64)
    return tf.random.stateless_normal(shape, seed=key, mean=mean, stddev=std)


def uniform(low, high, shape):
    """Samples from U[low, high) of the given shape, a new draw at every call."""
    shape = common.check_uniform(low, high, shape)
    key = tf.constant(next(_draw_keys), dtype=tf.int64)
    return tf.random.stateless_uniform(shape, seed=key, minval=low, maxval=high)


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


def start_run(lesson, out_dir, **parameters):
    """A run of `lesson` in this framework, writing to `out_dir` (see common.Run)."""
    return common.Run(lesson, FRAMEWORK, out_dir, parameters)
