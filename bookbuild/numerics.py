"""Numerics that repeat on any x86-64 CPU with AVX2, and the emulated CPU that proves it.

Checked outputs (the committed notebooks, nbval, the equivalence tests) are computed under
NUMERICS_PROFILE. `tests/test_portability.py` runs PORTABILITY_RUNS natively and on an
emulated Haswell, `bench/numerics.py` with each setting left out; `fingerprint` is what
they compare.
"""
import configparser
import copy
import re

from jupyter_client import AsyncKernelManager
from nbval.plugin import coalesce_streams

from bookbuild import ROOT

# The numerics profile: settings that make every floating-point operation of a lesson repeat
# bit for bit on any x86-64 CPU with AVX2 and any number of cores, so that checked outputs
# are the same everywhere. The libraries otherwise pick code paths (vector width, kernels,
# approximate instructions) by the CPU they find and split sums by their thread count, and
# a GAN turns a last-bit difference into a different generator. Each setting was shown to
# change some lesson's outputs when left out (`bench/numerics.py`, on an AVX-512 CPU);
# `tests/test_portability.py` checks the whole profile against an emulated Haswell. It
# slows training on newer CPUs, so only checked runs use it.
NUMERICS_PROFILE = {
    # PyTorch: ATen's own kernels (activations, random numbers) built for AVX2, and MKL's
    # matrix products on its COMPATIBLE code path, strictly reproducible. MKL honours its
    # AVX2 branch on Intel CPUs only: on an AMD EPYC it ignored it (results as with AUTO)
    # and its matrix-vector products (a layer with one output) differed from an Intel
    # Haswell's; COMPATIBLE gave the same bits on both. (AVX2 without STRICT differed from
    # Intel CPU to Intel CPU.)
    'ATEN_CPU_CAPABILITY': 'avx2',
    'MKL_CBWR': 'COMPATIBLE,STRICT',
    # TensorFlow: XLA-compiled steps without CPU-specific math (approximate reciprocals and
    # square roots); oneDNN's kernels for products and convolutions on AVX2 (d2lshim's
    # backend turns them on: Eigen's, used without them, split their sums by the size of
    # the CPU's L1 cache); one intra-op thread, because how TensorFlow splits a product
    # between two threads depends on the CPU (the MNIST sample grids differed in their last
    # bits, AVX-512 vs Haswell, with 2).
    # No setting reaches TensorFlow's reciprocal and rsqrt kernels, nor XLA's rsqrt: they
    # use approximate instructions that AMD and Intel CPUs round differently, so lessons
    # must not depend on them (README, "Reproducible outputs").
    'XLA_FLAGS': '--xla_cpu_enable_platform_dependent_math=false',
    'ONEDNN_MAX_CPU_ISA': 'AVX2',
    'TF_NUM_INTRAOP_THREADS': '1',
    # MXNet: its bundled oneDNN 2 JIT-compiles per CPU (and crashes on the emulated one);
    # without it MXNet's products go to OpenBLAS, and a notice about that to stderr.
    'MXNET_MKLDNN_ENABLED': '0',
    'MXNET_STORAGE_FALLBACK_LOG_VERBOSE': '0',
    # MXNet and NumPy: OpenBLAS's Haswell kernels on a fixed number of threads (MXNet's
    # operators and OpenBLAS read it), and NumPy's AVX2 loops rather than its AVX-512 ones
    # (float64 exp and log differ in the last bit; the Parzen metric uses them). NumPy 1.26
    # (MXNet's environment) names its AVX-512 targets AVX512F ... AVX512_ICL, NumPy 2.4
    # X86_V4, AVX512_ICL and AVX512_SPR; each ignores the other's names.
    'OPENBLAS_CORETYPE': 'Haswell',
    'OMP_NUM_THREADS': '2',
    'NPY_DISABLE_CPU_FEATURES': 'AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX '
                                'AVX512_CLX AVX512_CNL AVX512_ICL X86_V4 AVX512_SPR',
}

# The CPU that checked outputs are proven on: Haswell (2013) has AVX2 and FMA and nothing
# newer, so a run on it emulated must print what a native run under the profile prints.
# Minus the system features QEMU cannot emulate: it warns about each one on stderr every
# time a thread starts, and a kernel's stderr lands in the cell's output.
EMULATED_CPU = 'Haswell,-pcid,-x2apic,-tsc-deadline,-hle,-invpcid,-rtm'


def on_emulated_cpu(command):
    """`command` (a list of arguments) run on an emulated EMULATED_CPU by qemu-user."""
    return ['qemu-x86_64', '-cpu', EMULATED_CPU, *command]


class EmulatedKernelManager(AsyncKernelManager):
    """Starts the kernel on an emulated EMULATED_CPU."""

    def format_kernel_cmd(self, extra_arguments=None):
        return on_emulated_cpu(super().format_kernel_cmd(extra_arguments))


# For runs that share the cores with other runs (the portability test, bench/numerics.py):
# OpenMP threads that spin while they wait starve the other runs (a PyTorch MNIST step
# beside another busy kernel was 20 times slower). How threads wait changes no result.
SHARED_CORES_ENV = {'OMP_WAIT_POLICY': 'PASSIVE'}

# What the portability test runs, lesson -> arguments of `bookbuild.lessons.short_run`.
PORTABILITY_RUNS = {
    'gaussian_gan': {},
    # 16 steps of 8 images: the emulated CPU trains about 400 times slower than a real one.
    # Enough to tell ATen's AVX2 kernels from its AVX-512 ones (4 steps of 16 are not).
    'mnist_gan': {'parameters': {'num_examples': 128, 'batch_size': 8, 'num_epochs': 1},
                  'stop_after': 'train('},
    # Batch normalisation in both modes: the steps use batch statistics, the epoch's grid
    # the running ones.
    'dcgan': {'parameters': {'num_examples': 128, 'batch_size': 8, 'num_epochs': 1},
              'stop_after': 'train('},
}
# The lessons whose short run is a training (the Gaussian lesson runs whole).
SHORT_TRAININGS = [lesson for lesson in PORTABILITY_RUNS if lesson != 'gaussian_gan']
# The evaluation chapter's metrics (pure NumPy) on random images: a script whose output
# must not depend on the CPU either.
METRICS_CHECK = """
import numpy as np
from d2lshim import classifier, metrics
rng = np.random.default_rng(0)
images = rng.uniform(size=(200, 784)).astype(np.float32)
features, probabilities = classifier.predict(images)
print(metrics.parzen_log_likelihoods(images[:150], images[150:], metrics.SIGMAS).tolist())
print(features.sum(1).tolist(), probabilities.tolist())
print(metrics.frechet_distance(features[:100], features[100:]),
      metrics.classifier_score(probabilities), metrics.class_coverage(probabilities),
      metrics.nearest_distances(images[:50], images[50:]).tolist())
"""

# What nbval masks when it compares outputs: only what depends on the machine's speed.
SANITIZE = ROOT / 'tests' / 'nbval_sanitize.cfg'


def fingerprint(nb):
    """Every code cell's outputs as (cell id, output type, mime type, content), text and
    images alike, with what nbval masks (SANITIZE) masked the same way, and its streams
    merged as nbval merges them: how a kernel splits a cell's printed text into messages
    depends on timing (a busy machine split one print into two)."""
    config = configparser.ConfigParser()
    config.read(SANITIZE)
    masks = [(re.compile(section['regex']), section['replace'])
             for section in config.values() if 'regex' in section]
    found = []
    for cell in nb.cells:
        if cell.cell_type != 'code':
            continue
        for output in coalesce_streams(copy.deepcopy(cell.outputs)):
            content = {'text/plain': output['text']} if 'text' in output else \
                output.get('data', {})
            for mime, value in sorted(content.items()):
                value = ''.join(value) if isinstance(value, list) else value
                for pattern, replacement in masks:
                    value = pattern.sub(replacement, value)
                found.append((cell.id, output.output_type, mime, value))
    return found
