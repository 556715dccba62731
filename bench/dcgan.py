"""Training throughput of the DCGAN lesson (chapters/dcgan.md), every framework side by side
with a plain PyTorch loop of the same architecture and with this machine's matmul peak.

    .venv/bin/python bench/dcgan.py [--steps 30] [--repeats 3] [--no-profile]

Each framework runs the lesson's own code (networks, train_step, loss, optimizers, d2lshim
loader and noise) on MNIST in its own environment, under the numerics profile, as the
build runs it; `--no-profile` measures as a reader's own run does (bench/lesson_kernels.py).
The plain loop is the lesson's architecture written the usual way: PyTorch's own
BatchNorm2d, a DataLoader over a TensorDataset, one generator pass per step. Examples/sec
is the median over repeats of `--steps` steps of batch 64 (the lesson's), after a warm-up.
GFLOP/s counts the multiply-adds of the layers each loop computes (backward = twice the
forward, less the gradients nobody asks for).
"""
import argparse

from mnist import matmul_peak, throughput

BATCH = 64  # the lesson's
# (multiply-adds of one example's forward pass, of which in the first layer) per network
G_MACS = (100 * 6272 + 49 * 128 * 64 * 16 + 784 * 64 * 9, 100 * 6272)
D_MACS = (196 * 32 * 16 + 49 * 64 * 32 * 16 + 16 * 128 * 64 * 9 + 2049, 196 * 32 * 16)


def step_flops():
    """FLOPs per real example of one train_step: G's pass; D forward and backward on the
    real and the generated batch (no gradient for the real pixels or into G); D forward
    again and backward to its input only (its weights are frozen); G's backward (no
    gradient for the noise)."""
    (g, g_first), (d, d_first) = G_MACS, D_MACS
    d_step = 2 * d + 2 * (2 * d - d_first)
    g_step = d + d + (2 * g - g_first)
    return 2 * (g + d_step + g_step)


def lesson_steps(ns):
    d2l, train_step = ns['d2l'], ns['train_step']
    args = (ns['net_D'], ns['net_G'], ns['loss'], ns['trainer_D'], ns['trainer_G'])
    batches = iter(ns['train_iter'])

    def run(steps):
        nonlocal batches
        examples = 0
        for _ in range(steps):
            try:
                X, _ = next(batches)
            except StopIteration:
                batches = iter(ns['train_iter'])
                X, _ = next(batches)
            Z = d2l.normal(0.0, 1.0, (X.shape[0], ns['latent_dim']))
            values = train_step(ns['as_images'](X), Z, *args)
            [float(v) for v in values]  # as the lesson does
            examples += X.shape[0]
        return examples
    return run


def plain_steps(images):
    """The lesson's architecture as a plain PyTorch loop."""
    import torch
    from torch import nn

    class MinibatchStd(nn.Module):
        def forward(self, H):
            return torch.cat([H, H.std(dim=0, correction=0).mean().expand(len(H), 1)], 1)

    net_G = nn.Sequential(
        nn.Linear(100, 128 * 7 * 7, bias=False), nn.Unflatten(1, (128, 7, 7)),
        nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Upsample(scale_factor=2), nn.Conv2d(64, 1, 3, 1, 1), nn.Tanh())
    net_D = nn.Sequential(
        nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 3, 2, 1), nn.LeakyReLU(0.2),
        nn.Flatten(), MinibatchStd(), nn.Linear(128 * 4 * 4 + 1, 1))
    loss = nn.BCEWithLogitsLoss()
    trainer_G = torch.optim.Adam(net_G.parameters(), lr=8e-4, betas=(0.5, 0.999))
    trainer_D = torch.optim.Adam(net_D.parameters(), lr=8e-4, betas=(0.5, 0.999))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images), BATCH,
                                         shuffle=True)
    batches = iter(loader)

    def run(steps):
        nonlocal batches
        examples = 0
        for _ in range(steps):
            try:
                (X,) = next(batches)
            except StopIteration:
                batches = iter(loader)
                (X,) = next(batches)
            n = X.shape[0]
            fake = net_G(torch.randn(n, 100))
            trainer_D.zero_grad()
            loss_D = (loss(net_D(X), torch.ones(n, 1)) +
                      loss(net_D(fake.detach()), torch.zeros(n, 1))) / 2
            loss_D.backward()
            trainer_D.step()
            trainer_G.zero_grad()
            loss_G = loss(net_D(fake), torch.ones(n, 1))
            loss_G.backward()
            trainer_G.step()
            loss_D.item(), loss_G.item()
            examples += n
        return examples
    return run


def measure(ns, framework, label, steps, repeats):
    """In a framework's lesson kernel: [(loop, examples/s)] of the lesson's loop, and in
    PyTorch's also of the plain loop, with the matmul peak before and after."""
    assert ns['batch_size'] == BATCH
    result = {'rows': []}
    if framework == 'pytorch':
        import torch
        images = torch.cat([X for X, _ in ns['d2l'].load_data_mnist(1000, train=True)])
        result['peak'] = matmul_peak()
        result['threads'] = torch.get_num_threads()
        result['rows'].append(('plain loop (PyTorch)',
                               throughput(plain_steps(images.reshape(-1, 1, 28, 28)),
                                          steps, repeats)))
    result['rows'].append((f'lesson, {label}', throughput(lesson_steps(ns), steps, repeats)))
    if framework == 'pytorch':
        result['peak'] = max(result['peak'], matmul_peak())
    return result


def main():
    from bookbuild import CHAPTERS
    from lesson_kernels import measure_in_lessons, with_profile, without_profile
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--steps', type=int, default=30)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--no-profile', dest='profile', action='store_false',
                        help="measure without the numerics profile, as a reader's own run")
    args = parser.parse_args()
    settings = with_profile if args.profile else without_profile
    measured = measure_in_lessons(CHAPTERS / 'dcgan.md', 'dcgan', 'measure',
                                  settings=settings, steps=args.steps, repeats=args.repeats)
    rows = [row for result in measured.values() for row in result['rows']]
    rows.sort(key=lambda row: not row[0].startswith('plain'))
    peak, flops, plain = measured['pytorch']['peak'], step_flops(), rows[0][1]
    print(f'DCGAN lesson, batch {BATCH}, {args.steps} steps x {args.repeats} repeats (median), '
          f'{"with" if args.profile else "without"} the numerics profile; matmul peak '
          f'{peak:.0f} GFLOP/s ({measured["pytorch"]["threads"]} threads, 2048x2048 float32); '
          f'{flops / 1e6:.1f} MFLOP per example')
    print(f'{"loop":24s} {"examples/s":>10s} {"vs plain":>9s} {"s/epoch":>8s} '
          f'{"GFLOP/s":>8s} {"of peak":>8s}')
    for name, rate in rows:
        gflops = rate * flops / 1e9
        print(f'{name:24s} {rate:10.0f} {rate / plain:8.2f}x {60000 / rate:8.0f} '
              f'{gflops:8.1f} {gflops / peak:7.1%}')


if __name__ == '__main__':
    main()
