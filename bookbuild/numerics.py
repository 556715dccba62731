"""Numerics that repeat on any x86-64 CPU with AVX2, and the emulated CPU that proves it.

Checked outputs (the committed notebooks, nbval, the equivalence tests) are computed under
`numerics_profile(framework)`. `tests/test_portability.py` runs PORTABILITY_RUNS natively
and on an emulated Haswell, `bench/numerics.py` with each setting left out; `fingerprint`
is what they compare.
"""
import configparser
import copy
import re

from jupyter_client import AsyncKernelManager
from nbval.plugin import coalesce_streams

from bookbuild import ROOT, environments

# The numerics profile: settings that make every floating-point operation of a lesson repeat
# bit for bit on any x86-64 CPU with AVX2 and any number of cores, so that checked outputs
# are the same everywhere. The libraries otherwise pick code paths (vector width, kernels,
# approximate instructions) by the CPU they find and split sums by their thread count, and
# a GAN turns a last-bit difference into a different generator. Each setting was shown to
# change some lesson's outputs when left out (`bench/numerics.py`);
# `tests/test_portability.py` checks each framework's profile against an emulated Haswell.
# It slows training on newer CPUs, so only checked runs use it (`bench/profile_cost.py`
# prints what it costs). A framework's settings are its own: changing them makes only that
# framework's notebooks stale.
SHARED_PROFILE = {
    # NumPy (every environment has it; the evaluation chapter's metrics are NumPy) and the
    # OpenBLAS it ships with: OpenBLAS's Haswell kernels on a fixed number of threads (MXNet's
    # operators read it too), and NumPy's AVX2 loops rather than its AVX-512 ones (float64
    # exp and log differ in the last bit; the Parzen metric uses them). NumPy 1.26 (MXNet's
    # environment) names its AVX-512 targets AVX512F ... AVX512_ICL, NumPy 2.4 X86_V4,
    # AVX512_ICL and AVX512_SPR; each ignores the other's names.
    'OPENBLAS_CORETYPE': 'Haswell',
    'OMP_NUM_THREADS': '2',
    'NPY_DISABLE_CPU_FEATURES': 'AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX '
                                'AVX512_CLX AVX512_CNL AVX512_ICL X86_V4 AVX512_SPR',
}
FRAMEWORK_PROFILES = {
    # PyTorch: ATen's own kernels (activations, random numbers) built for AVX2; MKL's
    # matrix products on its AVX2 code path, strictly reproducible; oneDNN's convolutions
    # on their AVX2 kernels. MKL takes a code path other than its generic one (COMPATIBLE,
    # half as fast) only on CPUs it believes to be Intel's: on an AMD EPYC it ignored
    # `AVX2,STRICT` and its products differed from an Intel Haswell's. The library
    # PROFILE_LIBRARIES builds answers MKL's vendor check on AMD CPUs too; with it, an AMD
    # Zen 4 and emulated Haswell and EPYC-Rome gave the same bits for every product and
    # convolution of the lessons. (AVX2 without STRICT differed from Intel CPU to Intel CPU.)
    'pytorch': {
        'ATEN_CPU_CAPABILITY': 'avx2',
        'MKL_CBWR': 'AVX2,STRICT',
        'LD_PRELOAD': '{env}/lib/libmkl_intel_cpu.so',
        'ONEDNN_MAX_CPU_ISA': 'AVX2',
    },
    # TensorFlow: XLA-compiled steps without CPU-specific math (approximate reciprocals and
    # square roots); oneDNN's kernels for products and convolutions on AVX2 (d2lshim's
    # backend turns them on: Eigen's, used without them, split their sums by the size of
    # the CPU's L1 cache); one intra-op thread, because how TensorFlow splits a product
    # between two threads depends on the CPU (the MNIST sample grids differed in their last
    # bits, AVX-512 vs Haswell, with 2).
    # No setting reaches TensorFlow's reciprocal and rsqrt kernels, nor XLA's rsqrt: they
    # use approximate instructions that AMD and Intel CPUs round differently, so lessons
    # must not depend on them (README, "Reproducible outputs").
    'tensorflow': {
        'XLA_FLAGS': '--xla_cpu_enable_platform_dependent_math=false',
        'ONEDNN_MAX_CPU_ISA': 'AVX2',
        'TF_NUM_INTRAOP_THREADS': '1',
    },
    # MXNet: its bundled oneDNN 2 JIT-compiles its kernels for the CPU it finds; capped at
    # AVX they give the same bits natively (Intel with AMX, AMD Zen 4) and on the emulated
    # Haswell and EPYC-Rome (at AVX2 the kernel crashes on the emulated Haswell). Without
    # oneDNN MXNet's convolutions run half as fast.
    'mxnet': {
        'MXNET_MKLDNN_ENABLED': '1',
        'DNNL_MAX_CPU_ISA': 'AVX',
    },
}
# Shared libraries a profile preloads, built into the framework's environment when it is
# made (bookbuild.environments): {framework: {file name in <env>/lib: C source}}.
PROFILE_LIBRARIES = {
    # MKL asks this function whether the CPU is Intel's before it honours MKL_CBWR=AVX2; it
    # is exported by PyTorch's library, so a preloaded definition takes its place.
    'pytorch': {'libmkl_intel_cpu.so': 'int mkl_serv_intel_cpu_true(void) { return 1; }\n'},
}
# Every variable some profile sets: a kernel's environment is cleared of all of them before
# its own framework's are set (bookbuild.execute.kernel_env).
PROFILE_KEYS = sorted({*SHARED_PROFILE, *(key for profile in FRAMEWORK_PROFILES.values()
                                          for key in profile)})


def numerics_profile(framework, resolved=True):
    """The settings of `framework`'s checked runs (its kernels in the build and in nbval),
    with `{env}` standing for its environment's folder unless `resolved`."""
    profile = {**SHARED_PROFILE, **FRAMEWORK_PROFILES[framework]}
    if not resolved:
        return profile
    env = environments.env_dir(framework)
    return {key: value.format(env=env) for key, value in profile.items()}


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

# The DCGAN and conditional lessons' short runs stop before their quality measurements (the
# book's classifier on 10,000 test images and on 2,000 samples per record: three quarters of
# an emulated run, and NumPy alone, which METRICS_CHECK covers) and run the lesson's own
# `train_step` on every batch instead, printing every value it returns to the last bit (in
# hexadecimal) and a hash of what the trained generator then draws with its running
# statistics, beside the picture of it. A bit that differs anywhere in the networks shows.
DCGAN_STEPS = """import hashlib
for X, _ in train_iter:
    Z = d2l.normal(0.0, 1.0, (X.shape[0], latent_dim))
    values = train_step(as_images(X), Z, net_D, net_G, loss, trainer_D, trainer_G)
    print(*(f'{name} {float(value).hex()}' for name, value in zip(
        ['loss_D', 'D(real)', 'D(gen.)', 'after D', 'loss_G'], values)))
images = generate(net_G, d2l.normal(0.0, 1.0, (64, latent_dim)))
print('samples', hashlib.sha256(images.tobytes()).hexdigest())
d2l.show_images(images, nrows=8);
"""
CONDITIONAL_STEPS = """import hashlib
for X, y in train_iter:
    Z = d2l.normal(0.0, 1.0, (X.shape[0], latent_dim))
    values = train_step(as_images(X), one_hot(y), Z, net_D, net_G, loss, trainer_D, trainer_G)
    print(*(f'{name} {float(value).hex()}' for name, value in zip(
        ['loss_D', 'D(real)', 'D(gen.)', 'loss_G'], values)))
images = generate(net_G, d2l.normal(0.0, 1.0, (100, latent_dim)), numpy.arange(100) // 10)
print('samples', hashlib.sha256(images.tobytes()).hexdigest())
d2l.show_images(images, nrows=10);
"""

# What the portability test runs, lesson -> arguments of `bookbuild.lessons.short_run`.
PORTABILITY_RUNS = {
    'gaussian_gan': {},
    # 16 steps of 8 images: the emulated CPU trains about 400 times slower than a real one.
    # Enough to tell ATen's AVX2 kernels from its AVX-512 ones (4 steps of 16 are not).
    'mnist_gan': {'parameters': {'num_examples': 128, 'batch_size': 8, 'num_epochs': 1},
                  'stop_after': 'train('},
    # Batch normalisation in both modes: the steps use batch statistics, the samples the
    # running ones.
    'dcgan': {'parameters': {'num_examples': 128, 'batch_size': 8, 'num_epochs': 1},
              'stop_before': 'test_features', 'last_cell': DCGAN_STEPS},
    # Whole, on 1,024 points: the 1,000 discriminator steps of the gradient measurement,
    # then two records of each GAN (320 plain steps, 512 critic steps), the fewest that the
    # last plot's correlations need.
    'training_failures': {'parameters': {'num_examples': 1024, 'batch_size': 64,
                                         'num_epochs': 20, 'wgan_epochs': 32}},
    # As the DCGAN's, with the labels going into both networks.
    'conditional_gan': {'parameters': {'num_examples': 128, 'batch_size': 8, 'num_epochs': 1},
                        'stop_before': 'test_features', 'last_cell': CONDITIONAL_STEPS},
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
