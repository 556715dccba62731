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


# The DCGAN lesson's parameters in one layout, Keras's: per layer in order, a dense kernel as
# (inputs, outputs), a convolution's as (height, width, inputs, outputs), a transposed
# convolution's as (height, width, outputs, inputs), then its bias; batch normalisation as
# scale, shift, running mean, running variance. PyTorch and MXNet keep feature maps channels
# first, so a dense layer that feeds feature maps (G's first) or reads them (D's last) sees
# its units in another order than Keras's; `_reorder` translates. The maps: the DCGAN
# lesson's G starts from 128 x 7 x 7, its D flattens 128 x 4 x 4 and appends one more unit,
# the minibatch standard deviation, last in every framework; the conditional lesson's
# players use 64 x 7 x 7.
MAPS = [(64, 7, 7), (128, 7, 7), (128, 4, 4)]


def _reorder(kernel, axis, to_channels_last):
    """A dense kernel (inputs, outputs) whose `axis` holds flattened feature maps (and
    perhaps one unit after them), with the maps reordered between channels first and last."""
    size = kernel.shape[axis]
    maps = next((m for m in MAPS if size - int(np.prod(m)) in (0, 1)), None)
    if maps is None:
        return kernel
    channels, height, width = maps
    moved = np.moveaxis(kernel, axis, 0)
    count = channels * height * width
    if to_channels_last:
        head = moved[:count].reshape(channels, height, width, -1).transpose(1, 2, 0, 3)
    else:
        head = moved[:count].reshape(height, width, channels, -1).transpose(2, 0, 1, 3)
    moved = np.concatenate([head.reshape(count, -1), moved[count:]])
    return np.moveaxis(moved, 0, axis)


def _dense_to_common(weight_out_in):
    kernel = weight_out_in.T
    return _reorder(_reorder(kernel, 0, True), 1, True)


def _dense_from_common(kernel):
    return _reorder(_reorder(kernel, 0, False), 1, False).T


def _layers(framework, net):
    """(kind, [parameter handles]) per layer with parameters, in order."""
    if framework == 'pytorch':
        from torch import nn
        kinds = {nn.Linear: 'dense', nn.Conv2d: 'conv', nn.ConvTranspose2d: 'conv',
                 nn.BatchNorm2d: 'norm'}
        return [(kind, [t for t in (m.weight, m.bias) if t is not None] +
                 ([m.running_mean, m.running_var] if kind == 'norm' else []))
                for m in net.modules() for cls, kind in kinds.items() if isinstance(m, cls)]
    if framework == 'tensorflow':
        layers = [layer for layer in net.layers if layer.weights]
        # Keras lists a functional model's layers by depth, which puts the conditional
        # discriminator's label embedding (a dense layer with 10 inputs) before its output
        # layer; the common layout, like the other frameworks' order, has it last.
        layers.sort(key=lambda layer: tuple(layer.weights[0].shape) == (10, 3136))
        return [(type(layer).__name__, layer.weights) for layer in layers]
    kinds = {'Dense': 'dense', 'Conv2D': 'conv', 'Conv2DTranspose': 'conv',
             'BatchNorm': 'norm'}

    def blocks(parent):  # depth first, in the order the children were added
        for block in parent._children.values():
            if type(block).__name__ in kinds:
                yield block
            else:
                yield from blocks(block)
    return [(kinds[type(block).__name__], list(block.collect_params().values()))
            for block in blocks(net)]


def dcgan_params(framework, net):
    params = []
    for kind, handles in _layers(framework, net):
        if framework == 'tensorflow':
            params += [h.numpy().copy() for h in handles]
            continue
        values = [h.detach().numpy() if framework == 'pytorch' else h.data().asnumpy()
                  for h in handles]
        if kind == 'dense':
            values[0] = _dense_to_common(values[0])
        elif kind == 'conv':  # (out or in, in or out, h, w) -> (h, w, ., .)
            values[0] = values[0].transpose(2, 3, 1, 0)
        params += [v.copy() for v in values]
    return params


def set_dcgan_params(framework, net, params):
    params = list(params)
    for kind, handles in _layers(framework, net):
        values = [params.pop(0) for _ in handles]
        if framework == 'tensorflow':
            for handle, value in zip(handles, values):
                handle.assign(value)
            continue
        if kind == 'dense':
            values[0] = _dense_from_common(values[0])
        elif kind == 'conv':
            values[0] = values[0].transpose(3, 2, 0, 1)
        for handle, value in zip(handles, values):
            if framework == 'pytorch':
                import torch
                with torch.no_grad():
                    handle.copy_(torch.tensor(np.ascontiguousarray(value)))
            else:
                from mxnet import np as mnp
                handle.set_data(mnp.array(np.ascontiguousarray(value)))
    assert not params, f'{len(params)} parameters left over'


def dcgan_train(ns, framework, inputs):
    """The DCGAN lesson's networks' starting parameters (G0.., D0..); then, from the
    parameters in `inputs` (start_G0.., start_D0..) if given, one `train_step` per batch
    (X0.., Z0..): what it returns per step (outputs), G's parameters after the first step
    (first_G0..) and both networks' after the last, running statistics included (final_G0..,
    final_D0..). Then G's parameters are set to `inputs`' sample_G0.. if given, and G draws
    from the batches' noise with the lesson's `generate`, in inference mode (generated), and
    in training mode, with batch statistics, from the last batch's noise (train_mode_G)."""
    d2l, net_G, net_D = ns['d2l'], ns['net_G'], ns['net_D']
    result = {**_numbered('G', dcgan_params(framework, net_G)),
              **_numbered('D', dcgan_params(framework, net_D))}
    if 'start_G0' in inputs:
        set_dcgan_params(framework, net_G, _unnumbered('start_G', inputs))
        set_dcgan_params(framework, net_D, _unnumbered('start_D', inputs))
    outputs = []
    for X, Z in zip(_unnumbered('X', inputs), _unnumbered('Z', inputs)):
        X, Z = ns['as_images'](d2l.tensor(X)), d2l.tensor(Z)
        returned = ns['train_step'](X, Z, net_D, net_G, ns['loss'], ns['trainer_D'],
                                    ns['trainer_G'])
        outputs.append([float(value) for value in returned])
        if len(outputs) == 1:
            result.update(_numbered('first_G', dcgan_params(framework, net_G)))
    result['outputs'] = np.array(outputs)
    result.update(_numbered('final_G', dcgan_params(framework, net_G)))
    result.update(_numbered('final_D', dcgan_params(framework, net_D)))
    if 'sample_G0' in inputs:
        set_dcgan_params(framework, net_G, _unnumbered('sample_G', inputs))
    Zs = _unnumbered('Z', inputs)
    result['generated'] = ns['generate'](net_G, d2l.tensor(np.concatenate(Zs)))
    result['train_mode_G'] = _train_mode_output(framework, net_G, d2l.tensor(Zs[-1]))
    return result


def _train_mode_output(framework, net_G, Z):
    """G(Z) with batch statistics, as (n, 28, 28), without changing G's running ones."""
    if framework == 'pytorch':
        import torch
        saved = [b.clone() for b in net_G.buffers()]
        with torch.no_grad():
            out = net_G(Z).numpy()
        for b, value in zip(net_G.buffers(), saved):
            b.copy_(value)
    elif framework == 'tensorflow':
        saved = [w.numpy() for w in net_G.non_trainable_weights]
        out = net_G(Z, training=True).numpy()
        for w, value in zip(net_G.non_trainable_weights, saved):
            w.assign(value)
    else:
        from mxnet import autograd
        params = [p for p in net_G.collect_params().values() if p.grad_req == 'null']
        saved = [p.data().copy() for p in params]
        with autograd.train_mode():
            out = net_G(Z).asnumpy()
        for p, value in zip(params, saved):
            p.set_data(value)
    return out.reshape(-1, 28, 28)


def failures_train(ns, framework, inputs):
    """The training-failures lesson's fresh networks' parameters (G0.., D0..); then, from the
    parameters in `inputs` (start_G0.., start_D0..) if given, one plain update_D and update_G
    per batch (X0.., Z0..), returning their losses (outputs) and the parameters after the last
    (final_G0.., final_D0..); then, from the same start, one update_critic (with the mixing
    weights M0..) and one update_G_wgan per batch (wgan_outputs, wgan_G0.., wgan_D0..). Also
    the written-out input gradient of the start critic at X0 (input_gradient) and what
    point_gradients reports for it at G(Z0) (point_gradients)."""
    d2l = ns['d2l']
    fresh_G, fresh_D = ns['generator'](), ns['discriminator']()
    result = {**_numbered('G', get_params(framework, fresh_G)),
              **_numbered('D', get_params(framework, fresh_D))}
    start_G = _unnumbered('start_G', inputs) or _unnumbered('G', result)
    start_D = _unnumbered('start_D', inputs) or _unnumbered('D', result)
    Xs = [d2l.tensor(X) for X in _unnumbered('X', inputs)]
    Zs = [d2l.tensor(Z) for Z in _unnumbered('Z', inputs)]
    Ms = [d2l.tensor(M) for M in _unnumbered('M', inputs)]

    def started(beta2):
        net_G, net_D = ns['generator'](), ns['discriminator']()
        set_params(framework, net_G, start_G)
        set_params(framework, net_D, start_D)
        return net_G, net_D, ns['adam'](net_D, beta2), ns['adam'](net_G, beta2)

    net_G, net_D, trainer_D, trainer_G = started(ns['beta2'])
    result['input_gradient'] = d2l.numpy(ns['input_gradient'](net_D, Xs[0]))
    result['point_gradients'] = np.array(ns['point_gradients'](net_D, net_G(Zs[0])))
    outputs = []
    for X, Z in zip(Xs, Zs):
        outputs.append([float(ns['update_D'](X, Z, net_D, net_G, ns['loss'], trainer_D)),
                        float(ns['update_G'](Z, net_D, net_G, ns['loss'], trainer_G))])
    result['outputs'] = np.array(outputs)
    result.update(_numbered('final_G', get_params(framework, net_G)))
    result.update(_numbered('final_D', get_params(framework, net_D)))

    net_G, net_D, trainer_D, trainer_G = started(ns['wgan_beta2'])
    outputs = []
    for X, Z, M in zip(Xs, Zs, Ms):
        estimate, penalty = ns['update_critic'](X, Z, M, net_D, net_G, trainer_D)
        loss_G = ns['update_G_wgan'](Z, net_D, net_G, trainer_G)
        outputs.append([float(estimate), float(penalty), float(loss_G)])
    result['wgan_outputs'] = np.array(outputs)
    result.update(_numbered('wgan_G', get_params(framework, net_G)))
    result.update(_numbered('wgan_D', get_params(framework, net_D)))
    return result


def conditional_train(ns, framework, inputs):
    """The conditional lesson's networks' starting parameters (G0.., D0..), in the DCGAN
    layout; then, from the parameters in `inputs` (start_G0.., start_D0..) if given, one
    `train_step` per batch (X0.., Z0.., digits y0..): what it returns per step (outputs) and
    both networks' parameters after the last (final_G0.., final_D0..). Then, with G and D
    set to `inputs`' sample_G0.. and sample_D0.. if given: the lesson's `generate` for the
    noise Z0 asking for every digit in turn (generated), and D's logits for the real images
    X0 paired with each of the ten digits (judged, shape (10, n))."""
    d2l, net_G, net_D = ns['d2l'], ns['net_G'], ns['net_D']
    result = {**_numbered('G', dcgan_params(framework, net_G)),
              **_numbered('D', dcgan_params(framework, net_D))}
    if 'start_G0' in inputs:
        set_dcgan_params(framework, net_G, _unnumbered('start_G', inputs))
        set_dcgan_params(framework, net_D, _unnumbered('start_D', inputs))
    outputs = []
    for X, Z, y in zip(*(_unnumbered(name, inputs) for name in 'XZy')):
        X, Z = ns['as_images'](d2l.tensor(X)), d2l.tensor(Z)
        Y = ns['one_hot'](d2l.tensor(y, 'int64'))
        returned = ns['train_step'](X, Y, Z, net_D, net_G, ns['loss'], ns['trainer_D'],
                                    ns['trainer_G'])
        outputs.append([float(value) for value in returned])
    result['outputs'] = np.array(outputs)
    result.update(_numbered('final_G', dcgan_params(framework, net_G)))
    result.update(_numbered('final_D', dcgan_params(framework, net_D)))
    if 'sample_G0' in inputs:
        set_dcgan_params(framework, net_G, _unnumbered('sample_G', inputs))
        set_dcgan_params(framework, net_D, _unnumbered('sample_D', inputs))
    Z, X = inputs['Z0'], inputs['X0']
    result['generated'] = np.stack([ns['generate'](net_G, d2l.tensor(Z), np.full(len(Z), k))
                                    for k in range(10)])
    images = ns['as_images'](d2l.tensor(X))
    judged = []
    for k in range(10):
        Y = ns['one_hot'](d2l.tensor(np.full(len(X), k), 'int64'))
        logits = net_D([images, Y]) if framework == 'tensorflow' else net_D(images, Y)
        judged.append(d2l.numpy(logits).reshape(-1))
    result['judged'] = np.array(judged)
    return result
