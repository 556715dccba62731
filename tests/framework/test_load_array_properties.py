"""`load_array`'s contract, for arrays that hypothesis makes up, in this backend (each runs
in its own environment; every backend is held to this one contract): the same
batch structure and sizes, every row exactly once per epoch and aligned across arrays, the
caller's arrays untouched, and one dtype rule (floats float32, integers int64)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


@st.composite
def datasets(draw):
    """(arrays, batch_size): 1 to 3 arrays of one length, float or integer, any trailing shape."""
    n = draw(st.integers(1, 40))
    arrays = []
    for _ in range(draw(st.integers(1, 3))):
        dtype = draw(st.sampled_from([np.float32, np.float64, np.int32, np.int64]))
        trailing = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
        elements = st.integers(-1000, 1000) if np.issubdtype(dtype, np.integer) else \
            st.floats(-1e3, 1e3, width=32)
        arrays.append(draw(hnp.arrays(dtype, (n, *trailing), elements=elements)))
    return arrays, draw(st.integers(1, 50))


def epoch(d2l, loader):
    return [tuple(d2l.numpy(a) for a in batch) for batch in loader]


@settings(max_examples=60, deadline=None)
@given(datasets(), st.booleans(), st.integers(0, 2 ** 16))
def test_the_backend_keeps_the_contract(d2l, data, is_train, seed):
    arrays, batch_size = data
    originals = [a.copy() for a in arrays]
    n = len(arrays[0])
    expected_sizes = [min(batch_size, n - start) for start in range(0, n, batch_size)]
    expected_dtypes = ['float32' if np.issubdtype(a.dtype, np.floating) else 'int64'
                       for a in arrays]
    # A row id in the first column of an extra array tells which example each row came from.
    ids = np.arange(n)
    d2l.set_seed(seed)
    loader = d2l.load_array((ids, *arrays), batch_size, is_train=is_train)
    assert len(loader) == len(expected_sizes)
    for _ in range(2):
        batches = epoch(d2l, loader)
        assert [len(b) for b in batches] == [1 + len(arrays)] * len(expected_sizes)
        assert [len(b[0]) for b in batches] == expected_sizes
        order = np.concatenate([b[0] for b in batches])
        assert sorted(order.tolist()) == list(range(n))  # every row exactly once
        if not is_train:
            assert order.tolist() == list(range(n))
        for i, original in enumerate(originals):
            served = np.concatenate([b[i + 1] for b in batches])
            assert str(served.dtype) == expected_dtypes[i]
            assert served.shape == original.shape
            # rows stay aligned
            np.testing.assert_array_equal(served, original[order].astype(served.dtype))
        for batch in batches:
            for part in batch:
                part[...] = 0  # the NumPy copies; the loaders' own data must not change
    for array, original in zip(arrays, originals):
        np.testing.assert_array_equal(array, original)


def test_a_seed_fixes_the_order_within_a_backend(d2l):
    ids = np.arange(30)
    orders = []
    for _ in range(2):
        d2l.set_seed(11)
        orders.append(np.concatenate([d2l.numpy(b[0]) for b in d2l.load_array((ids,), 7)]))
    np.testing.assert_array_equal(*orders)
    assert not np.array_equal(orders[0], ids)
