import pytest

from bookbuild.render import render, stage


@pytest.fixture(scope='session')
def site():
    """The book, staged and rendered exactly as `make book` does; returns _build/html."""
    stage()
    return render()
