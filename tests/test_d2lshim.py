"""d2lshim: one API in every backend, clear errors, and the same loader semantics."""
import inspect
import re
import time
import warnings

import numpy as np
import pytest

import d2lshim
from d2lshim import common

BACKENDS = d2lshim.BACKENDS


@pytest.fixture(scope='module', params=BACKENDS)
def d2l(request):
    return d2lshim.load_backend(request.param)


def test_backends_expose_the_same_names_and_signatures():
    modules = {name: d2lshim.load_backend(name) for name in BACKENDS}
    reference = modules['torch']
    required = {'Timer', 'Accumulator', 'Animator', 'load_array', 'normal', 'tensor',
                'matmul', 'numpy', 'set_figsize', 'plt', 'set_seed', 'load_data_mnist',
                'show_images', 'image_grid', 'artifact_dir'}
    assert required <= set(reference.__all__)
    for name, module in modules.items():
        assert module.__all__ == reference.__all__, name
        for attr in reference.__all__:
            assert attr in vars(module), (name, attr)
            mine, theirs = getattr(module, attr), getattr(reference, attr)
            if inspect.isclass(theirs) or attr == 'plt':
                assert mine is theirs, (name, attr)  # written once, in d2lshim.common
            else:
                assert inspect.signature(mine) == inspect.signature(theirs), (name, attr)


def test_reference_page_lists_every_public_name_with_its_signature():
    """chapters/d2lshim.md cannot fall behind the code: every name a backend exports, and
    every metrics/classifier function the page lists, appears with its current signature."""
    from bookbuild import CHAPTERS
    from d2lshim import classifier, metrics

    page = (CHAPTERS / 'd2lshim.md').read_text(encoding='utf-8')
    backend = d2lshim.load_backend('torch')
    for name in backend.__all__:
        obj = getattr(backend, name)
        entry = f'`{name}`' if name == 'plt' else f'`{name}{inspect.signature(obj)}`'
        assert entry in page, f'chapters/d2lshim.md lacks {entry}'
    modules = {'metrics': metrics, 'classifier': classifier}
    listed = re.findall(r'`(metrics|classifier)\.(\w+)\(([^`]*)\)`', page)
    assert {(m, n) for m, n, _ in listed} >= {('metrics', 'evaluate'), ('classifier', 'predict')}
    for module, name, arguments in listed:
        parameters = list(inspect.signature(getattr(modules[module], name)).parameters)
        written = [a.split('=')[0].strip() for a in arguments.split(',') if a.strip()]
        assert written == parameters, (module, name, written, parameters)


def test_unknown_backend_names_the_available_ones():
    with pytest.raises(ValueError, match='jax.*available backends: torch, tensorflow, mxnet'):
        d2lshim.load_backend('jax')
    with pytest.raises(ImportError, match="'jax'; available backends: torch, tensorflow, mxnet"):
        from d2lshim import jax  # noqa: F401
    with pytest.raises(ImportError, match='available backends: torch, tensorflow, mxnet'):
        d2lshim.jax  # noqa: B018
    from d2lshim import metrics  # a submodule still imports
    assert metrics.__name__ == 'd2lshim.metrics'


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


def test_timer_and_accumulator():
    timer = common.Timer()
    with pytest.raises(ValueError, match=r'no time recorded yet; call stop\(\) first'):
        timer.avg()
    time.sleep(0.02)
    first = timer.stop()
    assert first >= 0.02  # perf_counter never runs slow; only fast is possible on a busy machine
    timer.start()
    timer.stop()
    assert len(timer.times) == 2 and timer.cumsum() == [first, first + timer.times[1]]
    assert timer.avg() == pytest.approx(timer.sum() / 2) and timer.sum() >= 0.02
    acc = common.Accumulator(2)
    acc.add(1, 2.5)
    acc.add(np.float32(1), 0.5)
    assert (acc[0], acc[1]) == (2.0, 3.0)
    with pytest.raises(ValueError, match='holds 2 values, add\\(\\) got 1'):
        acc.add(1)
    for bad in (-1, 0, 2.0, True):
        with pytest.raises(ValueError, match=rf'Accumulator\(n\).*integer of at least 1, '
                                             rf'got {bad!r}'):
            common.Accumulator(bad)


def test_animator_redraws_live_only_outside_batch_runs(monkeypatch):
    from IPython import display
    calls = []
    monkeypatch.setattr(display, 'display', lambda *a, **k: calls.append('display'))
    monkeypatch.setattr(display, 'clear_output', lambda *a, **k: calls.append('clear'))
    monkeypatch.setenv(common.BATCH_ENV, '0')
    animator = common.Animator(legend=['a', 'b'], nrows=2)
    animator.add(1, (0.5, 0.7))
    animator.add(2, (0.4, 0.6))
    assert calls == ['display', 'clear'] * 2
    assert [len(line.get_xdata()) for line in animator.axes[0].lines] == [2, 2]
    calls.clear()
    monkeypatch.setenv(common.BATCH_ENV, '1')
    animator.add(3, (0.3, 0.5))
    assert calls == []
    common.plt.close('all')


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


def test_artifact_dir_is_per_lesson_and_framework(d2l, monkeypatch, tmp_path):
    monkeypatch.setenv(common.ARTIFACTS_ENV, str(tmp_path))
    framework = {'torch': 'pytorch'}.get(d2l.__name__.rsplit('.', 1)[1],
                                         d2l.__name__.rsplit('.', 1)[1])
    assert d2l.artifact_dir('mnist') == tmp_path / 'mnist' / framework
    monkeypatch.delenv(common.ARTIFACTS_ENV)
    assert str(d2l.artifact_dir('mnist')) == f'artifacts/mnist/{framework}'


def test_image_grid_tiles_row_by_row_with_white_gaps():
    images = np.stack([np.full((2, 3), v, dtype=np.float32) for v in (0.0, 0.25, 0.5)])
    grid = common.image_grid(images, nrows=2, pad=1)
    assert grid.shape == (2 * 3 + 1, 2 * 4 + 1)
    assert grid[1:3, 1:4].max() == 0.0 and (grid[1:3, 5:8] == 0.25).all()
    assert (grid[4:6, 1:4] == 0.5).all() and (grid[4:6, 5:8] == 1.0).all()  # empty cell
    assert (grid[0] == 1.0).all() and (grid[:, 4] == 1.0).all()
    with pytest.raises(ValueError, match=r'\(n, height, width\), got shape \(4, 784\)'):
        common.image_grid(np.zeros((4, 784)), nrows=2)
    for nrows in (0, -1, 1.5):
        with pytest.raises(ValueError, match=f'nrows must be an integer of at least 1, '
                                             f'got {nrows}'):
            common.image_grid(images, nrows=nrows)


def test_animator_plots_a_single_epoch_without_warnings(monkeypatch):
    monkeypatch.setenv(common.BATCH_ENV, '1')
    animator = common.Animator(legend=['D', 'G'], xlim=[1, 1])  # a run of num_epochs = 1
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        animator.add(1, (0.6, 0.9))
    low, high = animator.axes[0].get_xlim()
    assert low < 1 < high
    common.plt.close('all')


def test_animator_keeps_curves_per_panel(monkeypatch):
    monkeypatch.setenv(common.BATCH_ENV, '1')
    animator = common.Animator(legend=['D', 'G'], ncols=2)
    animator.configure(1, ylabel='mean D(x)', legend=['real', 'fake'], ylim=[0, 1])
    for epoch in (1, 2, 3):
        animator.add(epoch, (0.6, 0.9))
        animator.add(epoch, (0.7, 0.3), panel=1)
    assert [len(line.get_xdata()) for line in animator.axes[0].lines] == [3, 3]
    assert [list(line.get_ydata()) for line in animator.axes[1].lines] == [[0.7] * 3, [0.3] * 3]
    assert animator.axes[1].get_ylabel() == 'mean D(x)'
    assert animator.axes[1].get_ylim() == (0, 1)
    assert [t.get_text() for t in animator.axes[1].get_legend().get_texts()] == ['real', 'fake']
    common.plt.close('all')


def test_animator_refuses_points_it_would_drop(monkeypatch):
    monkeypatch.setenv(common.BATCH_ENV, '1')
    animator = common.Animator(legend=['a', 'b'])
    with pytest.raises(ValueError, match='got 1 x values for 2 curves'):
        animator.add([1], (0.5, 0.6))
    with pytest.raises(ValueError, match=r'5 curves but 4 line formats; pass Animator\(fmts=...\)'):
        animator.add(1, (1, 2, 3, 4, 5))
    animator.add(1, (0.5, 0.6))
    with pytest.raises(ValueError, match='panel 0 has 2 curves, got 3 values'):
        animator.add(2, (0.5, 0.6, 0.7))
    common.plt.close('all')
