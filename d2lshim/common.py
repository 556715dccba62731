"""Framework-free helpers shared by every backend: timing, accumulating, batching, plotting.

Each backend module re-exports these names, so a lesson only ever writes `d2l.Timer()`.
"""
import math
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
        self.data = [0.0] * n

    def add(self, *args):
        if len(args) != len(self.data):
            raise ValueError(f'Accumulator holds {len(self.data)} values, '
                             f'add() got {len(args)}')
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


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
        curves = self._curves.setdefault(panel, [([], []) for _ in y])
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
    ncols = math.ceil(n / nrows)
    grid = np.ones((nrows * (h + pad) + pad, ncols * (w + pad) + pad), dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, ncols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        grid[top:top + h, left:left + w] = image
    return grid


def show_images(images, nrows, ax=None, title=None):
    """Draw `images` (n, height, width), pixels in [0, 1], as one grid on `ax`."""
    if ax is None:
        ax = plt.figure(figsize=(4, 4)).gca()
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


class BatchLoader:
    """Minibatches of equally long arrays, always yielded as a tuple with one entry per array.

    With `is_train` the examples are visited in a new random order every epoch, drawn
    from the framework's own generator by `permutation(n)`; `take(array, indices)`
    gathers the rows. The last batch is kept even when it is smaller.
    """

    def __init__(self, arrays, batch_size, is_train, permutation, take):
        if not isinstance(arrays, (tuple, list)) or not arrays:
            raise ValueError('load_array expects a tuple of arrays, for example (features,) '
                             f'or (features, labels); got {type(arrays).__name__}')
        lengths = [int(a.shape[0]) for a in arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f'load_array needs arrays of the same length (one row per '
                             f'example), got lengths {lengths}')
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f'batch_size must be an integer of at least 1, got {batch_size!r}')
        self.arrays = tuple(arrays)
        self.num_examples = lengths[0]
        self.batch_size = batch_size
        self.is_train = is_train
        self._permutation = permutation
        self._take = take

    def __len__(self):
        return math.ceil(self.num_examples / self.batch_size)

    def __iter__(self):
        order = self._permutation(self.num_examples) if self.is_train else None
        for start in range(0, self.num_examples, self.batch_size):
            stop = start + self.batch_size
            if order is None:
                yield tuple(a[start:stop] for a in self.arrays)
            else:
                rows = order[start:stop]
                yield tuple(self._take(a, rows) for a in self.arrays)
