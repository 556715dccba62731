"""The three tabs of the Gaussian lesson are one algorithm: run the lesson's own code in
each framework from identical weights on identical batches, and compare."""
import numpy as np
import pytest

from bookbuild import CHAPTERS, FRAMEWORKS
from bookbuild.lessons import lesson_namespace
from lesson_params import get_params, set_params

LESSON = CHAPTERS / 'gaussian_gan.md'
STEPS = 10
RTOL = 1e-4


@pytest.fixture(scope='module')
def lessons():
    """Each framework's lesson namespace, just before training starts."""
    return {fw: lesson_namespace(LESSON, fw, stop_before='train(') for fw in FRAMEWORKS}


def test_every_weight_and_bias_starts_from_n_0_002(lessons):
    for framework, ns in lessons.items():
        for name in ['net_G', 'net_D']:
            params = get_params(framework, ns[name])
            assert len(params) == (2 if name == 'net_G' else 6), (framework, name)
            for value in params:
                # a zero-initialised bias (the defect of the reference) would fail here
                assert np.all(value != 0), (framework, name, value)
        pooled = np.concatenate([p.ravel() for name in ['net_G', 'net_D']
                                 for p in get_params(framework, ns[name])])
        assert 0.012 < pooled.std() < 0.028, (framework, pooled.std())
        assert abs(pooled.mean()) < 0.01, (framework, pooled.mean())


def test_lesson_layers_draw_biases_like_weights(lessons):
    """The lesson's own initialisation code, on a layer large enough for statistics."""
    stds = {}
    for framework, ns in lessons.items():
        if framework == 'pytorch':
            import torch
            layer = torch.nn.Linear(200, 200)
            ns['init_normal'](layer)
            weight, bias = layer.weight.detach().numpy(), layer.bias.detach().numpy()
        elif framework == 'tensorflow':
            layer = ns['dense'](200)
            layer.build((None, 200))
            weight, bias = (v.numpy() for v in layer.weights)
        else:
            layer = ns['dense'](200, 200)
            layer.initialize()
            weight, bias = layer.weight.data().asnumpy(), layer.bias.data().asnumpy()
        stds[framework] = (weight.std(), bias.std())
        assert abs(weight.std() - 0.02) < 0.001, (framework, stds)
        assert abs(bias.std() - 0.02) < 0.004, (framework, stds)
        assert len(np.unique(bias)) == 200, framework  # not one repeated draw


def test_ten_steps_agree_across_frameworks(lessons):
    reference = lessons['pytorch']
    init_G = get_params('pytorch', reference['net_G'])
    init_D = get_params('pytorch', reference['net_D'])
    rng = np.random.default_rng(0)
    batches = [(rng.normal(size=(8, 2)).astype(np.float32) @ [[1, 2], [-0.1, 0.5]] + [1, 2],
                rng.normal(size=(8, 2)).astype(np.float32)) for _ in range(STEPS)]
    results = {}
    for framework, ns in lessons.items():
        d2l = ns['d2l']
        set_params(framework, ns['net_G'], init_G)
        set_params(framework, ns['net_D'], init_D)
        losses = []
        for X, Z in batches:
            X, Z = d2l.tensor(X), d2l.tensor(Z)
            loss_D = float(ns['update_D'](X, Z, ns['net_D'], ns['net_G'], ns['loss'],
                                          ns['trainer_D']))
            loss_G = float(ns['update_G'](Z, ns['net_D'], ns['net_G'], ns['loss'],
                                          ns['trainer_G']))
            losses.append((loss_D, loss_G))
        results[framework] = (np.array(losses), get_params(framework, ns['net_G']),
                              get_params(framework, ns['net_D']))
    ref_losses, ref_G, ref_D = results['pytorch']
    assert not np.allclose(ref_G[0], init_G[0], rtol=1e-2)  # training did move G
    worst = 0.0
    for framework in ['tensorflow', 'mxnet']:
        losses, params_G, params_D = results[framework]
        np.testing.assert_allclose(losses, ref_losses, rtol=RTOL, err_msg=framework)
        for got, want in zip(params_G + params_D, ref_G + ref_D):
            # Relative to the tensor's scale too: an element that passes near zero has no
            # meaningful relative error of its own.
            scale = np.abs(want).max()
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL * scale,
                                       err_msg=framework)
            worst = max(worst, float(np.max(np.abs(got - want) / np.maximum(np.abs(want),
                                                                             scale))))
        worst = max(worst, float(np.max(np.abs(losses - ref_losses) / np.abs(ref_losses))))
    print(f'largest relative difference after {STEPS} steps: {worst:.2e}')
