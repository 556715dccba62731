"""Framework-free helpers shared by every backend: timing, accumulating, batching, plotting.

Each backend module re-exports these names, so a lesson only ever writes `d2l.Timer()`.
"""
import json
import math
import numbers
import operator
import os
import time
from pathlib import Path

import numpy as np
from matplotlib import pyplot as plt

BATCH_ENV = 'D2LSHIM_BATCH'
ARTIFACTS_ENV = 'D2LSHIM_ARTIFACTS'


def in_batch_execution():
    """True when a notebook runs unattended (book build, nbval), where live redraws are noise."""
    return os.environ.get(BATCH_ENV) == '1'


class Timer:
    """Record several running times; starts on creation."""

    def __init__(self):
        self.times = []
        self.start()

    def start(self):
        self._started = time.perf_counter()

    def stop(self):
        """Stop the clock, record the time since `start` and return it."""
        self.times.append(time.perf_counter() - self._started)
        return self.times[-1]

    def avg(self):
        if not self.times:
            raise ValueError('Timer.avg(): no time recorded yet; call stop() first')
        return sum(self.times) / len(self.times)

    def sum(self):
        return sum(self.times)

    def cumsum(self):
        totals, total = [], 0.0
        for t in self.times:
            total += t
            totals.append(total)
        return totals


class Accumulator:
    """Sum `n` running quantities; framework scalars are converted with `float`."""

    def __init__(self, n):
        self.data = [0.0] * whole_number(n, 'Accumulator(n): n, the number of sums,')

    def add(self, *args):
        if len(args) != len(self.data):
            raise ValueError(f'Accumulator holds {len(self.data)} values, '
                             f'add() got {len(args)}')
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def whole_number(value, what):
    """`value` as an int of at least 1 (NumPy integers welcome), or a ValueError that says
    `what` must be one."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)
    except TypeError:
        number = None
    if number is None or number < 1:
        raise ValueError(f'{what} must be an integer of at least 1, got {value!r}')
    return number


def check_normal(mean, std, shape):
    """The arguments of `normal` checked the same way in every backend; returns the shape
    as a tuple (an int n means (n,))."""
    _check_finite('normal', mean=mean, std=std)
    if std < 0:
        raise ValueError(f'normal: std must be at least 0, got {std!r}')
    return _checked_shape('normal', shape)


def check_uniform(low, high, shape):
    """The arguments of `uniform` checked the same way in every backend; returns the shape
    as a tuple."""
    _check_finite('uniform', low=low, high=high)
    if not low < high:
        raise ValueError(f'uniform: low must be below high, got low={low!r}, high={high!r}')
    return _checked_shape('uniform', shape)


def _check_finite(function, **values):
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value):
            raise ValueError(f'{function}: {name} must be a finite number, got {value!r}')


def _checked_shape(function, shape):
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(operator.index(d) for d in shape)
    except TypeError:
        shape = None
    if shape is None or any(d < 0 for d in shape):
        raise ValueError(f'{function}: shape must be a tuple of whole numbers such as (8, 2)')
    return shape


def set_figsize(figsize=(3.5, 2.5)):
    """Set the default matplotlib figure size in inches."""
    plt.rcParams['figure.figsize'] = figsize


class Animator:
    """Plot curves that grow point by point, in a grid of `nrows * ncols` panels.

    The constructor's labels, limits and legend describe panel 0; `configure` describes
    the others, and `axes` is there for panels a lesson draws itself (samples, images).
    Run by a person in Jupyter, every `add` redraws the figure in place. Run in batch
    (environment variable D2LSHIM_BATCH=1, set by the book build and the tests), nothing
    is drawn until the cell ends, so the notebook keeps exactly one, final figure.
    """

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
                 xscale='linear', yscale='linear',
                 fmts=('-', 'm--', 'g-.', 'r:'), nrows=1, ncols=1, figsize=(3.5, 2.5)):
        self.fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
        self.axes = list(axes.flat)
        self.fmts = fmts
        self._config, self._curves = {}, {}
        self.configure(0, xlabel, ylabel, legend, xlim, ylim, xscale, yscale)

    def configure(self, panel, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
                  xscale='linear', yscale='linear'):
        """Labels, legend, limits and scales of the curves in panel `panel`."""
        self._config[panel] = dict(xlabel=xlabel, ylabel=ylabel, legend=legend, xlim=xlim,
                                   ylim=ylim, xscale=xscale, yscale=yscale)

    def add(self, x, y, panel=0):
        """Append one point to each curve of `panel`: `y` is a number or one per curve."""
        if not hasattr(y, '__len__'):
            y = [y]
        if not hasattr(x, '__len__'):
            x = [x] * len(y)
        if len(x) != len(y):
            raise ValueError(f'Animator.add: got {len(x)} x values for {len(y)} curves; '
                             'give one x for all curves or one per curve')
        if len(y) > len(self.fmts):
            raise ValueError(f'Animator.add: {len(y)} curves but {len(self.fmts)} line formats; '
                             f'pass Animator(fmts=...) with one format per curve')
        curves = self._curves.setdefault(panel, [([], []) for _ in y])
        if len(curves) != len(y):
            raise ValueError(f'Animator.add: panel {panel} has {len(curves)} curves, '
                             f'got {len(y)} values')
        for (xs, ys), a, b in zip(curves, x, y):
            if a is not None and b is not None:
                xs.append(a)
                ys.append(float(b))
        config = dict(self._config.get(panel, {}))
        legend = config.pop('legend', None)
        for limits in ('xlim', 'ylim'):
            if config.get(limits) is not None and config[limits][0] == config[limits][1]:
                config[limits] = None  # e.g. xlim=[1, 1] for one epoch: matplotlib would warn
        ax = self.axes[panel]
        ax.cla()
        for (xs, ys), fmt in zip(curves, self.fmts):
            ax.plot(xs, ys, fmt)
        ax.set(**{k: v for k, v in config.items() if v is not None})
        if legend:
            ax.legend(legend)
        ax.grid(True)
        self.show()

    def show(self):
        """Redraw now (live in Jupyter; deferred to the end of the cell in batch runs)."""
        if in_batch_execution():
            return
        from IPython import display
        display.display(self.fig)
        display.clear_output(wait=True)


def image_grid(images, nrows, pad=2):
    """Tile equally sized grey images (n, height, width) into one array, `nrows` rows.

    Pixels are expected in [0, 1]; the gaps between images are white so digits stand apart.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3:
        raise ValueError(f'image_grid expects images of shape (n, height, width), '
                         f'got shape {images.shape}')
    n, h, w = images.shape
    nrows = whole_number(nrows, 'image_grid: nrows')
    ncols = math.ceil(n / nrows)
    grid = np.ones((nrows * (h + pad) + pad, ncols * (w + pad) + pad), dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, ncols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        grid[top:top + h, left:left + w] = image
    return grid


def show_images(images, nrows, ax=None, title=None, figsize=(4, 4)):
    """Draw `images` (n, height, width), pixels in [0, 1], as one grid on `ax` (or on a
    new figure of `figsize` inches)."""
    if ax is None:
        ax = plt.figure(figsize=figsize).gca()
    ax.cla()
    ax.imshow(image_grid(images, nrows), cmap='gray', vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def artifact_dir(lesson, framework):
    """Where a lesson run writes its files: $D2LSHIM_ARTIFACTS/<lesson>/<framework>.

    The book build points D2LSHIM_ARTIFACTS at _build/artifacts; a reader's own run writes
    to ./artifacts next to the notebook.
    """
    root = Path(os.environ.get(ARTIFACTS_ENV, 'artifacts'))
    return root / lesson / framework


# What each lesson parameter must be, checked before a run touches any file, so that every
# framework refuses the same settings with the same message.
def _whole_number_from(low):
    return (lambda v: not isinstance(v, bool) and isinstance(v, numbers.Integral) and v >= low,
            f'a whole number of at least {low}')


def _number_in(low, high, low_open=False, high_open=False):
    def test(v):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            return False
        return (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    what = f'a number in {"(" if low_open else "["}{low:g}, {high:g}{")" if high_open else "]"}'
    return test, what


PARAMETER_RULES = {
    'seed': _whole_number_from(0),
    **{name: _whole_number_from(1)
       for name in ('batch_size', 'num_epochs', 'num_examples', 'latent_dim', 'wgan_epochs',
                    'n_critic')},
    **{name: (_number_in(0, math.inf, low_open=True)[0], 'a finite number above 0')
       for name in ('lr', 'lr_D', 'lr_G')},
    **{name: _number_in(0, 1, high_open=True)
       for name in ('beta1', 'beta2', 'wgan_beta2', 'dropout')},
    'gp_weight': _number_in(0, math.inf, high_open=True),
    'real_label': _number_in(0, 1, low_open=True),
}


def check_parameters(**parameters):
    """Raise one ValueError naming every lesson parameter that cannot work (see
    PARAMETER_RULES), or return None."""
    unknown = sorted(set(parameters) - set(PARAMETER_RULES))
    if unknown:
        raise TypeError(f'check_parameters: no rule for {", ".join(unknown)}; '
                        f'known: {", ".join(PARAMETER_RULES)}')
    mistakes = [f'{name} must be {what}, got {value!r}'
                for name, value in parameters.items()
                for test, what in [PARAMETER_RULES[name]] if not test(value)]
    if mistakes:
        which = 'it' if len(mistakes) == 1 else 'them'
        raise ValueError('\n'.join(mistakes) + f'\nChange {which} in the cell tagged '
                         '`parameters` (or pass other values with papermill -p NAME VALUE).')


RUN_RECORD = 'run.json'


class Run:
    """One training run of a lesson that writes its files to `out_dir`.

    Starting one checks the parameters, then removes what an earlier run left in `out_dir`:
    its record first, so that a run cut off halfway never passes for a finished one, and its
    samples and epoch grids, so that none of them pass for this run's. `save_samples` writes
    the samples and then the record (`run.json`: lesson, framework, parameters), which
    readers of the samples check (`metrics.load_samples`).
    """

    def __init__(self, lesson, framework, out_dir, parameters):
        check_parameters(**parameters)
        self.lesson, self.framework, self.parameters = lesson, framework, dict(parameters)
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for path in [self.out_dir / RUN_RECORD, self.out_dir / 'samples.npy',
                     *self.out_dir.glob('grid_epoch_*.png')]:
            path.unlink(missing_ok=True)

    def save_samples(self, samples):
        """Save `samples` as float32 `samples.npy`, then this run's record."""
        samples = np.asarray(samples, dtype=np.float32)
        if not np.isfinite(samples).all():
            raise ValueError('the samples contain NaN or infinite values: training diverged, '
                             'so nothing was saved. Try a smaller learning rate.')
        np.save(self.out_dir / 'samples.npy', samples)
        record = {'lesson': self.lesson, 'framework': self.framework,
                  'parameters': self.parameters, 'samples': list(samples.shape)}
        text = json.dumps(record, indent=1, default=lambda v: v.item())  # NumPy scalars
        (self.out_dir / RUN_RECORD).write_text(text + '\n')


def example_arrays(arrays, to_numpy):
    """What `load_array` serves, as NumPy copies of the caller's arrays (so that changing a
    batch never changes the caller's data) with one dtype rule in every backend: floats
    become float32, integers int64, booleans stay booleans. `to_numpy` converts the
    backend's own tensors."""
    if not isinstance(arrays, (tuple, list)) or not arrays or \
            any(isinstance(a, numbers.Number) for a in arrays):
        raise ValueError('load_array expects a tuple of arrays, for example (features,) or '
                         f'(features, labels); got {type(arrays).__name__} {arrays!r:.60}')
    converted = []
    for i, a in enumerate(arrays):
        a = np.array(a if isinstance(a, (np.ndarray, list, tuple)) else to_numpy(a))
        if a.ndim == 0:
            raise ValueError(f'load_array: array {i} is a single number; every array needs '
                             'one row per example, e.g. (features,) with features of shape (n, 2)')
        if np.issubdtype(a.dtype, np.floating):
            a = a.astype(np.float32)
        elif np.issubdtype(a.dtype, np.integer):
            a = a.astype(np.int64)
        elif a.dtype != np.bool_:
            raise ValueError(f'load_array: array {i} has dtype {a.dtype}; '
                             'use numbers (float or integer) or booleans')
        converted.append(a)
    lengths = [len(a) for a in converted]
    if len(set(lengths)) != 1:
        raise ValueError(f'load_array needs arrays of the same length (one row per '
                         f'example), got lengths {lengths}')
    return tuple(converted)


class BatchLoader:
    """Minibatches of equally long arrays, always yielded as a tuple with one entry per array.

    `epoch_order(n, shuffle)` gives the order of an epoch's examples: with `is_train` a new
    random one every epoch, from the framework's own generator, else 0, 1, ..., n - 1.
    `take(array, indices)` gathers the rows, as a copy: a batch changed in place changes
    neither the next epoch nor the caller's arrays (the backends pass their own copies,
    see `example_arrays`). The last batch is kept even when it is smaller.
    """

    def __init__(self, arrays, batch_size, is_train, epoch_order, take):
        self.arrays = tuple(arrays)
        self.num_examples = int(self.arrays[0].shape[0])
        self.batch_size = whole_number(batch_size, 'batch_size')
        self.is_train = is_train
        self._epoch_order = epoch_order
        self._take = take

    def __len__(self):
        return math.ceil(self.num_examples / self.batch_size)

    def __iter__(self):
        order = self._epoch_order(self.num_examples, self.is_train)
        for start in range(0, self.num_examples, self.batch_size):
            rows = order[start:start + self.batch_size]
            yield tuple(self._take(a, rows) for a in self.arrays)
