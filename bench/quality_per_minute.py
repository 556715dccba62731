"""The digits a CPU-minute buys: the DCGAN lesson's recipe, and the smaller one it grew from,
against the published MNIST DCGAN recipes, trained one after another on this machine for the
same training time.

    .venv/bin/python bench/quality_per_minute.py [--minutes 1 2 5 10 20] [--seeds 0 1 2]
        [--recipes lesson small small-wide-G tf-tutorial pytorch-example]
        [--parzen] [--out PREFIX]
    .venv/bin/python bench/quality_per_minute.py --plot PREFIX

The reference framework is PyTorch: every recipe is written here in PyTorch and trains in
PyTorch's environment under the numerics profile, on MNIST in [-1, 1] with its own batch
size, reshuffled every epoch. The recipes, as their sources state them:

- `small`: the DCGAN lesson's first networks: 7x7x64 dense start, one 4x4 transposed
  convolution and an upsampled 3x3 convolution; a discriminator of two 4x4 strided
  convolutions and a dense layer; batches of 64; Adam 8e-4, beta1 0.5.
- `small-wide-G`: the same with twice the generator's feature maps (128 at 7x7, 64 at
  14x14), the one change bench/dcgan_levers.py found to help by much.
- `lesson`: chapters/dcgan.md (its PyTorch tab): the wider generator against a
  discriminator with a third convolution and the minibatch standard deviation
  (bench/dcgan_levers.py's `width_G=2,conv_D=1,mbstd=1`), the same recipe otherwise.
- `tf-tutorial`: TensorFlow's DCGAN tutorial (tensorflow.org/tutorials/generative/dcgan):
  7x7x256 dense start, 5x5 transposed convolutions, Keras's default initialisation and
  batch normalisation, leaky ReLU (slope 0.3), a discriminator with dropout 0.3; batches of
  256; Adam 1e-4 for both; both players' gradients from the same forward pass.
- `pytorch-example`: PyTorch's DCGAN example (github.com/pytorch/examples, dcgan/main.py),
  MNIST resized to 64x64 as it does: ngf = ndf = 64, 4x4 (transposed) convolutions,
  batch normalisation in both players; batches of 64; Adam 2e-4, beta1 0.5.

Each run counts only its training steps' time; at every mark of `--minutes` it draws
10,000 samples the way its source draws them (the lesson and the tutorial with the running
statistics, the example with the batch's), shrinks the example's to 28x28, and measures them
with the evaluation chapter's metrics (classifier Fréchet distance, classes covered and,
with `--parzen`, the Parzen log-likelihood, about a minute each). Run it with nothing else
on the machine: the marks are times. With `--out PREFIX` it also writes its rows to
PREFIX.csv and draws them in PREFIX.svg (Fréchet distance against minutes, the seeds'
median and range per recipe, real images as the floor); `--plot PREFIX` redraws the figure
from the CSV. The evaluation chapter's figure and first table: `--recipes small tf-tutorial
pytorch-example --minutes 1 2 5 --seeds 0 1 2 --out chapters/figures/quality_per_minute`
(run before the lesson took its present networks); the figure's curve of the present
networks and the chapter's twenty-minute table: `--recipes lesson --minutes 1 2 5 10 20
--seeds 0 1 2 --out PREFIX`, a later run whose `lesson` rows were appended to that CSV
before `--plot chapters/figures/quality_per_minute`; its table of the wider generator:
`--recipes small small-wide-G --minutes 1 2 5 --seeds 0 1 2`; its table of the deeper
discriminator: `--recipes small lesson --minutes 1 2 5 --seeds 0 1 2`.
"""
import argparse
import csv
import json
import subprocess
import sys
import time

RECIPES = ['lesson', 'small', 'small-wide-G', 'tf-tutorial', 'pytorch-example']
DEEP_D = dict(width_G=2, conv_D=1, mbstd=1)  # bench/dcgan_levers.py's settings
LABELS = {'lesson': "the DCGAN lesson's present networks",
          'small': "the DCGAN lesson's first, smaller networks",
          'small-wide-G': "the lesson's first networks, generator twice as wide",
          'tf-tutorial': "TensorFlow's DCGAN tutorial",
          'pytorch-example': "PyTorch's DCGAN example"}


def build(recipe, width_G=1, width_D=1):
    """(generator, discriminator, batch size, optimizer settings) of `recipe`; the
    discriminator ends in a logit. The widths multiply the small recipe's channel counts."""
    import torch
    from torch import nn

    def initialise(net, weights, biases=nn.init.zeros_, norm_scales=None):
        for layer in net.modules():
            if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                weights(layer.weight)
                if layer.bias is not None:
                    biases(layer.bias)
            elif norm_scales and isinstance(layer, nn.BatchNorm2d):
                norm_scales(layer.weight)
        return net

    def normal(mean=0.0):
        return lambda tensor: nn.init.normal_(tensor, mean, 0.02)

    if recipe == 'small-wide-G':  # twice the generator's feature maps
        return build('small', 2 * width_G, width_D)
    if recipe == 'lesson':  # the small recipe with bench/dcgan_levers.py's best levers
        from dcgan_levers import DEFAULTS, networks
        net_G, net_D, _, batch, adam = networks(dict(DEFAULTS, **DEEP_D))
        return net_G, net_D, batch, adam
    if recipe == 'small':
        class BatchNorm(nn.BatchNorm2d):  # the lesson's: running variance of the biased one
            def forward(self, x):
                if not self.training:
                    return super().forward(x)
                with torch.no_grad():
                    self.running_mean.lerp_(x.mean(dim=(0, 2, 3)), self.momentum)
                    self.running_var.lerp_(x.var(dim=(0, 2, 3), correction=0), self.momentum)
                return nn.functional.batch_norm(x, None, None, self.weight, self.bias,
                                                training=True, eps=self.eps)
        g, d = round(32 * width_G), round(32 * width_D)
        G = nn.Sequential(
            nn.Linear(100, 2 * g * 7 * 7, bias=False), nn.Unflatten(1, (2 * g, 7, 7)),
            BatchNorm(2 * g), nn.ReLU(),
            nn.ConvTranspose2d(2 * g, g, 4, stride=2, padding=1, bias=False),
            BatchNorm(g), nn.ReLU(),
            nn.Upsample(scale_factor=2), nn.Conv2d(g, 1, 3, padding=1), nn.Tanh())
        D = nn.Sequential(
            nn.Conv2d(1, d, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(d, 2 * d, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * d * 7 * 7, 1))
        G, D = (initialise(net, normal(), normal()) for net in (G, D))  # the lesson's
        return G, D, 64, dict(lr=8e-4, betas=(0.5, 0.999), eps=1e-12)
    if recipe == 'tf-tutorial':
        def norm(c):  # Keras's defaults: momentum 0.99, epsilon 1e-3
            return nn.BatchNorm2d(c, momentum=0.01, eps=1e-3)
        same5 = dict(kernel_size=5, stride=2, padding=2, output_padding=1, bias=False)
        G = nn.Sequential(
            nn.Linear(100, 7 * 7 * 256, bias=False), nn.BatchNorm1d(7 * 7 * 256, momentum=0.01,
                                                                    eps=1e-3),
            nn.LeakyReLU(0.3), nn.Unflatten(1, (256, 7, 7)),
            nn.ConvTranspose2d(256, 128, 5, padding=2, bias=False), norm(128), nn.LeakyReLU(0.3),
            nn.ConvTranspose2d(128, 64, **same5), norm(64), nn.LeakyReLU(0.3),
            nn.ConvTranspose2d(64, 1, **same5), nn.Tanh())
        D = nn.Sequential(
            nn.Conv2d(1, 64, 5, stride=2, padding=2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
            nn.Conv2d(64, 128, 5, stride=2, padding=2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
            nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
        G, D = (initialise(net, nn.init.xavier_uniform_) for net in (G, D))  # Keras's
        return G, D, 256, dict(lr=1e-4, betas=(0.9, 0.999), eps=1e-7)
    ngf = ndf = 64
    G = nn.Sequential(
        nn.Unflatten(1, (100, 1, 1)),
        nn.ConvTranspose2d(100, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4),
        nn.ReLU(),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2),
        nn.ReLU(),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(),
        nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(1, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4),
        nn.LeakyReLU(0.2),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8),
        nn.LeakyReLU(0.2),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Flatten())  # its Sigmoid: in the loss
    G, D = (initialise(net, normal(), norm_scales=normal(1.0)) for net in (G, D))  # its own
    return G, D, 64, dict(lr=2e-4, betas=(0.5, 0.999))


def worker(recipe, seed, minutes, parzen):
    """Train `recipe`; at each mark print one JSON line of metrics. Runs in PyTorch's
    environment."""
    import numpy
    import torch
    from torch import nn
    from d2lshim import metrics
    from d2lshim.data import load_mnist

    torch.manual_seed(seed)
    net_G, net_D, batch, adam = build(recipe)
    trainer_G = torch.optim.Adam(net_G.parameters(), **adam)
    trainer_D = torch.optim.Adam(net_D.parameters(), **adam)
    loss = nn.BCEWithLogitsLoss()  # the mean over the batch, in every source
    images, _ = load_mnist(train=True)
    X_all = torch.tensor(images, dtype=torch.float32).reshape(-1, 1, 28, 28) / 127.5 - 1
    size = 64 if recipe == 'pytorch-example' else 28

    def step(X):
        if size != 28:  # the example's Resize(64): bilinear
            X = nn.functional.interpolate(X, size=size, mode='bilinear', antialias=True)
        n = len(X)
        Z = torch.randn(batch if recipe == 'tf-tutorial' else n, 100)
        if recipe == 'tf-tutorial':  # one forward pass, both gradients from it
            fake = net_G(Z)
            real_out, fake_out = net_D(X), net_D(fake)
            loss_D = loss(real_out, torch.ones_like(real_out)) + \
                loss(fake_out, torch.zeros_like(fake_out))
            loss_G = loss(fake_out, torch.ones_like(fake_out))
            grads_G = torch.autograd.grad(loss_G, list(net_G.parameters()), retain_graph=True)
            grads_D = torch.autograd.grad(loss_D, list(net_D.parameters()))
            for params, grads in [(net_G.parameters(), grads_G), (net_D.parameters(), grads_D)]:
                for p, g in zip(params, grads):
                    p.grad = g
            trainer_G.step()
            trainer_D.step()
            return
        fake = net_G(Z)
        trainer_D.zero_grad()
        real_out, fake_out = net_D(X), net_D(fake.detach())
        loss_D = loss(real_out, torch.ones_like(real_out)) + \
            loss(fake_out, torch.zeros_like(fake_out))
        if recipe in ('lesson', 'small', 'small-wide-G'):
            loss_D = loss_D / 2
        loss_D.backward()
        trainer_D.step()
        trainer_G.zero_grad()
        net_D.requires_grad_(False)
        out = net_D(fake)
        loss(out, torch.ones_like(out)).backward()
        net_D.requires_grad_(True)
        trainer_G.step()

    def samples():
        batches = []
        running = recipe != 'pytorch-example'  # the example never calls eval()
        if running:
            net_G.eval()
        with torch.no_grad():
            for _ in range(0, 10000, 1000 if running else batch):
                Z = torch.randn(1000 if running else batch, 100)
                out = net_G(Z)
                if size != 28:
                    out = nn.functional.interpolate(out, size=28, mode='bilinear',
                                                    antialias=True)
                batches.append(out.reshape(-1, 784).numpy())
        net_G.train()
        return (numpy.concatenate(batches)[:10000] + 1) / 2

    marks, trained, seen = sorted(minutes), 0.0, 0
    while marks:
        order = torch.randperm(len(X_all))
        for start in range(0, len(X_all), batch):
            began = time.perf_counter()
            step(X_all[order[start:start + batch]])
            trained += time.perf_counter() - began
            seen += len(order[start:start + batch])
            if trained >= marks[0] * 60:
                result = metrics.evaluate(samples(), parzen_protocol=parzen)
                print(json.dumps({'minutes': marks.pop(0), 'examples': seen,
                                  'frechet': result['frechet'], 'covered': result['covered'],
                                  'parzen': result['parzen']['mean'] if parzen else None}),
                      flush=True)
                if not marks:
                    return


COLUMNS = ['recipe', 'seed', 'minutes', 'examples', 'frechet', 'covered', 'parzen']
REAL = 'real training images'


def plot(prefix):
    """Draw PREFIX.svg from PREFIX.csv: per recipe, the seeds' median Fréchet distance at
    each mark with their range, and the real images' distance as a floor."""
    import matplotlib
    import matplotlib.ticker
    matplotlib.use('svg')
    matplotlib.rcParams['svg.hashsalt'] = 'quality_per_minute'  # the same file every time
    from matplotlib import pyplot as plt

    with open(f'{prefix}.csv', newline='') as file:
        rows = list(csv.DictReader(file))
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for recipe in dict.fromkeys(r['recipe'] for r in rows if r['recipe'] != REAL):
        marks = sorted({float(r['minutes']) for r in rows if r['recipe'] == recipe})
        spread = [sorted(float(r['frechet']) for r in rows
                         if r['recipe'] == recipe and float(r['minutes']) == m) for m in marks]
        middle = [s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
                  for s in spread]
        line, = ax.plot(marks, middle, marker='o',
                        label=f'{LABELS[recipe]} ({len(spread[0])} seeds)')
        ax.fill_between(marks, [s[0] for s in spread], [s[-1] for s in spread],
                        color=line.get_color(), alpha=0.2, linewidth=0)
    floor = [float(r['frechet']) for r in rows if r['recipe'] == REAL]
    ax.axhline(floor[0], color='black', linestyle='--', linewidth=1,
               label=f'{REAL} ({floor[0]:.1f})')
    marks = sorted({float(r['minutes']) for r in rows if r['recipe'] != REAL})
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_xticks(marks, [f'{m:g}' for m in marks])
    ax.set(xlabel='minutes of training (PyTorch, 2-core CPU)',
           ylabel='classifier Fréchet distance')
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())  # only the marks on x
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(fontsize='small', loc='upper center', bbox_to_anchor=(0.5, -0.2))
    fig.savefig(f'{prefix}.svg', metadata={'Date': None}, bbox_inches='tight')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--minutes', type=float, nargs='+', default=[1, 2, 5, 10, 20])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--recipes', nargs='+', choices=RECIPES, default=RECIPES)
    parser.add_argument('--parzen', action='store_true')
    parser.add_argument('--out', metavar='PREFIX', help='also write PREFIX.csv and PREFIX.svg')
    parser.add_argument('--plot', metavar='PREFIX', help='only redraw PREFIX.svg from PREFIX.csv')
    parser.add_argument('--worker', nargs=2, metavar=('RECIPE', 'SEED'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker[0], int(args.worker[1]), args.minutes, args.parzen)
    if args.plot:
        return plot(args.plot)
    from bookbuild import environments  # the tooling environment's, not PyTorch's
    from bookbuild.execute import checked_env, kernel_env

    python, env = str(environments.python('pytorch')), kernel_env(checked_env('pytorch'))
    floor = subprocess.run(
        [python, '-c', 'from d2lshim import metrics; r = metrics.evaluate('
         'metrics.mnist_unit_images(train=True)[:10000], parzen_protocol=False); '
         'print(f"{r[\'frechet\']:.1f} {r[\'covered\']}")'],
        env=env, capture_output=True, text=True, check=True).stdout.split()
    print(f'real training images (10,000): Fréchet {floor[0]}, {floor[1]} classes covered')
    table = [dict(recipe=REAL, frechet=floor[0], covered=floor[1])]
    print('| recipe | seed | minutes | examples seen | Fréchet | classes | Parzen |')
    print('|---|---|---|---|---|---|---|', flush=True)
    for recipe in args.recipes:
        for seed in args.seeds:
            command = [python, __file__, '--worker', recipe, str(seed),
                       '--minutes', *map(str, args.minutes), *(['--parzen'] * args.parzen)]
            run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
            for line in run.stdout:
                r = json.loads(line)
                table.append(dict(recipe=recipe, seed=seed, **r))
                parzen = f'{r["parzen"]:.0f}' if r['parzen'] is not None else '-'
                print(f'| {recipe} | {seed} | {r["minutes"]:g} | {r["examples"]:,} '
                      f'| {r["frechet"]:.1f} | {r["covered"]} | {parzen} |', flush=True)
            if run.wait():
                sys.exit(f'{recipe}, seed {seed}: the run failed (exit status {run.returncode})')
    if args.out:
        with open(f'{args.out}.csv', 'w', newline='') as file:
            writer = csv.DictWriter(file, COLUMNS)
            writer.writeheader()
            writer.writerows(table)
        plot(args.out)


if __name__ == '__main__':
    main()
