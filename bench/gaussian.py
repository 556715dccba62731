"""Training throughput of the Gaussian GAN lesson, every framework side by side.

    .venv/bin/python bench/gaussian.py [--epochs 3] [--repeats 3]

Each framework runs the lesson's own code (its networks, update_D, update_G, loss,
optimizers and d2lshim loader) over the lesson's data, in its own environment and
without the numerics profile (bench/lesson_kernels.py); the reference is a plain PyTorch
loop written the way the reference document writes it (DataLoader over a TensorDataset,
labels built per step), run in PyTorch's. Examples/sec is the median over repeats of
`--epochs` epochs, after one warm-up epoch. Plotting is excluded everywhere, as in the
lesson's own timer.
"""
import argparse
import statistics
import time


def lesson_epoch(ns):
    d2l, update_D, update_G = ns['d2l'], ns['update_D'], ns['update_G']
    net_D, net_G, loss = ns['net_D'], ns['net_G'], ns['loss']
    metric = d2l.Accumulator(3)
    for (X,) in ns['data_iter']:
        Z = d2l.normal(0.0, 1.0, (X.shape[0], ns['latent_dim']))
        metric.add(update_D(X, Z, net_D, net_G, loss, ns['trainer_D']),
                   update_G(Z, net_D, net_G, loss, ns['trainer_G']), X.shape[0])
    return metric[2]


def reference_epoch_factory(data, batch_size, latent_dim, lr_D, lr_G):
    """The reference document's PyTorch training code, as written there."""
    import torch
    from torch import nn

    def update_D(X, Z, net_D, net_G, loss, trainer_D):
        batch_size = X.shape[0]
        ones = torch.ones((batch_size,), device=X.device)
        zeros = torch.zeros((batch_size,), device=X.device)
        trainer_D.zero_grad()
        real_Y = net_D(X)
        fake_X = net_G(Z)
        fake_Y = net_D(fake_X.detach())
        loss_D = (loss(real_Y, ones.reshape(real_Y.shape)) +
                  loss(fake_Y, zeros.reshape(fake_Y.shape))) / 2
        loss_D.backward()
        trainer_D.step()
        return loss_D

    def update_G(Z, net_D, net_G, loss, trainer_G):
        batch_size = Z.shape[0]
        ones = torch.ones((batch_size,), device=Z.device)
        trainer_G.zero_grad()
        fake_X = net_G(Z)
        fake_Y = net_D(fake_X)
        loss_G = loss(fake_Y, ones.reshape(fake_Y.shape))
        loss_G.backward()
        trainer_G.step()
        return loss_G

    net_G = nn.Sequential(nn.Linear(2, 2))
    net_D = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 3), nn.Tanh(),
                          nn.Linear(3, 1))
    for w in list(net_D.parameters()) + list(net_G.parameters()):
        nn.init.normal_(w, 0, 0.02)
    loss = nn.BCEWithLogitsLoss(reduction='sum')
    trainer_D = torch.optim.Adam(net_D.parameters(), lr=lr_D)
    trainer_G = torch.optim.Adam(net_G.parameters(), lr=lr_G)
    data_iter = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data),
                                            batch_size, shuffle=True)

    def epoch():
        total = [0.0, 0.0, 0]
        for (X,) in data_iter:
            batch_size = X.shape[0]
            Z = torch.normal(0, 1, size=(batch_size, latent_dim))
            total[0] += float(update_D(X, Z, net_D, net_G, loss, trainer_D))
            total[1] += float(update_G(Z, net_D, net_G, loss, trainer_G))
            total[2] += batch_size
        return total[2]
    return epoch


def throughput(epoch, epochs, repeats):
    epoch()  # warm-up: tracing, graph building, allocator
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        examples = sum(epoch() for _ in range(epochs))
        rates.append(examples / (time.perf_counter() - started))
    return statistics.median(rates)


def measure(ns, framework, label, epochs, repeats):
    """In a framework's lesson kernel: examples/sec of the lesson's loop, and in PyTorch's
    also of the reference loop."""
    rates = {}
    if framework == 'pytorch':
        rates['reference loop (PyTorch)'] = throughput(
            reference_epoch_factory(ns['data'], ns['batch_size'], ns['latent_dim'],
                                    ns['lr_D'], ns['lr_G']), epochs, repeats)
    rates[f'lesson, {label}'] = throughput(lambda: lesson_epoch(ns), epochs, repeats)
    return {'batch_size': ns['batch_size'], 'rates': rates}


def main():
    from bookbuild import CHAPTERS
    from lesson_kernels import measure_in_lessons

    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    measured = measure_in_lessons(CHAPTERS / 'gaussian_gan.md', 'gaussian', 'measure',
                                  epochs=args.epochs, repeats=args.repeats)
    rates = {name: rate for result in measured.values() for name, rate in result['rates'].items()}
    reference = rates['reference loop (PyTorch)']
    print(f'Gaussian GAN, batch {measured["pytorch"]["batch_size"]}, {args.epochs} epochs x '
          f'{args.repeats} repeats (median), each framework in its own environment')
    print(f'{"loop":28s} {"examples/sec":>13s} {"vs reference":>13s}')
    for name, rate in sorted(rates.items(), key=lambda item: not item[0].startswith('ref')):
        print(f'{name:28s} {rate:13.0f} {rate / reference:12.2f}x')


if __name__ == '__main__':
    main()
