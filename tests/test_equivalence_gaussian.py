"""The tabs of the Gaussian lesson are one algorithm: run the lesson's own code in each
framework's environment from identical weights on identical batches, and compare with the
reference framework."""
import numpy as np
import pytest

from bookbuild import FRAMEWORKS, REFERENCE
from cross_framework import OTHERS, batches, numbered, probe, unnumbered

LESSON = 'gaussian_gan'
STEPS = 10
RTOL = 1e-4


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Each framework's probe; every framework but the reference starts from the
    reference's initial weights."""
    rng = np.random.default_rng(0)
    A = np.array([[1, 2], [-0.1, 0.5]])
    steps = batches((rng.normal(size=(8, 2)).astype(np.float32) @ A + [1, 2],
                     rng.normal(size=(8, 2)).astype(np.float32)) for _ in range(STEPS))
    workdir = tmp_path_factory.mktemp('gaussian')
    reference = probe(LESSON, REFERENCE, ['train', 'wide_layer'], workdir, steps)
    start = {**numbered('start_G', unnumbered('G', reference)),
             **numbered('start_D', unnumbered('D', reference))}
    return {REFERENCE: reference,
            **{fw: probe(LESSON, fw, ['train', 'wide_layer'], workdir, {**steps, **start})
               for fw in OTHERS}}


def test_every_weight_and_bias_starts_from_n_0_002(runs):
    for framework, run in runs.items():
        params_G, params_D = unnumbered('G', run), unnumbered('D', run)
        assert (len(params_G), len(params_D)) == (2, 6), framework
        for value in params_G + params_D:
            # a zero-initialised bias (the defect of the reference) would fail here
            assert np.all(value != 0), (framework, value)
        pooled = np.concatenate([p.ravel() for p in params_G + params_D])
        assert 0.012 < pooled.std() < 0.028, (framework, pooled.std())
        assert abs(pooled.mean()) < 0.01, (framework, pooled.mean())


def test_lesson_layers_draw_biases_like_weights(runs):
    """The lesson's own initialisation code, on a layer large enough for statistics."""
    assert set(runs) == set(FRAMEWORKS)
    for framework, run in runs.items():
        weight, bias = run['wide_weight'], run['wide_bias']
        assert abs(weight.std() - 0.02) < 0.001, (framework, weight.std())
        assert abs(bias.std() - 0.02) < 0.004, (framework, bias.std())
        assert len(np.unique(bias)) == 200, framework  # not one repeated draw


def test_ten_steps_agree_across_frameworks(runs):
    reference = runs[REFERENCE]
    ref_losses = reference['outputs']
    ref_params = unnumbered('final_G', reference) + unnumbered('final_D', reference)
    assert ref_losses.shape == (STEPS, 2)
    assert not np.allclose(ref_params[0], reference['G0'], rtol=1e-2)  # training moved G
    worst = 0.0
    for framework in OTHERS:
        run = runs[framework]
        losses, params = run['outputs'], unnumbered('final_G', run) + unnumbered('final_D', run)
        np.testing.assert_allclose(losses, ref_losses, rtol=RTOL, err_msg=framework)
        assert len(params) == len(ref_params), framework
        for got, want in zip(params, ref_params):
            # Relative to the tensor's scale too: an element that passes near zero has no
            # meaningful relative error of its own.
            scale = np.abs(want).max()
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL * scale,
                                       err_msg=framework)
            worst = max(worst, float(np.max(np.abs(got - want) / np.maximum(np.abs(want),
                                                                             scale))))
        worst = max(worst, float(np.max(np.abs(losses - ref_losses) / np.abs(ref_losses))))
    print(f'largest relative difference after {STEPS} steps: {worst:.2e}')
