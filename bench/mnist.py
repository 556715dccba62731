"""Training throughput of the MNIST GAN lesson, every framework side by side with a plain
PyTorch reference loop and with this machine's matmul peak.

    .venv/bin/python bench/mnist.py [--steps 100] [--repeats 3] [--compare-profile]

Each framework runs the lesson's own code (networks, update_D, update_G, loss, optimizers,
d2lshim loader and noise) on MNIST, in its own environment, without the numerics profile
unless compared with it (bench/lesson_kernels.py). The reference is a plain PyTorch loop
written like the reference documents: batch 100, Adam 2e-4, the larger discriminator
(1024, 512, 256), real and generated batches through D separately, a DataLoader over a
TensorDataset; it and the matmul peak are measured in PyTorch's environment.
Examples/sec is the median over repeats of `--steps` training steps, after a warm-up.
GFLOP/s counts the multiply-adds of the dense layers that each loop actually computes.
"""
import argparse
import statistics
import time

LESSON_G = [100, 256, 512, 1024, 784]
LESSON_D = [784, 512, 256, 128, 1]
REFERENCE_D = [784, 1024, 512, 256, 1]


def dense_flops(sizes):
    """FLOPs of one forward pass of one example through dense layers of these sizes."""
    return sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def step_flops(G, D, D_weight_grads_in_G_step):
    """FLOPs per real example of one D step and one G step (backward = 2x forward)."""
    first_D = 2 * D[0] * D[1]  # no gradient is needed w.r.t. real pixels
    first_G = 2 * G[0] * G[1]  # nor w.r.t. the noise
    d_step = dense_flops(G) + 2 * dense_flops(D) + 2 * dense_flops(D) + \
        2 * (dense_flops(D) - first_D)
    g_step = dense_flops(G) + dense_flops(D) + dense_flops(D) + \
        (dense_flops(D) if D_weight_grads_in_G_step else 0) + \
        2 * dense_flops(G) - first_G
    return d_step + g_step


def matmul_peak(n=2048, seconds=3.0):
    import torch
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    started, count = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        a @ b
        count += 1
    return 2 * n ** 3 * count / (time.perf_counter() - started) / 1e9


def lesson_steps(ns):
    d2l, update_D, update_G = ns['d2l'], ns['update_D'], ns['update_G']
    net_D, net_G, loss = ns['net_D'], ns['net_G'], ns['loss']
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
            loss_D, D_real, D_fake = update_D(X, Z, net_D, net_G, loss, ns['trainer_D'])
            loss_G = update_G(Z, net_D, net_G, loss, ns['trainer_G'])
            float(loss_D), float(D_real), float(D_fake), float(loss_G)  # as the lesson does
            examples += X.shape[0]
        return examples
    return run


def reference_steps(images):
    """A plain PyTorch loop in the style of the reference documents."""
    import torch
    from torch import nn

    def mlp(sizes, out):
        layers = []
        for a, b in zip(sizes[:-2], sizes[1:-1]):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
            if out is None:
                layers.append(nn.Dropout(0.3))
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        return nn.Sequential(*layers, *([out] if out else []))

    net_G, net_D = mlp(LESSON_G, nn.Tanh()), mlp(REFERENCE_D, None)
    loss = nn.BCEWithLogitsLoss()
    trainer_G = torch.optim.Adam(net_G.parameters(), lr=2e-4)
    trainer_D = torch.optim.Adam(net_D.parameters(), lr=2e-4)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images), 100,
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
            trainer_D.zero_grad()
            real_loss = loss(net_D(X), torch.ones(n, 1))
            fake = net_G(torch.randn(n, 100))
            fake_loss = loss(net_D(fake.detach()), torch.zeros(n, 1))
            loss_D = real_loss + fake_loss
            loss_D.backward()
            trainer_D.step()
            trainer_G.zero_grad()
            loss_G = loss(net_D(net_G(torch.randn(n, 100))), torch.ones(n, 1))
            loss_G.backward()
            trainer_G.step()
            loss_D.item(), loss_G.item()
            examples += n
        return examples
    return run


def throughput(run, steps, repeats):
    run(10)  # warm-up: tracing, graph building, allocator
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        examples = run(steps)
        rates.append(examples / (time.perf_counter() - started))
    return statistics.median(rates)


def measure(ns, framework, label, steps, repeats):
    """In a framework's lesson kernel: [(loop, examples/s, FLOPs per example)] of the
    lesson's loop, and in PyTorch's also of the reference loop, with the matmul peak."""
    result = {'batch_size': ns['batch_size'], 'rows': []}
    if framework == 'pytorch':
        import torch
        assert [ns['latent_dim']] + [p.shape[0] for p in ns['net_G'].parameters()][1::2] == \
            LESSON_G
        assert [784] + [p.shape[0] for p in ns['net_D'].parameters()][1::2] == LESSON_D
        images = torch.cat([X for X, _ in ns['d2l'].load_data_mnist(1000, train=True)])
        result['peak'] = matmul_peak()
        result['threads'] = torch.get_num_threads()
        result['rows'].append(('reference loop (PyTorch)',
                               throughput(reference_steps(images), steps, repeats),
                               step_flops(LESSON_G, REFERENCE_D, True)))
    result['rows'].append((f'lesson, {label}', throughput(lesson_steps(ns), steps, repeats),
                           step_flops(LESSON_G, LESSON_D, framework == 'mxnet')))
    if framework == 'pytorch':
        result['peak'] = max(result['peak'], matmul_peak())  # before and after, same load
    return result


def measure_all(args, settings):
    from bookbuild import CHAPTERS
    from lesson_kernels import measure_in_lessons
    measured = measure_in_lessons(CHAPTERS / 'mnist_gan.md', 'mnist', 'measure',
                                  settings=settings, steps=args.steps, repeats=args.repeats)
    torch_run = measured['pytorch']
    rows = [row for result in measured.values() for row in result['rows']]
    return torch_run, sorted(rows, key=lambda row: not row[0].startswith('reference'))


def compare_profile(args):
    """Measure every loop without and with the numerics profile, side by side."""
    from lesson_kernels import with_profile, without_profile
    measured = {name: measure_all(args, settings) for name, settings in
                [('default', without_profile), ('profile', with_profile)]}
    print(f'MNIST GAN examples/s, {args.steps} steps x {args.repeats} repeats (median), '
          f'without and with the numerics profile (python -m bookbuild profile FRAMEWORK)')
    print(f'{"loop":26s} {"default":>9s} {"profile":>9s} {"ratio":>6s}')
    for (name, fast, _), (_, slow, _) in zip(measured['default'][1], measured['profile'][1]):
        print(f'{name:26s} {fast:9.0f} {slow:9.0f} {slow / fast:6.2f}')
    fast, slow = measured['default'][0]['peak'], measured['profile'][0]['peak']
    print(f'{"matmul peak, GFLOP/s":26s} {fast:9.0f} {slow:9.0f} {slow / fast:6.2f}')


def main():
    from lesson_kernels import without_profile
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--steps', type=int, default=100)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--compare-profile', action='store_true',
                        help='measure without and with the numerics profile, side by side')
    args = parser.parse_args()
    if args.compare_profile:
        return compare_profile(args)
    torch_run, rows = measure_all(args, without_profile)
    peak = torch_run['peak']
    reference = rows[0][1]
    best = max(rate for _, rate, _ in rows[1:])
    print(f'MNIST GAN, lesson batch {torch_run["batch_size"]}, {args.steps} steps '
          f'x {args.repeats} repeats (median); matmul peak {peak:.0f} GFLOP/s '
          f'({torch_run["threads"]} threads, 2048x2048 float32)')
    print(f'{"loop":26s} {"examples/s":>10s} {"vs ref":>7s} {"vs best":>8s} '
          f'{"MFLOP/ex":>9s} {"GFLOP/s":>8s} {"of peak":>8s}')
    for name, rate, flops in rows:
        gflops = rate * flops / 1e9
        print(f'{name:26s} {rate:10.0f} {rate / reference:6.2f}x {rate / best:7.2f}x '
              f'{flops / 1e6:9.1f} {gflops:8.0f} {gflops / peak:7.0%}')


if __name__ == '__main__':
    main()
