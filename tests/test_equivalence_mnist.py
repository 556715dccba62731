"""The tabs of the MNIST lesson are one algorithm: the lesson's own networks, steps, loss
and optimizers, each in its framework's environment, from identical weights on identical
batches, with dropout off (its random masks cannot match across frameworks)."""
import numpy as np
import pytest

from bookbuild import REFERENCE
from cross_framework import OTHERS, batches, numbered, probe, unnumbered

LESSON = 'mnist_gan'
STEPS = 10
RTOL = 1e-4
# Parameters are compared by how far each tensor's update differs, relative to the update:
# Adam's first steps are nearly sign(gradient) * lr, so a weight whose gradient cancels
# to rounding noise moves by +lr in one framework and -lr in another. Measured here with
# these batches: at most 2.6e-2 of the update's norm (G's first layer). The margin depends
# on the data: batches drawn in another order gave 6.8e-2 there (320 of its 25,600 weights
# moved in opposite directions). A different algorithm (another beta1, loss or layer) is O(1).
UPDATE_RTOL = 5e-2


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    rng = np.random.default_rng(0)
    steps = batches((rng.uniform(-1, 1, size=(32, 784)).astype(np.float32),
                     rng.normal(size=(32, 100)).astype(np.float32)) for _ in range(STEPS))
    workdir = tmp_path_factory.mktemp('mnist')
    settings = {'parameters': {'dropout': 0.0}}
    reference = probe(LESSON, REFERENCE, ['train'], workdir, steps, **settings)
    start = {**numbered('start_G', unnumbered('G', reference)),
             **numbered('start_D', unnumbered('D', reference))}
    return {REFERENCE: reference,
            **{fw: probe(LESSON, fw, ['train'], workdir, {**steps, **start}, **settings)
               for fw in OTHERS}}


def test_architecture_and_initialisation_match(runs):
    shapes = {fw: {name: [p.shape for p in unnumbered(name, run)] for name in ['G', 'D']}
              for fw, run in runs.items()}
    assert shapes[REFERENCE]['G'] == [(100, 256), (256,), (256, 512), (512,),
                                      (512, 1024), (1024,), (1024, 784), (784,)]
    assert shapes[REFERENCE]['D'] == [(784, 512), (512,), (512, 256), (256,),
                                      (256, 128), (128,), (128, 1), (1,)]
    for framework in OTHERS:
        assert shapes[framework] == shapes[REFERENCE], framework
    for framework, run in runs.items():
        for name in ['G', 'D']:
            for value in unnumbered(name, run):
                if value.size >= 256:
                    assert abs(value.std() - 0.02) < 0.003, (framework, name, value.shape)
                    assert abs(value.mean()) < 0.004, (framework, name, value.shape)
                # a zero-initialised bias (the reference's defect) would fail here
                assert np.count_nonzero(value) > 0.99 * value.size, (framework, name, value.shape)


def test_ten_steps_agree_across_frameworks(runs):
    reference = runs[REFERENCE]
    ref_outputs = reference['outputs']  # per step: loss_D, D(x), D(G(z)), loss_G
    start = unnumbered('G', reference) + unnumbered('D', reference)
    ref_params = unnumbered('final_G', reference) + unnumbered('final_D', reference)
    assert ref_outputs.shape == (STEPS, 4)
    assert not np.allclose(ref_params[0], start[0], rtol=1e-2)  # training moved G
    assert ref_outputs[-1, 1] > ref_outputs[-1, 2]  # D already prefers real images
    worst_outputs = worst_update = 0.0
    for framework in OTHERS:
        run = runs[framework]
        outputs = run['outputs']
        params = unnumbered('final_G', run) + unnumbered('final_D', run)
        np.testing.assert_allclose(outputs, ref_outputs, rtol=RTOL, err_msg=framework)
        worst_outputs = max(worst_outputs,
                            float(np.max(np.abs(outputs - ref_outputs) / np.abs(ref_outputs))))
        assert len(params) == len(ref_params), framework
        for index, (got, want, begin) in enumerate(zip(params, ref_params, start)):
            update_gap = np.linalg.norm(got - want) / np.linalg.norm(want - begin)
            assert update_gap < UPDATE_RTOL, (framework, index, got.shape, update_gap)
            worst_update = max(worst_update, float(update_gap))
    print(f'after {STEPS} steps: losses and D(x) within {worst_outputs:.1e} (relative), '
          f'parameter updates within {worst_update:.1e} of their norm')
