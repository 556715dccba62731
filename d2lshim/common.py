"""Framework-free helpers shared by every backend: timing, accumulating, batching, plotting.

Each backend module re-exports these names, so a lesson only ever writes `d2l.Timer()`.
"""
import math
import os
import time

from matplotlib import pyplot as plt

BATCH_ENV = 'D2LSHIM_BATCH'


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
    """Plot curves that grow point by point, in the first of `nrows * ncols` panels.

    Run by a person in Jupyter, every `add` redraws the figure in place. Run in batch
    (environment variable D2LSHIM_BATCH=1, set by the book build and the tests), nothing
    is drawn until the cell ends, so the notebook keeps exactly one, final figure.
    """

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
                 xscale='linear', yscale='linear',
                 fmts=('-', 'm--', 'g-.', 'r:'), nrows=1, ncols=1, figsize=(3.5, 2.5)):
        self.fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
        self.axes = list(axes.flat)
        self.config = dict(xlabel=xlabel, ylabel=ylabel, xlim=xlim, ylim=ylim,
                           xscale=xscale, yscale=yscale)
        self.legend = legend
        self.fmts = fmts
        self.X, self.Y = None, None

    def add(self, x, y):
        """Append one point to each curve: `y` is a number or one number per curve."""
        if not hasattr(y, '__len__'):
            y = [y]
        if not hasattr(x, '__len__'):
            x = [x] * len(y)
        if self.X is None:
            self.X = [[] for _ in y]
            self.Y = [[] for _ in y]
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(a)
                self.Y[i].append(float(b))
        ax = self.axes[0]
        ax.cla()
        for xs, ys, fmt in zip(self.X, self.Y, self.fmts):
            ax.plot(xs, ys, fmt)
        ax.set(**{k: v for k, v in self.config.items() if v is not None})
        if self.legend:
            ax.legend(self.legend)
        ax.grid(True)
        self.show()

    def show(self):
        """Redraw now (live in Jupyter; deferred to the end of the cell in batch runs)."""
        if in_batch_execution():
            return
        from IPython import display
        display.display(self.fig)
        display.clear_output(wait=True)


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
