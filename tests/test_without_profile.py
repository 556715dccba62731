"""A reader's own run does not use the numerics profile (README, "Reproducible outputs"):
each library then picks its fastest kernels, which the build and the other tests never
run (MXNet's oneDNN kernels, for one, run only here). Every lesson that trains must run
whole that way too, from its imports to its last cell (training, checkpoints, reloading,
the samples it saves), on a short run's parameters, in every framework."""
import pytest

from bookbuild import CHAPTERS, FRAMEWORKS
from bookbuild.execute import READER_ENV, execute
from bookbuild.lessons import short_run
from bookbuild.numerics import PORTABILITY_RUNS, SHARED_CORES_ENV, SHORT_TRAININGS


@pytest.mark.parametrize('framework', FRAMEWORKS)
@pytest.mark.parametrize('lesson', SHORT_TRAININGS)
def test_lesson_runs_whole_without_the_profile(lesson, framework, tmp_path):
    nb = short_run(CHAPTERS / f'{lesson}.md', framework,
                   parameters=PORTABILITY_RUNS[lesson]['parameters'])
    settings = {**READER_ENV, **SHARED_CORES_ENV, 'D2LSHIM_ARTIFACTS': str(tmp_path)}
    done = execute(nb, framework, tmp_path, f'{lesson} [{framework}] without the profile',
                   settings=settings)
    printed = ''.join(output.get('text', '') for cell in done.cells
                      for output in cell.get('outputs', []))
    assert 'loss_D' in printed
    assert 'reloaded generator draws the same images: True' in printed
    assert list(tmp_path.rglob('grid_epoch_01.png'))
    assert list(tmp_path.rglob('samples.npy'))
