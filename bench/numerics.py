"""Which settings of the numerics profile the lessons need: run the portability test's
lesson runs and metrics check under the whole profile, with each setting left out, with
other thread counts and with candidate settings that the profile does without, and print
whether the outputs change.

    .venv/bin/python bench/numerics.py [--runs gaussian_gan mnist_gan metrics] [--emulated]

Run it on a CPU newer than Haswell (AVX-512, AMX) with 2 cores or more. An ISA cap that
changes the outputs there is needed: an AVX2-only CPU (the portability test's emulated
Haswell) takes the capped path anyway. `--emulated` also runs every variant on the emulated
Haswell (minutes a run).
"""
import argparse
import concurrent.futures
import hashlib
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bookbuild import CHAPTERS, FRAMEWORKS
from bookbuild.execute import BUILD_ENV, BuildError, checked_env, execute, kernel_env
from bookbuild.lessons import short_run
from bookbuild.numerics import (METRICS_CHECK, PORTABILITY_RUNS, SHARED_CORES_ENV,
                                SHARED_PROFILE, fingerprint, on_emulated_cpu)


def profile_of(framework):
    """The checked runs' settings; 'numpy' stands for the metrics check (NumPy alone)."""
    return {**BUILD_ENV, **SHARED_PROFILE} if framework == 'numpy' else checked_env(framework)


def variants(framework):
    """(name, kernel settings): the framework's profile, then that profile changed in one
    place."""
    profile = profile_of(framework)
    yield 'whole profile', profile
    for key in profile:
        if key not in BUILD_ENV:
            yield f'without {key}', {k: v for k, v in profile.items() if k != key}
    for key, values in [('MKL_CBWR', ['COMPATIBLE,STRICT']), ('DNNL_MAX_CPU_ISA', ['AVX2']),
                        ('TF_NUM_INTRAOP_THREADS', ['1', '2', '4']),
                        ('OMP_NUM_THREADS', ['1', '2', '4'])]:
        for value in values:
            if key in profile and value != profile[key]:
                yield f'{key}={value}', {**profile, key: value}
    # Candidates the profile does without: they change nothing.
    if 'XLA_FLAGS' in profile:
        yield '+ XLA_FLAGS=... --xla_cpu_max_isa=AVX2', \
            {**profile, 'XLA_FLAGS': profile['XLA_FLAGS'] + ' --xla_cpu_max_isa=AVX2'}


def digest(run, framework, settings, on_haswell):
    """A short hash of the run's outputs, or the last line of its error."""
    with tempfile.TemporaryDirectory() as folder:
        settings = {**settings, **SHARED_CORES_ENV, 'D2LSHIM_ARTIFACTS': folder}
        if run == 'metrics':
            command = [sys.executable, '-c', METRICS_CHECK]
            done = subprocess.run(on_emulated_cpu(command) if on_haswell else command,
                                  env=kernel_env(settings), capture_output=True, text=True)
            output = done.stdout if done.returncode == 0 else None
            error = done.stderr
        else:
            nb = short_run(CHAPTERS / f'{run}.md', framework, **PORTABILITY_RUNS[run])
            try:
                done = execute(nb, framework, Path(folder), run, emulated=on_haswell,
                               settings=settings)
                output = repr(fingerprint(done))
            except BuildError as failure:
                output, error = None, str(failure)
    if output is None:
        return 'fails: ' + error.strip().splitlines()[-1].strip()
    return hashlib.sha256(output.encode()).hexdigest()[:8]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--runs', nargs='+', default=[*PORTABILITY_RUNS, 'metrics'],
                        choices=[*PORTABILITY_RUNS, 'metrics'])
    parser.add_argument('--frameworks', nargs='+', default=list(FRAMEWORKS),
                        choices=list(FRAMEWORKS))
    parser.add_argument('--emulated', action='store_true',
                        help='also run every variant on the emulated Haswell')
    args = parser.parse_args()
    runs = [(run, fw) for run in args.runs
            for fw in (['numpy'] if run == 'metrics' else args.frameworks)]
    modes = [False, True] if args.emulated else [False]
    named = {fw: dict(variants(fw)) for fw in {fw for _, fw in runs}}
    started = time.perf_counter()
    context = multiprocessing.get_context('spawn')
    with concurrent.futures.ProcessPoolExecutor(os.cpu_count(), mp_context=context) as pool:
        futures = {(name, run, mode): pool.submit(digest, *run, settings, mode)
                   for run in runs for name, settings in named[run[1]].items()
                   for mode in modes}
        results = {key: future.result() for key, future in futures.items()}
    print(f'{len(results)} runs in {time.perf_counter() - started:.0f} s. "=": the outputs '
          f'of the whole profile run natively; "DIFF": other outputs')
    columns = [f'{run[:8]} {fw[:5]}' + (' emul.' if mode else '')
               for run, fw in runs for mode in modes]
    print(f'{"":40s}' + ''.join(f'{c:>15s}' for c in columns))
    for name in dict.fromkeys(name for variant in named.values() for name in variant):
        cells = []
        for run in runs:
            for mode in modes:
                if (name, run, mode) not in results:
                    cells.append('')  # not a setting of this framework's profile
                    continue
                value, reference = results[name, run, mode], results['whole profile', run, False]
                cells.append(value if value.startswith('fails') or name == 'whole profile'
                             else '=' if value == reference else 'DIFF')
        print(f'{name:40s}' + ''.join(f'{c[:14]:>15s}' for c in cells))


if __name__ == '__main__':
    main()
