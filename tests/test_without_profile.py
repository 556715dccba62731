"""A reader's own run does not use the numerics profile (README, "Reproducible outputs"):
each library then picks its fastest kernels, which the build and the other tests never
run. Every lesson that trains must train that way too: a short run of its own training
cell, in every framework. (MXNet's default oneDNN kernels fail on the DCGAN's generator,
which its lesson works around; this is the test that shows the workaround works.)"""
import pytest

from bookbuild import CHAPTERS, FRAMEWORKS
from bookbuild.execute import READER_ENV, execute
from bookbuild.lessons import short_run
from bookbuild.numerics import PORTABILITY_RUNS, SHARED_CORES_ENV, SHORT_TRAININGS


@pytest.mark.parametrize('framework', FRAMEWORKS)
@pytest.mark.parametrize('lesson', SHORT_TRAININGS)
def test_lesson_trains_without_the_profile(lesson, framework, tmp_path):
    nb = short_run(CHAPTERS / f'{lesson}.md', framework, **PORTABILITY_RUNS[lesson])
    settings = {**READER_ENV, **SHARED_CORES_ENV, 'D2LSHIM_ARTIFACTS': str(tmp_path)}
    done = execute(nb, framework, tmp_path, f'{lesson} [{framework}] without the profile',
                   settings=settings)
    printed = ''.join(output.get('text', '') for cell in done.cells
                      for output in cell.get('outputs', []))
    assert 'loss_D' in printed
    assert list(tmp_path.rglob('grid_epoch_01.png'))
