"""Checked outputs repeat on any x86-64 CPU with AVX2: under the numerics profile, a lesson
run on an emulated Haswell (QEMU) prints exactly what it prints on this machine's CPU.

Per framework, one kernel runs the short runs of PORTABILITY_RUNS one after the other (the
framework is imported once; emulated, that is most of a run's time): the Gaussian lesson
whole, which must print what its committed notebook shows (nbval finds it again natively);
16 short steps of the MNIST lesson's loop, through its own parameters; 16 steps of the
DCGAN's and of the conditional GAN's `train_step`, every value they return printed to the
last bit, and a hash of the samples drawn after them; and the training-failures lesson
whole on a smaller ring, which must print the same losses, D outputs, gradients, mode counts
and plots natively and emulated. Text and images are compared byte for byte, masked as
nbval masks them. The evaluation chapter's metrics, pure NumPy, are checked on random
images the same way.
"""
import concurrent.futures
import multiprocessing
import os
import shutil
import subprocess

import nbformat
import pytest

from bookbuild import CHAPTERS, FRAMEWORKS, environments
from bookbuild.execute import checked_env, execute, kernel_env
from bookbuild.lessons import joined_runs, notebook_path
from bookbuild.numerics import (METRICS_CHECK, PORTABILITY_RUNS, SHARED_CORES_ENV,
                                SHORT_TRAININGS, fingerprint, on_emulated_cpu)


def run(framework, emulated, workdir):
    """Execute the framework's short runs in one kernel, in a folder of their own, where
    they also write their files; return each lesson's fingerprint."""
    folder = workdir / ('emulated' if emulated else 'native') / framework
    folder.mkdir(parents=True)
    settings = {**checked_env(framework), **SHARED_CORES_ENV, 'D2LSHIM_ARTIFACTS': str(folder)}
    done = execute(joined_runs(PORTABILITY_RUNS, framework), framework, folder,
                   f'short runs [{framework}]', emulated=emulated, settings=settings)
    found = fingerprint(done)
    return {lesson: [(cell_id.removeprefix(f'{lesson}-'), *rest)
                     for cell_id, *rest in found if cell_id.startswith(f'{lesson}-')]
            for lesson in PORTABILITY_RUNS}


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    if shutil.which('qemu-x86_64') is None:
        pytest.fail("qemu-x86_64 is missing: install Debian's qemu-user (.ci/run does)")
    workdir = tmp_path_factory.mktemp('portability')
    jobs = [(framework, emulated) for emulated in (True, False) for framework in FRAMEWORKS]
    # A process per run, as many at once as there are cores: emulation is slow.
    context = multiprocessing.get_context('spawn')
    with concurrent.futures.ProcessPoolExecutor(os.cpu_count(), mp_context=context) as pool:
        futures = {job: pool.submit(run, *job, workdir) for job in jobs}
        return {(lesson, *job): found for job, future in futures.items()
                for lesson, found in future.result().items()}


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_gaussian_lesson_emulated_prints_the_committed_outputs(runs, framework):
    emulated = runs['gaussian_gan', framework, True]
    assert any('learned mean' in content for *_, content in emulated)
    committed = nbformat.read(notebook_path(CHAPTERS / 'gaussian_gan.md', framework), 4)
    assert emulated == fingerprint(committed)


@pytest.mark.parametrize('framework', FRAMEWORKS)
@pytest.mark.parametrize('lesson', SHORT_TRAININGS)
def test_training_emulated_prints_the_native_outputs(runs, lesson, framework):
    emulated = runs[lesson, framework, True]
    assert any('loss_D' in content for *_, content in emulated)
    assert any(mime == 'image/png' for _, _, mime, _ in emulated)
    assert emulated == runs[lesson, framework, False]


def numpy_pin(framework):
    (pin,) = [line for line in environments.lock_file(framework).read_text().splitlines()
              if line.startswith('numpy==')]
    return pin


# One framework per NumPy release the environments pin (MXNet's 1.26, the others' 2.4): the
# metrics are NumPy, and each framework's environment runs its evaluation chapter.
ONE_PER_NUMPY = list({numpy_pin(framework): framework for framework in FRAMEWORKS}.values())


@pytest.mark.parametrize('framework', ONE_PER_NUMPY)
def test_evaluation_metrics_emulated_print_the_native_numbers(framework):
    command = [str(environments.python(framework)), '-c', METRICS_CHECK]
    env = kernel_env(checked_env(framework))
    native, on_haswell = (subprocess.run(c, env=env, capture_output=True, text=True,
                                         check=True).stdout
                          for c in (command, on_emulated_cpu(command)))
    assert native.count('\n') == 3 and 'nan' not in native
    assert on_haswell == native


NUMPY_CODE_PATHS = """
try:
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
except ImportError:  # NumPy 1
    from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
print(*[target for target in __cpu_dispatch__ if __cpu_features__[target]])
"""


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_the_profile_leaves_numpy_no_avx512_code_path(framework):
    """NumPy ignores names in NPY_DISABLE_CPU_FEATURES it does not know, and its names
    changed with 2.x: check the targets it really dispatches to, in every environment."""
    command = [str(environments.python(framework)), '-c', NUMPY_CODE_PATHS]
    targets = subprocess.run(command, env=kernel_env(checked_env(framework)),
                             capture_output=True, text=True,
                             check=True).stdout.split()
    assert 'AVX2' in targets or 'X86_V3' in targets, targets
    assert not [t for t in targets if 'AVX512' in t or t == 'X86_V4'], targets
