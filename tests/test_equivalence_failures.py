"""The tabs of the training-failures lesson are one algorithm: the lesson's own networks,
plain and Wasserstein steps, written-out input gradient and gradient measurement, each in its
framework's environment, from identical weights on identical batches."""
import numpy as np
import pytest

from bookbuild import FRAMEWORKS, REFERENCE
from cross_framework import OTHERS, batches, numbered, probe, unnumbered

LESSON = 'training_failures'
STEPS = 10
RTOL = 1e-4
# Parameters are compared by how far each tensor's update differs, relative to the update,
# as in the MNIST lesson's test: Adam's first steps are nearly sign(gradient) * lr, so a
# weight whose gradient is rounding noise moves by +lr in one framework and -lr in another.
UPDATE_RTOL = 5e-2
# The whole lesson runs before the probe, so it is shortened to two records per GAN.
SHORT = {'num_epochs': 20, 'wgan_epochs': 32}


def steps():
    """Ten batches of 64 ring points (X0..), noise (Z0..) and mixing weights (M0..)."""
    rng = np.random.default_rng(0)
    angles = rng.integers(0, 8, size=(STEPS, 64)) * np.pi / 4
    ring = np.stack([2 * np.cos(angles), 2 * np.sin(angles)], axis=-1)
    found = batches(((ring[i] + rng.normal(0, 0.02, (64, 2))).astype(np.float32),
                     rng.normal(size=(64, 2)).astype(np.float32)) for i in range(STEPS))
    found.update(numbered('M', [rng.uniform(size=(64, 1)).astype(np.float32)
                                for _ in range(STEPS)]))
    return found


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    workdir = tmp_path_factory.mktemp('failures')
    settings = {'parameters': SHORT, 'stop_before': None}
    reference = probe(LESSON, REFERENCE, ['failures_train'], workdir, steps(), **settings)
    start = {**numbered('start_G', unnumbered('G', reference)),
             **numbered('start_D', unnumbered('D', reference))}
    return {REFERENCE: reference,
            **{fw: probe(LESSON, fw, ['failures_train'], workdir, {**steps(), **start},
                         **settings) for fw in OTHERS}}


def test_networks_are_two_hidden_layers_of_128_started_from_n_0_002(runs):
    assert set(runs) == set(FRAMEWORKS)
    for framework, run in runs.items():
        assert [p.shape for p in unnumbered('G', run)] == \
            [(2, 128), (128,), (128, 128), (128,), (128, 2), (2,)], framework
        assert [p.shape for p in unnumbered('D', run)] == \
            [(2, 128), (128,), (128, 128), (128,), (128, 1), (1,)], framework
        pooled = np.concatenate([p.ravel() for p in unnumbered('G', run) +
                                 unnumbered('D', run)])
        assert abs(pooled.std() - 0.02) < 0.001 and abs(pooled.mean()) < 0.001, framework
        assert all(np.all(p != 0) for p in unnumbered('D', run)), framework  # biases too


def compare(runs, outputs, prefix):
    """Each framework's per-step outputs within RTOL of the reference's, and its parameters'
    updates within UPDATE_RTOL of the reference's updates (by norm, per tensor)."""
    reference = runs[REFERENCE]
    start = unnumbered('G', reference) + unnumbered('D', reference)
    ref_params = unnumbered(f'{prefix}G', reference) + unnumbered(f'{prefix}D', reference)
    assert not np.allclose(ref_params[0], start[0], rtol=1e-2)  # training moved G
    worst_outputs = worst_update = 0.0
    for framework in OTHERS:
        run = runs[framework]
        np.testing.assert_allclose(run[outputs], reference[outputs], rtol=RTOL,
                                   err_msg=framework)
        worst_outputs = max(worst_outputs, float(np.max(
            np.abs(run[outputs] - reference[outputs]) / np.abs(reference[outputs]))))
        params = unnumbered(f'{prefix}G', run) + unnumbered(f'{prefix}D', run)
        assert len(params) == len(ref_params) == 12, framework
        for index, (got, want, begin) in enumerate(zip(params, ref_params, start)):
            if np.array_equal(want, begin):  # the critic's output bias: no loss depends on it
                np.testing.assert_array_equal(got, begin, err_msg=framework)
                continue
            update_gap = np.linalg.norm(got - want) / np.linalg.norm(want - begin)
            assert update_gap < UPDATE_RTOL, (framework, index, got.shape, update_gap)
            worst_update = max(worst_update, float(update_gap))
    print(f'after {STEPS} steps: outputs within {worst_outputs:.1e} (relative), '
          f'parameter updates within {worst_update:.1e} of their norm')


def test_ten_plain_steps_agree_across_frameworks(runs):
    assert runs[REFERENCE]['outputs'].shape == (STEPS, 2)
    compare(runs, 'outputs', 'final_')


def test_ten_wasserstein_steps_agree_across_frameworks(runs):
    outputs = runs[REFERENCE]['wgan_outputs']
    assert outputs.shape == (STEPS, 3)
    assert np.all(outputs[:, 1] > 0.5)  # a fresh critic's slope is far below 1: penalised
    compare(runs, 'wgan_outputs', 'wgan_')


def test_written_out_input_gradient_and_gradient_measurement_agree(runs):
    reference = runs[REFERENCE]
    assert reference['input_gradient'].shape == (64, 2)
    assert np.abs(reference['input_gradient']).max() > 0
    for framework in OTHERS:
        np.testing.assert_allclose(runs[framework]['input_gradient'],
                                   reference['input_gradient'], rtol=RTOL,
                                   atol=RTOL * np.abs(reference['input_gradient']).max(),
                                   err_msg=framework)
        np.testing.assert_allclose(runs[framework]['point_gradients'],
                                   reference['point_gradients'], rtol=RTOL, err_msg=framework)


def test_written_out_input_gradient_matches_finite_differences(runs):
    """The formula itself, checked in NumPy from the start critic's weights: a ReLU network
    is linear around almost every point, so a small central difference is exact there."""
    W1, b1, W2, b2, w3, b3 = (p.astype(np.float64) for p in unnumbered('D', runs[REFERENCE]))

    def critic(X):
        return np.maximum(np.maximum(X @ W1 + b1, 0) @ W2 + b2, 0) @ w3 + b3

    X, h = steps()['X0'].astype(np.float64), 1e-6
    finite = np.concatenate([(critic(X + step) - critic(X - step)) / (2 * h)
                             for step in (np.array([h, 0]), np.array([0, h]))], axis=1)
    written = runs[REFERENCE]['input_gradient']
    assert np.abs(finite).max() > 1e-5
    np.testing.assert_allclose(written, finite, rtol=1e-3, atol=1e-3 * np.abs(finite).max())
