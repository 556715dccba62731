"""Ways for the conditional GAN's discriminator to see the label, side by side.

    .envs/pytorch/bin/python bench/conditional_discriminators.py [--seeds 0 1]
        [--epochs 2]

The conditional lesson's recipe in PyTorch (its generator, batches of 64, Adam 8e-4 with
beta1 0.5, two epochs), with three discriminators: the lesson's projection discriminator;
the plainest alternative, the one-hot label as ten more input channels of 28 x 28 (each
filled with one of the label's numbers); and none at all, the DCGAN's discriminator, which
never sees the label (only the generator does). After every epoch: the share of 2,000 samples (200
of each digit, fixed noise) that the book's classifier reads as the requested digit, and the
lowest share of any one digit. Without the numerics profile: a rough comparison, not the
lesson's numbers. About 45 seconds per epoch and run on 2 cores.
"""
import argparse

import numpy
import torch
from torch import nn

from d2lshim import classifier
from d2lshim import torch as d2l

LATENT, BATCH, LR, BETA1 = 100, 64, 8e-4, 0.5


class BatchNorm(nn.BatchNorm2d):
    """The lesson's: running variance from the biased batch variance."""

    def __init__(self, channels):
        super().__init__(channels, momentum=0.1, eps=1e-5)

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        with torch.no_grad():
            self.running_mean.lerp_(x.mean(dim=(0, 2, 3)), self.momentum)
            self.running_var.lerp_(x.var(dim=(0, 2, 3), correction=0), self.momentum)
        return nn.functional.batch_norm(x, None, None, self.weight, self.bias,
                                        training=True, eps=self.eps)


def init_normal(net):
    for layer in net.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.normal_(layer.bias, 0.0, 0.02)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(LATENT + 10, 64 * 7 * 7, bias=False), nn.Unflatten(1, (64, 7, 7)),
            BatchNorm(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1, bias=False),
            BatchNorm(32), nn.ReLU(),
            nn.Upsample(scale_factor=2), nn.Conv2d(32, 1, 3, padding=1), nn.Tanh())
        init_normal(self)

    def forward(self, Z, Y):
        return self.body(torch.cat([Z, Y], dim=1))


DISCRIMINATORS = {'projection': 'projection (the lesson\'s)',
                  'channels': 'label as ten input channels', 'blind': 'label not seen'}


class Discriminator(nn.Module):
    """`kind`, one of DISCRIMINATORS, says how it sees the label."""

    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.features = nn.Sequential(
            nn.Conv2d(11 if kind == 'channels' else 1, 32, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Flatten())
        self.dense = nn.Linear(64 * 7 * 7, 1)
        if kind == 'projection':
            self.embed = nn.Linear(10, 64 * 7 * 7, bias=False)
        init_normal(self)

    def forward(self, X, Y):
        if self.kind == 'channels':
            planes = Y[:, :, None, None].expand(-1, -1, 28, 28)
            return self.dense(self.features(torch.cat([X, planes], dim=1)))
        if self.kind == 'blind':
            return self.dense(self.features(X))
        features = self.features(X)
        return self.dense(features) + (self.embed(Y) * features).sum(dim=1, keepdim=True)


def agreement_by_epoch(kind, seed, epochs):
    d2l.set_seed(seed)
    train_iter = d2l.load_data_mnist(BATCH)
    net_G, net_D = Generator(), Discriminator(kind)
    loss = nn.BCEWithLogitsLoss()
    adam = dict(lr=LR, betas=(BETA1, 0.999), eps=1e-12, fused=True)
    trainer_D = torch.optim.Adam(net_D.parameters(), **adam)
    trainer_G = torch.optim.Adam(net_G.parameters(), **adam)
    digits = numpy.arange(2000) % 10
    Z_quality = torch.tensor(numpy.random.default_rng(seed).normal(size=(2000, LATENT)),
                             dtype=torch.float32)
    shares = []
    for _ in range(epochs):
        for X, y in train_iter:
            X, Y = X.reshape(-1, 1, 28, 28), nn.functional.one_hot(y, 10).float()
            fake_X = net_G(torch.randn(len(X), LATENT), Y)
            trainer_D.zero_grad()
            real, fake = net_D(X, Y), net_D(fake_X.detach(), Y)
            loss_D = (loss(real, torch.ones_like(real)) + loss(fake, torch.zeros_like(fake))) / 2
            loss_D.backward()
            trainer_D.step()
            trainer_G.zero_grad()
            net_D.requires_grad_(False)
            judged = net_D(fake_X, Y)
            loss(judged, torch.ones_like(judged)).backward()
            net_D.requires_grad_(True)
            trainer_G.step()
        net_G.eval()
        with torch.no_grad():
            images = (net_G(Z_quality, nn.functional.one_hot(torch.tensor(digits), 10).float())
                      .numpy().reshape(-1, 784) + 1) / 2
        net_G.train()
        read_as = classifier.predict(images)[1].argmax(1)
        per_digit = [(read_as[digits == k] == k).mean() for k in range(10)]
        shares.append(((read_as == digits).mean(), min(per_digit)))
    return shares


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--discriminators', nargs='+', choices=DISCRIMINATORS,
                        default=list(DISCRIMINATORS))
    args = parser.parse_args()
    print('| discriminator | seed | ' +
          ' | '.join(f'epoch {e}: all, lowest digit' for e in range(1, args.epochs + 1)) + ' |')
    print('|---|---|' + '---|' * args.epochs)
    for seed in args.seeds:
        for kind in args.discriminators:
            shares = agreement_by_epoch(kind, seed, args.epochs)
            print(f'| {DISCRIMINATORS[kind]} | {seed} | ' +
                  ' | '.join(f'{a:.3f}, {low:.2f}' for a, low in shares) + ' |', flush=True)


if __name__ == '__main__':
    main()
