"""One framework's d2lshim backend, in that framework's environment: the API the reference
page documents, clear errors, and the loader semantics every backend shares."""
import inspect
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from d2lshim import common

PAGE = Path(__file__).resolve().parents[2] / 'chapters' / 'd2lshim.md'


def test_backend_offers_what_the_reference_page_documents(d2l):
    """Every backend offers exactly the names chapters/d2lshim.md lists, with the listed
    signatures, so all backends offer the same API; the framework-free ones are the very
    objects of d2lshim.common."""
    page = PAGE.read_text(encoding='utf-8')
    table = page[:page.index('## Measuring samples')]
    listed = dict(re.findall(r'^\| `(\w+)(\([^`]*\))?` \|', table, flags=re.M))
    assert set(d2l.__all__) == set(listed), set(d2l.__all__) ^ set(listed)
    for name in d2l.__all__:
        assert name in vars(d2l), name
        obj = getattr(d2l, name)
        if callable(obj):
            assert f'{inspect.signature(obj)}' == listed[name], (name, listed[name])
        else:  # plt, FRAMEWORK
            assert listed[name] == '', name
        if inspect.isclass(obj) or name == 'plt':
            assert obj is getattr(common, name), name  # written once, in d2lshim.common


def test_importing_the_backend_writes_nothing_to_stderr(framework):
    """A lesson's first cell imports its backend, and a cell that writes to stderr fails the
    build: the framework's start-up notices (TensorFlow's about oneDNN, written from C++
    before its log level applies) must stay off it."""
    done = subprocess.run([sys.executable, '-c', f'from d2lshim import {framework.backend}'],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == '', done.stderr[-3000:]


def test_load_array_yields_tuples_of_every_array(d2l):
    features = d2l.tensor(np.arange(20).reshape(10, 2))
    labels = d2l.tensor(np.arange(10))
    batches = list(d2l.load_array((features, labels), 4, is_train=False))
    assert len(d2l.load_array((features,), 4)) == 3
    assert [type(b) for b in batches] == [tuple] * 3
    assert [len(b) for b in batches] == [2, 2, 2]
    assert [int(b[0].shape[0]) for b in batches] == [4, 4, 2]  # last batch kept
    np.testing.assert_array_equal(np.concatenate([d2l.numpy(b[1]) for b in batches]),
                                  np.arange(10))
    (only,) = next(iter(d2l.load_array((features,), 10)))
    assert tuple(only.shape) == (10, 2)


def test_training_order_is_a_fresh_seeded_shuffle_every_epoch(d2l):
    labels = d2l.tensor(np.arange(100))
    d2l.set_seed(3)
    loader = d2l.load_array((labels, labels), 7)
    epochs = [np.concatenate([d2l.numpy(b[0]) for b in loader]) for _ in range(2)]
    for order in epochs:
        np.testing.assert_array_equal(np.sort(order), np.arange(100))  # each example once
    assert not np.array_equal(epochs[0], np.arange(100))
    assert not np.array_equal(epochs[0], epochs[1])
    for batch in loader:  # arrays stay aligned row by row
        np.testing.assert_array_equal(d2l.numpy(batch[0]), d2l.numpy(batch[1]))
    d2l.set_seed(3)
    again = np.concatenate([d2l.numpy(b[0]) for b in d2l.load_array((labels, labels), 7)])
    np.testing.assert_array_equal(again, epochs[0])


@pytest.mark.parametrize('arrays, batch_size, message', [
    ('lengths', 2, r'same length.*\[10, 9\]'),
    ('ok', 0, 'batch_size must be an integer of at least 1, got 0'),
    ('ok', 2.5, 'batch_size must be an integer of at least 1, got 2.5'),
    ('ok', True, 'batch_size must be an integer of at least 1, got True'),
    ('bare', 2, 'expects a tuple of arrays'),
    ('numbers', 2, r'expects a tuple of arrays.*got list \[1, 2, 3\]'),
    ('scalar', 2, 'array 0 is a single number; every array needs one row per example'),
    ('strings', 2, 'array 0 has dtype <U1; use numbers'),
])
def test_load_array_rejects_bad_input(d2l, arrays, batch_size, message):
    x = d2l.tensor(np.zeros((10, 2)))
    given = {'lengths': (x, d2l.tensor(np.zeros(9))), 'ok': (x,), 'bare': x,
             'numbers': [1, 2, 3], 'scalar': (np.array(3.0),), 'strings': (list('ab'),)}[arrays]
    with pytest.raises(ValueError, match=message):
        d2l.load_array(given, batch_size)


def test_load_array_takes_numpy_integers_as_batch_size(d2l):
    assert len(d2l.load_array((np.zeros((10, 2)),), np.int64(4))) == 3


def overwrite(batch):
    try:
        batch[:] = 7
    except TypeError:  # TensorFlow's tensors are immutable
        pass


def test_batches_are_copies_never_the_callers_data(d2l):
    from d2lshim import data
    callers = np.arange(20, dtype=np.float32).reshape(10, 2)
    for is_train in (True, False):
        for (batch,) in d2l.load_array((callers,), 4, is_train=is_train):
            overwrite(batch)
    np.testing.assert_array_equal(callers, np.arange(20).reshape(10, 2))
    cached = data.load_mnist(train=False)[0][:8].copy()
    for images, labels in d2l.load_data_mnist(8, train=False, num_examples=8):
        overwrite(images)
        overwrite(labels)
    np.testing.assert_array_equal(data.load_mnist(train=False)[0][:8], cached)


def test_load_array_gives_the_same_dtypes_in_every_backend(d2l):
    arrays = ([[0.5, 1.0], [2.0, 3.0]], [1, 2], [True, False], np.zeros(2, np.float64),
              np.zeros(2, np.int32))
    batch = next(iter(d2l.load_array(arrays, 2, is_train=False)))
    assert [str(d2l.numpy(b).dtype) for b in batch] == \
        ['float32', 'int64', 'bool', 'float32', 'int64']


@pytest.mark.parametrize('args, message', [
    ((0.0, -1.0, (2,)), 'normal: std must be at least 0, got -1.0'),
    ((0.0, float('nan'), (2,)), 'normal: std must be a finite number, got nan'),
    ((float('inf'), 1.0, (2,)), 'normal: mean must be a finite number, got inf'),
    ((0.0, 1.0, 'ab'), r'normal: shape must be a tuple of whole numbers such as \(8, 2\)'),
    ((0.0, 1.0, (2, -1)), r'normal: shape must be a tuple of whole numbers'),
])
def test_normal_rejects_bad_arguments_the_same_way(d2l, args, message):
    with pytest.raises(ValueError, match=message):
        d2l.normal(*args)


@pytest.mark.parametrize('args, message', [
    ((1.0, 1.0, (2,)), 'uniform: low must be below high, got low=1.0, high=1.0'),
    ((0.0, float('inf'), (2,)), 'uniform: high must be a finite number, got inf'),
    ((True, 1.0, (2,)), 'uniform: low must be a finite number, got True'),
    ((0.0, 1.0, (2, -1)), r'uniform: shape must be a tuple of whole numbers such as \(8, 2\)'),
])
def test_uniform_rejects_bad_arguments_the_same_way(d2l, args, message):
    with pytest.raises(ValueError, match=message):
        d2l.uniform(*args)


def test_uniform_draws_within_its_bounds_and_repeats_with_the_seed(d2l):
    d2l.set_seed(7)
    first = d2l.numpy(d2l.uniform(-1.0, 3.0, (2000, 1)))
    second = d2l.numpy(d2l.uniform(-1.0, 3.0, (2000, 1)))
    assert first.dtype == np.float32 and first.shape == (2000, 1)
    assert first.min() >= -1.0 and first.max() < 3.0
    assert abs(first.mean() - 1.0) < 0.15 and abs(first.std() - 4 / 12 ** 0.5) < 0.1
    assert not np.array_equal(first, second)  # every call is a new draw
    d2l.set_seed(7)
    np.testing.assert_array_equal(d2l.numpy(d2l.uniform(-1.0, 3.0, (2000, 1))), first)


def test_normal_takes_an_int_as_a_one_dimensional_shape(d2l):
    assert d2l.numpy(d2l.normal(0.0, 1.0, 3)).shape == (3,)


def test_set_seed_makes_normal_repeat(d2l):
    d2l.set_seed(7)
    first = d2l.numpy(d2l.normal(1.0, 2.0, (500,)))
    second = d2l.numpy(d2l.normal(1.0, 2.0, (500,)))
    d2l.set_seed(7)
    np.testing.assert_array_equal(d2l.numpy(d2l.normal(1.0, 2.0, (500,))), first)
    np.testing.assert_array_equal(d2l.numpy(d2l.normal(1.0, 2.0, (500,))), second)
    assert first.shape == (500,) and abs(first.mean() - 1.0) < 0.3 and abs(first.std() - 2.0) < 0.3
    assert not np.array_equal(first, second)  # every call is a new draw
    d2l.set_seed(8)
    assert not np.array_equal(d2l.numpy(d2l.normal(1.0, 2.0, (500,))), first)


def test_tensor_matmul_transpose_numpy(d2l):
    a = d2l.tensor([[1, 2], [-0.1, 0.5]])
    assert d2l.numpy(a).dtype == np.float32
    np.testing.assert_allclose(d2l.numpy(d2l.matmul(d2l.transpose(a), a)),
                               [[1.01, 1.95], [1.95, 4.25]], rtol=1e-6)


def test_mnist_batches_have_one_structure_in_every_backend(d2l):
    loader = d2l.load_data_mnist(1000, train=False)
    assert len(loader) == 10
    images, labels = next(iter(loader))  # unshuffled: the test set in file order
    assert tuple(images.shape) == (1000, 784) and tuple(labels.shape) == (1000,)
    pixels = d2l.numpy(images)
    assert pixels.dtype == np.float32 and pixels.min() == -1.0 and pixels.max() == 1.0
    assert d2l.numpy(labels)[:5].tolist() == [7, 2, 1, 0, 4]


def test_mnist_subset_is_the_first_images_with_one_error_for_bad_sizes(d2l):
    loader = d2l.load_data_mnist(100, train=False, num_examples=250)
    assert len(loader) == 3
    labels = np.concatenate([d2l.numpy(y) for _, y in loader])
    assert labels[:5].tolist() == [7, 2, 1, 0, 4] and len(labels) == 250
    for bad in (0, 10001, 2.5, True, '100'):
        with pytest.raises(ValueError, match=rf'num_examples must be an integer from 1 to '
                                             rf'10000 \(or None for all\), got {bad!r}'):
            d2l.load_data_mnist(100, train=False, num_examples=bad)


def test_artifact_dir_is_per_lesson_and_framework(d2l, framework, monkeypatch, tmp_path):
    monkeypatch.setenv(common.ARTIFACTS_ENV, str(tmp_path))
    assert d2l.artifact_dir('mnist') == tmp_path / 'mnist' / framework.tag
    monkeypatch.delenv(common.ARTIFACTS_ENV)
    assert str(d2l.artifact_dir('mnist')) == f'artifacts/mnist/{framework.tag}'

