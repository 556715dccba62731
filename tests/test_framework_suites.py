"""Run tests/framework/ (one backend's tests) in each framework's own environment."""
import subprocess

import pytest

from bookbuild import FRAMEWORKS, ROOT, environments
from bookbuild.execute import checked_env, kernel_env

SUITE = ROOT / 'tests' / 'framework'


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_framework_suite_passes_in_its_environment(framework):
    command = [str(environments.python(framework)), '-m', 'pytest', '-q', '-c',
               str(SUITE / 'pytest.ini'), '--rootdir', str(SUITE), str(SUITE)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          env={**kernel_env(checked_env(framework)),
                               'D2LSHIM_TEST_FRAMEWORK': framework})
    print(done.stdout[-2000:])
    assert done.returncode == 0, f'{framework}:\n{done.stdout[-8000:]}\n{done.stderr[-3000:]}'
    assert ' passed' in done.stdout.splitlines()[-1] and 'skipped' not in done.stdout
