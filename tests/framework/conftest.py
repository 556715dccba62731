"""Tests of one framework's backend, run in that framework's environment by
tests/test_framework_suites.py, which names the framework in D2LSHIM_TEST_FRAMEWORK."""
import os

import pytest

import d2lshim
from d2lshim.frameworks import FRAMEWORKS

FRAMEWORK = FRAMEWORKS[os.environ['D2LSHIM_TEST_FRAMEWORK']]


@pytest.fixture(scope='session')
def framework():
    return FRAMEWORK


@pytest.fixture(scope='session')
def d2l():
    return d2lshim.load_backend(FRAMEWORK.backend)
