"""Which of PyTorch's products and convolutions, at the shapes the lessons use, give other
bits on another CPU: each is hashed natively and on emulated CPUs (QEMU's Haswell and AMD
EPYC-Rome), under MKL settings with and without the library PyTorch's numerics profile
preloads (bookbuild/numerics.py).

    .venv/bin/python bench/pytorch_kernels.py

Prints, per setting, the layers whose forward or backward results differ from this
machine's native ones; "same" means every hash agreed. Each emulated run takes about a
minute.
"""
import concurrent.futures
import subprocess

from bookbuild import environments
from bookbuild.execute import checked_env, kernel_env
from bookbuild.numerics import EMULATED_CPU

# Runs in PyTorch's environment: every Linear (batch, inputs, outputs) of the three lessons
# at their batch sizes and the short runs', and the DCGAN and conditional lessons' convolutions
# and batch norm.
PROBE = """
import hashlib
import numpy as np
import torch
rng = np.random.default_rng(0)
def digest(t):
    return hashlib.sha256(t.detach().numpy().tobytes()).hexdigest()[:10]
def run(name, layer, shape):
    x = torch.from_numpy(rng.standard_normal(shape).astype(np.float32)).requires_grad_()
    y = layer(x)
    y.backward(torch.from_numpy(rng.standard_normal(tuple(y.shape)).astype(np.float32)))
    print(name, digest(y), digest(x.grad), digest(layer.weight.grad))
torch.manual_seed(0)
for b, i, o in [(16, 2, 2), (16, 2, 5), (16, 5, 3), (16, 3, 1),
                (128, 100, 256), (128, 256, 512), (128, 512, 1024), (128, 1024, 784),
                (256, 784, 512), (256, 512, 256), (256, 256, 128), (256, 128, 1),
                (64, 100, 3136), (64, 3136, 1), (64, 100, 6272), (64, 2049, 1),
                (8, 100, 256), (8, 784, 512), (8, 128, 1)]:
    run(f'linear {b}x{i}->{o}', torch.nn.Linear(i, o), (b, i))
run('conv 1->32', torch.nn.Conv2d(1, 32, 4, 2, 1), (64, 1, 28, 28))
run('conv 32->64', torch.nn.Conv2d(32, 64, 4, 2, 1), (64, 32, 14, 14))
run('transposed conv 64->32', torch.nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False),
    (64, 64, 7, 7))
run('conv 32->1', torch.nn.Conv2d(32, 1, 3, 1, 1), (64, 32, 28, 28))
run('batch norm', torch.nn.BatchNorm2d(32), (64, 32, 14, 14))
# the DCGAN lesson's present networks; the ones above are the conditional lesson's
run('conv 64->128', torch.nn.Conv2d(64, 128, 3, 2, 1), (64, 64, 7, 7))
run('transposed conv 128->64', torch.nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
    (64, 128, 7, 7))
run('conv 64->1', torch.nn.Conv2d(64, 1, 3, 1, 1), (64, 64, 28, 28))
run('batch norm 128', torch.nn.BatchNorm2d(128), (64, 128, 7, 7))
"""
CPUS = {'native': [], 'Haswell': ['qemu-x86_64', '-cpu', EMULATED_CPU],
        'EPYC-Rome': ['qemu-x86_64', '-cpu', 'EPYC-Rome']}


def hashes(settings, cpu):
    command = [*CPUS[cpu], str(environments.python('pytorch')), '-c', PROBE]
    done = subprocess.run(command, env=kernel_env(settings), capture_output=True, text=True,
                          check=True)
    found = {}
    for line in done.stdout.splitlines():
        layer, *values = line.rsplit(' ', 3)  # name, then hashes of y, dx, dW
        found[layer] = values
    return found


def main():
    profile = checked_env('pytorch')
    without_preload = {k: v for k, v in profile.items() if k != 'LD_PRELOAD'}
    variants = {
        'the profile (MKL_CBWR=AVX2,STRICT, preloaded)': profile,
        'AVX2,STRICT without the preloaded library': without_preload,
        'COMPATIBLE,STRICT (the earlier profile)': {**without_preload,
                                                    'MKL_CBWR': 'COMPATIBLE,STRICT'},
    }
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = {(name, cpu): pool.submit(hashes, settings, cpu)
                   for name, settings in variants.items() for cpu in CPUS}
        results = {key: future.result() for key, future in futures.items()}
    for name in variants:
        native = results[name, 'native']
        for cpu in CPUS:
            if cpu == 'native':
                continue
            differ = [layer for layer, values in results[name, cpu].items()
                      if values != native[layer]]
            print(f'{name} — {cpu} vs native: '
                  f'{"same" if not differ else "differ: " + ", ".join(differ)}', flush=True)


if __name__ == '__main__':
    main()
