"""The tabs of the conditional GAN lesson are one algorithm: the lesson's own networks
(a DCGAN generator fed the one-hot digit, a projection discriminator), steps, loss and
optimizers, each in its framework's environment, from identical weights on identical
batches, labels and noise; then sampling any digit and judging any image-digit pair."""
import numpy as np
import pytest

from bookbuild import REFERENCE
from cross_framework import OTHERS, numbered, probe, unnumbered

LESSON = 'conditional_gan'
STEPS = 10
# The DCGAN test's tolerances and learning rate, for the same reasons (see
# test_equivalence_dcgan.py): the game amplifies rounding, and Adam's first updates are
# nearly sign(gradient) * lr.
RTOL = 1e-4
CLOSE_STEPS = 4
UPDATE_RTOL = 5e-2
PARAMETERS = {'lr': 2e-4}


def trained(run, prefix='final_'):
    return unnumbered(prefix + 'G', run) + unnumbered(prefix + 'D', run)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    rng = np.random.default_rng(0)
    inputs = {**numbered('X', [rng.uniform(-1, 1, size=(32, 784)).astype(np.float32)
                               for _ in range(STEPS)]),
              **numbered('Z', [rng.normal(size=(32, 100)).astype(np.float32)
                               for _ in range(STEPS)]),
              **numbered('y', [rng.integers(0, 10, size=32) for _ in range(STEPS)])}
    workdir = tmp_path_factory.mktemp('conditional')
    reference = probe(LESSON, REFERENCE, ['conditional_train'], workdir, inputs,
                      parameters=PARAMETERS)
    # The others start from the reference's initial weights and sample and judge with its
    # trained networks, running statistics included.
    given = {**numbered('start_G', unnumbered('G', reference)),
             **numbered('start_D', unnumbered('D', reference)),
             **numbered('sample_G', unnumbered('final_G', reference)),
             **numbered('sample_D', unnumbered('final_D', reference))}
    return {REFERENCE: reference,
            **{fw: probe(LESSON, fw, ['conditional_train'], workdir, {**inputs, **given},
                         parameters=PARAMETERS)
               for fw in OTHERS}}


def test_architecture_and_initialisation_match(runs):
    shapes = {fw: {name: [p.shape for p in unnumbered(name, run)] for name in ['G', 'D']}
              for fw, run in runs.items()}
    norm = lambda c: [(c,)] * 4  # scale, shift, running mean, running variance
    # G: the DCGAN lesson's, with 10 more inputs; D: the DCGAN's and the embedding e_y
    assert shapes[REFERENCE]['G'] == [(110, 3136), *norm(64), (4, 4, 32, 64), *norm(32),
                                      (3, 3, 32, 1), (1,)]
    assert shapes[REFERENCE]['D'] == [(4, 4, 1, 32), (32,), (4, 4, 32, 64), (64,),
                                      (3136, 1), (1,), (10, 3136)]
    for framework in OTHERS:
        assert shapes[framework] == shapes[REFERENCE], framework
    for framework, run in runs.items():
        for name in ['G', 'D']:
            for value in unnumbered(name, run):
                if value.ndim > 1 and value.size >= 512:  # weights: N(0, 0.02²)
                    assert abs(value.std() - 0.02) < 0.003, (framework, name, value.shape)
                    assert abs(value.mean()) < 0.004, (framework, name, value.shape)
        G, D = unnumbered('G', run), unnumbered('D', run)
        for start in (1, 6):  # batch norm starts as the identity
            for value, want in zip(G[start:start + 4], [1, 0, 0, 1]):
                assert np.all(value == want), (framework, start)
        for bias in (G[-1], D[1], D[3], D[5]):  # drawn like the weights, not zero
            assert np.count_nonzero(bias) == bias.size, (framework, bias.shape)


def test_ten_steps_agree_across_frameworks(runs):
    reference = runs[REFERENCE]
    ref_outputs = reference['outputs']  # per step: loss_D, D(real), D(generated), loss_G
    start, ref_params = trained(reference, prefix=''), trained(reference)
    assert ref_outputs.shape == (STEPS, 4)
    for index in (0, len(unnumbered('G', reference))):  # G's first layer, D's first
        assert not np.allclose(ref_params[index], start[index], rtol=1e-2)
    embedding = -1  # e_y moves only for the digits in the batches
    assert not np.allclose(ref_params[embedding], start[embedding], rtol=1e-2)
    worst_outputs = worst_update = 0.0
    for framework in OTHERS:
        run = runs[framework]
        close, ref_close = run['outputs'][:CLOSE_STEPS], ref_outputs[:CLOSE_STEPS]
        np.testing.assert_allclose(close, ref_close, rtol=RTOL, err_msg=framework)
        worst_outputs = max(worst_outputs,
                            float(np.max(np.abs(close - ref_close) / np.abs(ref_close))))
        params = trained(run)
        assert len(params) == len(ref_params), framework
        for index, (got, want, begin) in enumerate(zip(params, ref_params, start)):
            update_gap = np.linalg.norm(got - want) / np.linalg.norm(want - begin)
            assert update_gap < UPDATE_RTOL, (framework, index, got.shape, update_gap)
            worst_update = max(worst_update, float(update_gap))
    print(f'first {CLOSE_STEPS} steps: losses and D(x) within {worst_outputs:.1e} (relative), '
          f'after {STEPS}: parameter updates within {worst_update:.1e} of their norm')


def test_every_digit_is_drawn_and_judged_alike(runs):
    """With the reference's trained networks loaded, every tab draws the same image for the
    same noise and digit, and gives an image-digit pair the same logit; the digit changes
    both, so the label really reaches each network."""
    reference = runs[REFERENCE]
    generated, judged = reference['generated'], reference['judged']
    assert generated.shape == (10, 32, 28, 28) and judged.shape == (10, 32)
    assert np.abs(generated[3] - generated[7]).max() > 1e-3
    assert np.abs(judged[3] - judged[7]).max() > 1e-3
    for framework in OTHERS:
        run = runs[framework]
        np.testing.assert_allclose(run['generated'], generated, atol=RTOL, err_msg=framework)
        np.testing.assert_allclose(run['judged'], judged, rtol=RTOL, atol=RTOL,
                                   err_msg=framework)
