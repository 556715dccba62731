"""The three tabs of the MNIST lesson are one algorithm: the lesson's own networks, steps,
loss and optimizers, from identical weights on identical batches, with dropout off
(its random masks cannot match across frameworks)."""
import numpy as np
import pytest

from bookbuild import CHAPTERS, FRAMEWORKS
from bookbuild.lessons import lesson_namespace
from lesson_params import get_params, set_params

LESSON = CHAPTERS / 'mnist_gan.md'
STEPS = 10
RTOL = 1e-4
# Parameters are compared by how far each tensor's update differs, relative to the update:
# Adam's first steps are nearly sign(gradient) * lr, so a weight whose gradient cancels
# to rounding noise moves by +lr in one framework and -lr in another. Measured here: at most
# 2e-2 of the update's norm; a different algorithm (another beta1, loss or layer) is O(1).
UPDATE_RTOL = 5e-2


@pytest.fixture(scope='module')
def lessons():
    return {fw: lesson_namespace(LESSON, fw, stop_before='train(', parameters={'dropout': 0.0})
            for fw in FRAMEWORKS}


def test_architecture_and_initialisation_match(lessons):
    shapes = {fw: {name: [p.shape for p in get_params(fw, ns[name])]
                   for name in ['net_G', 'net_D']} for fw, ns in lessons.items()}
    assert shapes['pytorch']['net_G'] == [(100, 256), (256,), (256, 512), (512,),
                                          (512, 1024), (1024,), (1024, 784), (784,)]
    assert shapes['pytorch']['net_D'] == [(784, 512), (512,), (512, 256), (256,),
                                          (256, 128), (128,), (128, 1), (1,)]
    assert shapes['tensorflow'] == shapes['pytorch'] == shapes['mxnet']
    for framework, ns in lessons.items():
        for name in ['net_G', 'net_D']:
            for value in get_params(framework, ns[name]):
                if value.size >= 256:
                    assert abs(value.std() - 0.02) < 0.003, (framework, name, value.shape)
                    assert abs(value.mean()) < 0.004, (framework, name, value.shape)
                # a zero-initialised bias (the reference's defect) would fail here
                assert np.count_nonzero(value) > 0.99 * value.size, (framework, name, value.shape)


def test_ten_steps_agree_across_frameworks(lessons):
    reference = lessons['pytorch']
    init_G = get_params('pytorch', reference['net_G'])
    init_D = get_params('pytorch', reference['net_D'])
    rng = np.random.default_rng(0)
    batches = [(rng.uniform(-1, 1, size=(32, 784)).astype(np.float32),
                rng.normal(size=(32, 100)).astype(np.float32)) for _ in range(STEPS)]
    results = {}
    for framework, ns in lessons.items():
        d2l = ns['d2l']
        set_params(framework, ns['net_G'], init_G)
        set_params(framework, ns['net_D'], init_D)
        outputs = []
        for X, Z in batches:
            X, Z = d2l.tensor(X), d2l.tensor(Z)
            loss_D, D_real, D_fake = ns['update_D'](X, Z, ns['net_D'], ns['net_G'],
                                                    ns['loss'], ns['trainer_D'])
            loss_G = ns['update_G'](Z, ns['net_D'], ns['net_G'], ns['loss'], ns['trainer_G'])
            outputs.append([float(loss_D), float(D_real), float(D_fake), float(loss_G)])
        results[framework] = (np.array(outputs), get_params(framework, ns['net_G']) +
                              get_params(framework, ns['net_D']))
    ref_outputs, ref_params = results['pytorch']
    assert not np.allclose(ref_params[0], init_G[0], rtol=1e-2)  # training moved G
    assert ref_outputs[-1, 1] > ref_outputs[-1, 2]  # D already prefers real images
    worst_outputs = worst_update = 0.0
    for framework in ['tensorflow', 'mxnet']:
        outputs, params = results[framework]
        np.testing.assert_allclose(outputs, ref_outputs, rtol=RTOL, err_msg=framework)
        worst_outputs = max(worst_outputs,
                            float(np.max(np.abs(outputs - ref_outputs) / np.abs(ref_outputs))))
        for index, (got, want, start) in enumerate(zip(params, ref_params, init_G + init_D)):
            update_gap = np.linalg.norm(got - want) / np.linalg.norm(want - start)
            assert update_gap < UPDATE_RTOL, (framework, index, got.shape, update_gap)
            worst_update = max(worst_update, float(update_gap))
    print(f'after {STEPS} steps: losses and D(x) within {worst_outputs:.1e} (relative), '
          f'parameter updates within {worst_update:.1e} of their norm')
