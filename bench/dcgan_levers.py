"""What each well-known lever buys the DCGAN lesson's first recipe, over its four epochs:
classifier Fréchet distance and classes covered after every epoch, over several seeds. The
lesson took its present networks from here (`width_G=2,conv_D=1,mbstd=1`).

    .venv/bin/python bench/dcgan_levers.py [--seeds 0 1 2] [--epochs 4] [--jobs 2]
        --lever NAME=SETTINGS [--lever ...]

A lever is a name and comma-separated settings that change the lesson's first recipe (the
`small` recipe of bench/quality_per_minute.py, in PyTorch under the numerics profile):

    lr_D=, lr_G=     the players' learning rates (the lesson's: 8e-4 both); unequal is TTUR
    beta2=           Adam's beta2 (0.999)
    decay=           none | last (linear to zero over the last epoch) | all (linear to zero
                     over the run)
    ema=             the decay of an exponential moving average of the generator's weights
                     and running statistics, which then draws the samples (0: none); a
                     second row gives the trained generator's own distances, which are those of
                     the same lever without `ema=`
    width_G=, width_D=
                     multiply the players' channel counts (1)
    sn=              1: spectral normalisation of every discriminator layer (0)
    r1=              gamma of the R1 penalty, gamma/2 * |grad_x D(x)|^2 on real images,
                     every step (0: none)
    loss=            bce (the lesson's) | hinge (the discriminator's hinge, the generator's
                     -D(G(z)))
    info=            lambda of InfoGAN's categorical code (0: none): the generator gets a
                     uniformly drawn one-hot code of 10 values beside its 100 noise inputs,
                     a linear head on the discriminator's features guesses the code of fake
                     images, and lambda times that guess's cross-entropy is added to both
                     players' losses
    hidden_D=        a hidden layer of that many units (leaky ReLU) between the
                     discriminator's flattened features and its output (0: none), so that
                     its verdict is no longer a sum of what it sees in each patch
    conv_D=          1: a third convolution in the discriminator (3x3, stride 2, twice the
                     feature maps, leaky ReLU: 4x4 positions that each see 18x18 pixels) (0)
    pack=            the discriminator judges that many images at once, stacked as channels
                     (PacGAN's packing), so that it sees how alike they are (1)
    mbstd=           1: the discriminator's flattened features gain one more, their
                     standard deviation across the batch averaged over features (the
                     minibatch standard deviation of progressive GANs) (0)

    e.g. --lever lesson= --lever decay-last=decay=last --lever ttur=lr_D=1.6e-3,lr_G=4e-4

The evaluation chapter's first table: --lever lesson= --lever decay-all=decay=all
--lever decay-last=decay=last --lever ema=ema=0.995 --lever ttur=lr_D=1.6e-3
--lever r1=r1=10 --lever sn=sn=1 --lever wide-G=width_G=2; its second: --seeds 0
--lever wide-D=width_D=2 --lever wide=width_G=2,width_D=2 --lever G3=width_G=3
--lever G2-D0.5=width_G=2,width_D=0.5 --lever wide-G-r1=width_G=2,r1=10
--lever r1-small=r1=1 --lever sn-hinge=sn=1,loss=hinge; its twelve epochs of the wider
generator: --epochs 12 --lever wide-G-ema=width_G=2,ema=0.999
--lever wide-G-decay=width_G=2,decay=all and --epochs 12 --seeds 0 1
--lever wide-ema=width_G=2,width_D=2,ema=0.999; its table of discriminators: --seeds 0
--lever wide-G-hidden=width_G=2,hidden_D=256 --lever
wide-G-hidden-mbstd=width_G=2,hidden_D=256,mbstd=1 --lever wide-G-conv3=width_G=2,conv_D=1
and --lever wide-G-conv3-mbstd=width_G=2,conv_D=1,mbstd=1 (seeds 0 1 2); their twelve
epochs: --epochs 12 --lever
wide-G-conv3-mbstd-ema=width_G=2,conv_D=1,mbstd=1,ema=0.999; its table of packing and
InfoGAN's code: --epochs 6 --lever deep-D-info=width_G=2,conv_D=1,mbstd=1,info=1
--lever deep-D-pac2=width_G=2,conv_D=1,mbstd=1,pack=2

Two more distances say where the rest of the gap lies: `balanced`, after every epoch (a
row of its own) and in the last epoch's columns, the same samples reweighted to the test
set's balance of digits (by the classifier's reading, each digit resampled to its test
count), and `batch stats`, after the last epoch, samples drawn with the batch's statistics
(1,000 at a time) instead of the running ones.

The measure is per epoch, not per minute: a lever that costs time per step says so in its
examples per second. Every run computes on one thread, so its numbers do not depend on
--jobs, the number of runs side by side (two on a 2-core machine); their examples per
second are comparable only with each other's.
"""
import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

DEFAULTS = dict(lr_D=8e-4, lr_G=8e-4, beta2=0.999, decay='none', ema=0.0, width_G=1.0,
                width_D=1.0, sn=0, r1=0.0, loss='bce', info=0.0, hidden_D=0,
                conv_D=0, pack=1, mbstd=0)
CHOICES = dict(decay=('none', 'last', 'all'), loss=('bce', 'hinge'))


def parse_lever(text):
    name, _, settings = text.partition('=')
    lever = dict(DEFAULTS)
    for item in filter(None, settings.split(',')):
        key, _, value = item.partition('=')
        if key not in DEFAULTS:
            raise SystemExit(f'--lever {text}: unknown setting {key!r}; '
                             f'known: {", ".join(DEFAULTS)}')
        if value not in CHOICES.get(key, [value]):
            raise SystemExit(f'--lever {text}: {key} must be one of {", ".join(CHOICES[key])}')
        lever[key] = type(DEFAULTS[key])(value)
    if lever['info'] and lever['pack'] > 1:
        raise SystemExit(f'--lever {text}: info= guesses the code of each image, pack= '
                         'judges images together; use one of them')
    return name, lever


def networks(lever):
    """(generator, discriminator, the head that guesses InfoGAN's code or None, batch size,
    Adam's settings) of the small recipe changed by `lever`, drawn from torch's
    generator as it stands."""
    import torch
    from torch import nn
    from quality_per_minute import build

    net_G, net_D, batch, adam = build('small', lever['width_G'], lever['width_D'])

    def normal(*layers):  # the lesson's initialisation, of weights and biases
        for layer in layers:
            nn.init.normal_(layer.weight, 0, 0.02), nn.init.normal_(layer.bias, 0, 0.02)
        return layers[0] if len(layers) == 1 else layers

    class MinibatchStd(nn.Module):
        def forward(self, H):  # the features' spread across the batch, appended to each
            return torch.cat([H, H.std(dim=0, correction=0).mean().expand(len(H), 1)], 1)

    maps = net_D[2].out_channels
    if lever['conv_D']:
        net_D = nn.Sequential(*net_D[:4], normal(nn.Conv2d(maps, 2 * maps, 3, 2, 1)),
                              nn.LeakyReLU(0.2), nn.Flatten(),
                              normal(nn.Linear(2 * maps * 16, 1)))
    if lever['hidden_D']:
        units = lever['hidden_D']
        net_D = nn.Sequential(*net_D[:-1], normal(nn.Linear(net_D[-1].in_features, units)),
                              nn.LeakyReLU(0.2), normal(nn.Linear(units, 1)))
    if lever['pack'] > 1:
        first = net_D[0]
        net_D[0] = normal(nn.Conv2d(lever['pack'], first.out_channels, first.kernel_size,
                                    first.stride, first.padding))
    if lever['sn']:
        for layer in net_D:
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                nn.utils.parametrizations.spectral_norm(layer)
    codes = 10 if lever['info'] else 0
    if codes:  # the generator's first layer takes the code too; a head guesses it
        first = net_G[0]
        net_G[0] = nn.Linear(100 + codes, first.out_features, bias=False)
        nn.init.normal_(net_G[0].weight, 0, 0.02)
    if lever['mbstd']:  # one more feature after flattening, and one more input after it
        at = next(i for i, layer in enumerate(net_D) if isinstance(layer, nn.Flatten)) + 1
        after = net_D[at]
        net_D = nn.Sequential(*net_D[:at], MinibatchStd(),
                              normal(nn.Linear(after.in_features + 1, after.out_features)),
                              *net_D[at + 1:])
    guess = normal(nn.Linear(net_D[-1].in_features, codes)) if codes else None
    adam = {**adam, 'betas': (adam['betas'][0], lever['beta2'])}
    return net_G, net_D, guess, batch, adam


def worker(lever, seed, epochs):
    import copy
    import math
    import numpy
    import torch
    from torch import nn
    from d2lshim import classifier, metrics
    from d2lshim.data import load_mnist

    torch.manual_seed(seed)
    net_G, net_D, guess, batch, adam = networks(lever)
    codes = 0 if guess is None else guess.out_features
    guess = nn.Identity() if guess is None else guess
    body, head = net_D[:-1], net_D[-1]
    parameters_D = list(net_D.parameters()) + list(guess.parameters())
    trainer_D = torch.optim.Adam(parameters_D, **{**adam, 'lr': lever['lr_D']})
    trainer_G = torch.optim.Adam(net_G.parameters(), **{**adam, 'lr': lever['lr_G']})
    bce = nn.BCEWithLogitsLoss()
    images, _ = load_mnist(train=True)
    X_all = torch.tensor(images, dtype=torch.float32).reshape(-1, 1, 28, 28) / 127.5 - 1
    steps_per_epoch = math.ceil(len(X_all) / batch)
    total = steps_per_epoch * epochs
    average = copy.deepcopy(net_G) if lever['ema'] else None

    def factor(step):  # of the learning rate, at `step` (0-based) of `total`
        if lever['decay'] == 'last':
            return min(1.0, (total - step) / steps_per_epoch)
        if lever['decay'] == 'all':
            return (total - step) / total
        return 1.0

    def loss_D_of(real_out, fake_out):
        if lever['loss'] == 'hinge':
            return (torch.relu(1 - real_out).mean() + torch.relu(1 + fake_out).mean()) / 2
        return (bce(real_out, torch.ones_like(real_out)) +
                bce(fake_out, torch.zeros_like(fake_out))) / 2

    def loss_G_of(out):
        return -out.mean() if lever['loss'] == 'hinge' else bce(out, torch.ones_like(out))

    def latent(n):
        Z = torch.randn(n, 100)
        if not codes:  # the lesson's noise alone, and no more random numbers drawn
            return Z, None
        code = torch.randint(codes, (n,))
        return torch.cat([Z, nn.functional.one_hot(code, codes).float()], 1), code

    def features(X):  # of images packed `pack` at a time
        return body(X.reshape(-1, lever['pack'], *X.shape[2:]))

    def train_step(X):
        Z, code = latent(len(X))
        fake = net_G(Z)
        trainer_D.zero_grad()
        X.requires_grad_(lever['r1'] > 0)
        real_out, fake_features = head(features(X)), features(fake.detach())
        fake_out = head(fake_features)
        loss_D = loss_D_of(real_out, fake_out)
        if lever['r1']:
            grad, = torch.autograd.grad(real_out.sum(), X, create_graph=True)
            loss_D = loss_D + lever['r1'] / 2 * grad.square().sum(dim=(1, 2, 3)).mean()
        if codes:
            loss_D = loss_D + lever['info'] * nn.functional.cross_entropy(
                guess(fake_features), code)
        loss_D.backward()
        trainer_D.step()
        trainer_G.zero_grad()
        for net in (net_D, guess):
            net.requires_grad_(False)
        fake_features = features(fake)
        loss_G = loss_G_of(head(fake_features))
        if codes:
            loss_G = loss_G + lever['info'] * nn.functional.cross_entropy(
                guess(fake_features), code)
        loss_G.backward()
        for net in (net_D, guess):
            net.requires_grad_(True)
        trainer_G.step()

    def samples(net, running=True):
        kept = copy.deepcopy(net.state_dict())  # batch statistics update the running ones
        net.train(not running)
        with torch.no_grad():
            out = torch.cat([net(latent(1000)[0]) for _ in range(10)])
        net.train()
        net.load_state_dict(kept)
        return (out.reshape(-1, 784).numpy() + 1) / 2

    test_features, test_probabilities = classifier.predict(
        metrics.mnist_unit_images(train=False))

    def balanced(images):
        """Fréchet distance of `images` resampled to the test set's count of each digit."""
        features, probabilities = classifier.predict(images)
        digits, wanted = probabilities.argmax(1), test_probabilities.argmax(1)
        if len(set(digits)) < 10:
            return float('nan')  # a digit never drawn cannot be reweighted
        rng = numpy.random.default_rng(0)
        picked = [rng.choice(numpy.flatnonzero(digits == d), (wanted == d).sum())
                  for d in range(10)]
        return metrics.frechet_distance(features[numpy.concatenate(picked)], test_features)

    step, trained = 0, 0.0
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(X_all))
        for start in range(0, len(X_all), batch):
            began = time.perf_counter()
            for trainer, lr in [(trainer_D, lever['lr_D']), (trainer_G, lever['lr_G'])]:
                for group in trainer.param_groups:
                    group['lr'] = lr * factor(step)
            train_step(X_all[order[start:start + batch]])
            if average is not None:
                with torch.no_grad():
                    for mine, live in zip(average.state_dict().values(),
                                          net_G.state_dict().values()):
                        if mine.is_floating_point():
                            mine.lerp_(live, 1 - lever['ema'])
            trained += time.perf_counter() - began
            step += 1
        if average is not None:  # the trained generator too, from the same noise, which
            noise = torch.get_rng_state()  # leaves the run as it would be without the average
            live = metrics.evaluate(samples(net_G), parzen_protocol=False)['frechet']
            torch.set_rng_state(noise)
        images = samples(average or net_G)
        result = metrics.evaluate(images, parzen_protocol=False)
        row = {'epoch': epoch, 'frechet': result['frechet'], 'covered': result['covered'],
               'rate': step * batch / trained, 'balanced': balanced(images)}
        if average is not None:
            row['live'] = live
        if epoch == epochs:
            row['batch_stats'] = metrics.evaluate(samples(average or net_G, running=False),
                                                  parzen_protocol=False)['frechet']
        print(json.dumps(row), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--lever', action='append', required=True, type=parse_lever)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, default=4)
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(json.loads(args.worker), args.seeds[0], args.epochs)
    from bookbuild import environments
    from bookbuild.execute import checked_env, kernel_env

    settings = {**checked_env('pytorch'), 'OMP_NUM_THREADS': '1'}
    python, env = str(environments.python('pytorch')), kernel_env(settings)

    def run(name, lever, seed):
        out = subprocess.run([python, __file__, '--worker', json.dumps(lever), '--seeds',
                              str(seed), '--epochs', str(args.epochs), '--lever', name],
                             env=env, capture_output=True, text=True)
        if out.returncode:
            sys.exit(f'{name}, seed {seed}: failed\n{out.stderr[-2000:]}')
        return [json.loads(line) for line in out.stdout.splitlines()]

    jobs = [(name, lever, seed) for name, lever in args.lever for seed in args.seeds]
    print('| lever | seed | ' + ' | '.join(f'epoch {e}' for e in range(1, args.epochs + 1)) +
          ' | classes | balanced | batch stats | examples/s |', flush=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        for (name, lever, seed), rows in zip(jobs, pool.map(lambda j: run(*j), jobs)):
            print(f'| {name} | {seed} | ' + ' | '.join(f'{r["frechet"]:.1f}' for r in rows) +
                  f' | {rows[-1]["covered"]} | {rows[-1]["balanced"]:.1f} '
                  f'| {rows[-1]["batch_stats"]:.1f} | {rows[-1]["rate"]:,.0f} |', flush=True)
            print(f'| {name}, balanced | {seed} | ' +
                  ' | '.join(f'{r["balanced"]:.1f}' for r in rows) + ' | | | | |', flush=True)
            if 'live' in rows[-1]:
                print(f'| {name}, live weights | {seed} | ' +
                      ' | '.join(f'{r["live"]:.1f}' for r in rows) + ' | | | | |', flush=True)


if __name__ == '__main__':
    main()
