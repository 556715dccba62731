"""Can every framework train with a gradient penalty (WGAN-GP)? The penalty
mean((|grad_x f(x)| - 1)^2) is differentiated with respect to the critic's weights, which
takes the gradient of a gradient. Each framework differentiates it for a small ReLU critic
(2 -> 16 -> 1) with the same weights and inputs; NumPy computes the exact answer, which for
a ReLU network has a closed form (the unit's on/off mask is constant almost everywhere).

PyTorch and TensorFlow get it right. MXNet 1.9.1 refuses the second derivative of its
LeakyReLU, Activation and scalar-multiply operators, and for Dense -> relu -> Dense, which
it accepts, it silently returns zero for the last layer's weights: a gradient penalty in
MXNet would train a different critic. This is why the book's remedies for unstable
training cannot rely on a gradient penalty in every tab (issue 30).
"""
import json
import subprocess

import numpy as np
import pytest

from bookbuild import FRAMEWORKS, environments
from bookbuild.execute import checked_env

RNG = np.random.default_rng(0)
W1 = RNG.normal(0, 0.5, (2, 16)).astype('float32')  # (inputs, units), as Keras keeps it
B1 = RNG.normal(0, 0.5, 16).astype('float32')
W2 = RNG.normal(0, 0.5, (16, 1)).astype('float32')
B2 = RNG.normal(0, 0.5, 1).astype('float32')
X = RNG.normal(0, 1, (32, 2)).astype('float32')

SETUP = f"""
import json, numpy
W1, B1, W2, B2, X = (numpy.array(a, dtype='float32') for a in json.loads({json.dumps(
    [W1.tolist(), B1.tolist(), W2.tolist(), B2.tolist(), X.tolist()])!r}))
"""
# Each prints the penalty's gradients [W1, b1, W2, b2], kernels as (inputs, units).
PENALTY_GRADIENTS = {
    'pytorch': """
import torch
first, last = torch.nn.Linear(2, 16), torch.nn.Linear(16, 1)
with torch.no_grad():
    for layer, w, b in ((first, W1, B1), (last, W2, B2)):
        layer.weight.copy_(torch.tensor(w.T)); layer.bias.copy_(torch.tensor(b))
x = torch.tensor(X, requires_grad=True)
(g,) = torch.autograd.grad(last(torch.relu(first(x))).sum(), x, create_graph=True)
((g.norm(dim=1) - 1) ** 2).mean().backward()
grads = [first.weight.grad.T, first.bias.grad, last.weight.grad.T,
         last.bias.grad if last.bias.grad is not None else torch.zeros(1)]
print(json.dumps([p.tolist() for p in grads]))
""",
    'tensorflow': """
import tensorflow as tf
params = [tf.Variable(a) for a in (W1, B1, W2, B2)]
x = tf.constant(X)
with tf.GradientTape() as outer:
    with tf.GradientTape() as inner:
        inner.watch(x)
        y = tf.nn.relu(x @ params[0] + params[1]) @ params[2] + params[3]
    g = inner.gradient(y, x)
    penalty = tf.reduce_mean((tf.norm(g, axis=1) - 1) ** 2)
grads = outer.gradient(penalty, params, unconnected_gradients='zero')
print(json.dumps([p.numpy().tolist() for p in grads]))
""",
    'mxnet': """
from d2lshim import mxnet as d2l  # NumPy 1.24+ compatibility for MXNet 1.9.1
from mxnet import autograd, np, npx
from mxnet.gluon import nn
npx.set_np()
first, last = nn.Dense(16, in_units=2), nn.Dense(1, in_units=16)
for layer, w, b in ((first, W1, B1), (last, W2, B2)):
    layer.initialize()
    layer.weight.set_data(np.array(w.T)); layer.bias.set_data(np.array(b))
x = np.array(X)
x.attach_grad()
with autograd.record():
    y = last(npx.relu(first(x)))
    (g,) = autograd.grad(y, [x], head_grads=np.ones_like(y), create_graph=True,
                         retain_graph=True)
    g = g.as_np_ndarray()
    penalty = ((np.sqrt((g ** 2).sum(axis=1)) - 1) ** 2).mean()
penalty.backward()
grads = [first.weight.grad().T, first.bias.grad(), last.weight.grad().T, last.bias.grad()]
print(json.dumps([p.asnumpy().tolist() for p in grads]))
""",
}


def exact_penalty_gradients():
    """The penalty's gradients in closed form: grad_x f = W1 (m * w2), m the ReLUs' mask."""
    w2 = W2[:, 0].astype('float64')
    on = (X @ W1 + B1 > 0).astype('float64')                       # (n, 16)
    g = (on * w2) @ W1.T.astype('float64')                          # (n, 2)
    norm = np.linalg.norm(g, axis=1)
    scale = 2 * (norm - 1) / norm / len(X)                          # d penalty / d g, per row
    d_g = scale[:, None] * g                                        # (n, 2)
    d_w1 = d_g.T @ (on * w2)                                        # (2, 16)
    d_w2 = ((on * (d_g @ W1)).sum(axis=0))[:, None]                 # (16, 1)
    return [d_w1, np.zeros(16), d_w2, np.zeros(1)]


def penalty_gradients(framework):
    result = subprocess.run([str(environments.python(framework)), '-c',
                             SETUP + PENALTY_GRADIENTS[framework]],
                            capture_output=True, text=True, env=checked_env(framework))
    assert result.returncode == 0, result.stderr[-3000:]
    return [np.array(grad) for grad in json.loads(result.stdout.strip().splitlines()[-1])]


def test_the_exact_gradients_are_not_trivial():
    d_w1, _, d_w2, _ = exact_penalty_gradients()
    assert np.abs(d_w1).max() > 0.05 and np.abs(d_w2).max() > 0.05


@pytest.mark.parametrize('framework', [f for f in FRAMEWORKS if f != 'mxnet'])
def test_pytorch_and_tensorflow_differentiate_a_gradient_penalty_exactly(framework):
    for got, exact in zip(penalty_gradients(framework), exact_penalty_gradients()):
        np.testing.assert_allclose(got, exact, rtol=1e-4, atol=1e-6)


def test_mxnet_loses_the_last_layers_share_of_a_gradient_penalty():
    d_w1, d_b1, d_w2, d_b2 = penalty_gradients('mxnet')
    exact = exact_penalty_gradients()
    np.testing.assert_allclose(d_w1, exact[0], rtol=1e-4, atol=1e-6)  # right here
    assert np.abs(exact[2]).max() > 0.05 and np.abs(d_w2).max() == 0  # silently zero here


@pytest.mark.parametrize('activation', ['nn.LeakyReLU(0.2)', "nn.Activation('tanh')",
                                        'lambda h: npx.relu(h) * 0.5'])
def test_mxnet_refuses_the_second_derivative_of_common_activations(activation):
    code = SETUP + PENALTY_GRADIENTS['mxnet'].replace(
        'y = last(npx.relu(first(x)))', f'y = last(({activation})(first(x)))')
    result = subprocess.run([str(environments.python('mxnet')), '-c', code],
                            capture_output=True, text=True, env=checked_env('mxnet'))
    assert result.returncode != 0
    assert "is non-differentiable because it didn't register FGradient" in result.stderr
