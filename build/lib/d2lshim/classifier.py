"""The MNIST classifier behind the sample-quality metrics, and the command that trains it.

    python -m d2lshim.classifier      # retrain (PyTorch, deterministic, about 90 s)

A small CNN: conv 3x3 (32) - ReLU - max-pool 2, conv 3x3 (64) - ReLU - max-pool 2,
dense 128 - ReLU, dense 10. Its weights ship next to this file (mnist_classifier.npz);
inference is plain NumPy, so the metrics need no framework.
"""
import functools
import hashlib
import sys
from pathlib import Path

import numpy as np

from d2lshim.data import load_mnist

WEIGHTS = Path(__file__).with_name('mnist_classifier.npz')
# Pins the weights: checked on load, and part of the book's notebook cache key.
WEIGHTS_SHA256 = '27a03946dbefe3124cf65e87ada446733fc5be819cadd473de1d1ed621621d21'
SEED, EPOCHS, BATCH_SIZE, LR, LR_DECAY = 0, 5, 128, 1e-3, 0.7  # per epoch
INFERENCE_BATCH = 500


def _conv3x3_relu_pool(x, weight, bias):
    """x (n, c, h, w) -> relu(conv(x)) max-pooled 2x2, with 'same' padding (im2col)."""
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
    columns = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, c * 9)
    out = columns @ weight.reshape(len(weight), -1).T + bias
    out = np.maximum(out, 0).reshape(n, h, w, -1).transpose(0, 3, 1, 2)
    return out.reshape(n, -1, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def predict(images, weights=None):
    """(features (n, 128), class probabilities (n, 10)) for images (n, 784) in [0, 1]."""
    params = weights or _stored_weights()
    features, probabilities = [], []
    for start in range(0, len(images), INFERENCE_BATCH):
        x = np.asarray(images[start:start + INFERENCE_BATCH], dtype=np.float32)
        x = (x.reshape(-1, 1, 28, 28) - 0.5) / 0.5
        x = _conv3x3_relu_pool(x, params['conv1.weight'], params['conv1.bias'])
        x = _conv3x3_relu_pool(x, params['conv2.weight'], params['conv2.bias'])
        hidden = np.maximum(x.reshape(len(x), -1) @ params['fc1.weight'].T + params['fc1.bias'], 0)
        logits = hidden @ params['fc2.weight'].T + params['fc2.bias']
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        features.append(hidden)
        probabilities.append(p / p.sum(1, keepdims=True))
    return np.concatenate(features), np.concatenate(probabilities)


@functools.lru_cache(maxsize=1)
def _stored_weights():
    return load_weights()


def load_weights():
    if not WEIGHTS.exists():
        raise FileNotFoundError(f'{WEIGHTS} is missing: run `python -m d2lshim.classifier` '
                                'to train the classifier (about 90 s)')
    actual = hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()
    if actual != WEIGHTS_SHA256:
        raise ValueError(f'{WEIGHTS} has sha256 {actual}, expected {WEIGHTS_SHA256}: it is '
                         'corrupt or was retrained. Restore it with git, or after retraining '
                         'put the new checksum in WEIGHTS_SHA256.')
    with np.load(WEIGHTS) as stored:
        return {name: stored[name] for name in stored.files}


def train(log=print):
    """Train the classifier deterministically with PyTorch and save its weights."""
    import torch
    from torch import nn

    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    net = nn.Sequential()
    net.add_module('conv1', nn.Conv2d(1, 32, 3, padding=1))
    net.add_module('relu1', nn.ReLU())
    net.add_module('pool1', nn.MaxPool2d(2))
    net.add_module('conv2', nn.Conv2d(32, 64, 3, padding=1))
    net.add_module('relu2', nn.ReLU())
    net.add_module('pool2', nn.MaxPool2d(2))
    net.add_module('flatten', nn.Flatten())
    net.add_module('fc1', nn.Linear(64 * 7 * 7, 128))
    net.add_module('relu3', nn.ReLU())
    net.add_module('fc2', nn.Linear(128, 10))
    images, labels = load_mnist(train=True)
    X = (torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 255 - 0.5) / 0.5
    y = torch.tensor(labels, dtype=torch.int64)
    trainer = torch.optim.Adam(net.parameters(), lr=LR)
    schedule = torch.optim.lr_scheduler.StepLR(trainer, step_size=1, gamma=LR_DECAY)
    loss = nn.CrossEntropyLoss()
    for epoch in range(EPOCHS):
        order = torch.randperm(len(X))
        for start in range(0, len(X), BATCH_SIZE):
            rows = order[start:start + BATCH_SIZE]
            trainer.zero_grad()
            loss(net(X[rows]), y[rows]).backward()
            trainer.step()
        schedule.step()
        log(f'epoch {epoch + 1} done')
    weights = {name: value.detach().numpy() for name, value in net.state_dict().items()}
    test_images, test_labels = load_mnist(train=False)
    _, probabilities = predict(test_images.reshape(-1, 784) / 255, weights)
    accuracy = float((probabilities.argmax(1) == test_labels).mean())
    tmp = WEIGHTS.with_name(WEIGHTS.stem + '.tmp.npz')
    np.savez(tmp, **weights)
    tmp.replace(WEIGHTS)
    log(f'test accuracy {accuracy:.4f}; weights written to {WEIGHTS}; their sha256, for '
        f'WEIGHTS_SHA256: {hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()}')
    return accuracy


if __name__ == '__main__':
    sys.exit(0 if train() >= 0.99 else 1)
