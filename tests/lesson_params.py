"""Read and write a lesson network's dense-layer parameters the same way in every framework."""


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
