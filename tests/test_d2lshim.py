"""d2lshim's framework-free part: backend lookup, Timer, Accumulator, Animator, image grids.
Each backend is tested in its own environment: tests/framework/."""
import json
import time
import warnings

import numpy as np
import pytest

import d2lshim
from d2lshim import common


def test_unknown_backend_names_the_available_ones():
    with pytest.raises(ValueError, match='jax.*available backends: torch, tensorflow, mxnet'):
        d2lshim.load_backend('jax')
    with pytest.raises(ImportError, match="'jax'; available backends: torch, tensorflow, mxnet"):
        from d2lshim import jax  # noqa: F401
    with pytest.raises(ImportError, match='available backends: torch, tensorflow, mxnet'):
        d2lshim.jax  # noqa: B018
    from d2lshim import metrics  # a submodule still imports
    assert metrics.__name__ == 'd2lshim.metrics'


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


GOOD_PARAMETERS = dict(seed=0, batch_size=128, num_epochs=15, num_examples=60000, lr=5e-4,
                       beta1=0.5, latent_dim=100, dropout=0.3, real_label=0.9)


def test_check_parameters_names_every_setting_that_cannot_work():
    common.check_parameters(**GOOD_PARAMETERS)
    common.check_parameters(seed=np.int64(3), lr_D=0.02, lr_G=0.005, beta2=1 - 2 ** -10)
    bad = dict(seed='abc', num_epochs=0, lr=float('nan'), beta1=1.5, latent_dim=-1,
               batch_size=2.0, dropout=1.0, real_label=0.0, lr_D=True)
    with pytest.raises(ValueError) as error:
        common.check_parameters(**{**GOOD_PARAMETERS, **bad})
    lines = str(error.value).splitlines()
    assert lines[:-1] == [
        "seed must be a whole number of at least 0, got 'abc'",
        'batch_size must be a whole number of at least 1, got 2.0',
        'num_epochs must be a whole number of at least 1, got 0',
        'lr must be a finite number above 0, got nan',
        'beta1 must be a number in [0, 1), got 1.5',
        'latent_dim must be a whole number of at least 1, got -1',
        'dropout must be a number in [0, 1), got 1.0',
        'real_label must be a number in (0, 1], got 0.0',
        'lr_D must be a finite number above 0, got True']
    assert 'parameters' in lines[-1] and 'papermill' in lines[-1]
    with pytest.raises(TypeError, match='no rule for lr_typo'):
        common.check_parameters(lr_typo=1)


def test_a_run_clears_what_an_earlier_run_left_and_records_itself_last(tmp_path):
    out = tmp_path / 'out'
    first = common.Run('mnist', 'pytorch', out, GOOD_PARAMETERS)
    first.save_samples(np.zeros((4, 28, 28), dtype=np.float64))
    (out / 'grid_epoch_03.png').write_bytes(b'old')
    (out / 'generator.pt').write_bytes(b'weights')
    record = json.loads((out / common.RUN_RECORD).read_text())
    assert record == {'lesson': 'mnist', 'framework': 'pytorch',
                      'parameters': GOOD_PARAMETERS, 'samples': [4, 28, 28]}
    assert np.load(out / 'samples.npy').dtype == np.float32
    with pytest.raises(ValueError, match='num_epochs'):  # refused: nothing touched
        common.Run('mnist', 'pytorch', out, {**GOOD_PARAMETERS, 'num_epochs': -2})
    assert {p.name for p in out.iterdir()} == {common.RUN_RECORD, 'samples.npy',
                                              'grid_epoch_03.png', 'generator.pt'}
    second = common.Run('mnist', 'pytorch', out, {**GOOD_PARAMETERS, 'seed': 1})
    assert {p.name for p in out.iterdir()} == {'generator.pt'}  # what the run overwrites
    assert second.out_dir == out
    with pytest.raises(ValueError, match='NaN or infinite values: training diverged'):
        second.save_samples(np.full((4, 784), np.nan))
    assert not (out / 'samples.npy').exists() and not (out / common.RUN_RECORD).exists()
