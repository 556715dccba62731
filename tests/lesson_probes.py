"""Runs inside a framework's kernel, after a lesson's own cells up to its training loop
(`cross_framework.probe` appends the call): exercises the lesson's networks, steps and
optimizers and returns arrays, which the tests compare across frameworks."""
import numpy as np


# Parameters in a common layout: per dense layer, the kernel as (inputs, outputs) and the bias.
def get_params(framework, net):
    if framework == 'pytorch':
        return [p.detach().numpy().T.copy() for p in net.parameters()]
    if framework == 'tensorflow':
        return [w.copy() for w in net.get_weights()]
    return [p.data().asnumpy().T.copy() for p in net.collect_params().values()]


def set_params(framework, net, params):
    if framework == 'pytorch':
        import torch
        with torch.no_grad():
            for p, value in zip(net.parameters(), params):
                p.copy_(torch.tensor(value.T))
    elif framework == 'tensorflow':
        net.set_weights(params)
    else:
        from mxnet import np as mnp
        for p, value in zip(net.collect_params().values(), params):
            p.set_data(mnp.array(value.T.copy()))


def _numbered(prefix, arrays):
    return {f'{prefix}{i}': a for i, a in enumerate(arrays)}


def _unnumbered(prefix, data):
    return [data[f'{prefix}{i}'] for i in range(sum(k.startswith(prefix) and
                                                    k[len(prefix):].isdigit() for k in data))]


def train(ns, framework, inputs):
    """The networks' starting parameters (G0.., D0..); then, from the parameters in
    `inputs` (start_G0.., start_D0..) if given, one step of the lesson's update_D and
    update_G per batch (X0.., Z0..): the numbers they return per step (outputs) and the
    parameters after the last (final_G0.., final_D0..)."""
    d2l, net_G, net_D = ns['d2l'], ns['net_G'], ns['net_D']
    result = {**_numbered('G', get_params(framework, net_G)),
              **_numbered('D', get_params(framework, net_D))}
    if 'start_G0' in inputs:
        set_params(framework, net_G, _unnumbered('start_G', inputs))
        set_params(framework, net_D, _unnumbered('start_D', inputs))
    outputs = []
    for X, Z in zip(_unnumbered('X', inputs), _unnumbered('Z', inputs)):
        X, Z = d2l.tensor(X), d2l.tensor(Z)
        from_D = ns['update_D'](X, Z, net_D, net_G, ns['loss'], ns['trainer_D'])
        from_G = ns['update_G'](Z, net_D, net_G, ns['loss'], ns['trainer_G'])
        from_D = from_D if isinstance(from_D, tuple) else (from_D,)
        outputs.append([float(value) for value in (*from_D, from_G)])
    result['outputs'] = np.array(outputs)
    result.update(_numbered('final_G', get_params(framework, net_G)))
    result.update(_numbered('final_D', get_params(framework, net_D)))
    return result


def wide_layer(ns, framework, inputs):
    """A 200 x 200 dense layer initialised by the Gaussian lesson's own code: its weight
    and bias, enough values for statistics."""
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
    return {'wide_weight': weight, 'wide_bias': bias}
