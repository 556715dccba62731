"""A reader's own run does not use the numerics profile (README, "Reproducible outputs"):
each library then picks its fastest kernels, which the build and the other tests never
run. Every lesson that trains must run whole that way too, from its imports to its last
cell (training, checkpoints, reloading, the samples it saves), on a short run's
parameters, in every framework; one kernel per framework runs them one after the other."""
import pytest

from bookbuild import FRAMEWORKS
from bookbuild.execute import READER_ENV, execute
from bookbuild.lessons import joined_runs
from bookbuild.numerics import PORTABILITY_RUNS, SHARED_CORES_ENV, SHORT_TRAININGS


# What each lesson prints in its last cells, and the files it writes, when it ran whole.
LAST_WORDS = {'mnist_gan': ['reloaded generator draws the same images: True'],
              'dcgan': ['reloaded generator draws the same images: True'],
              'training_failures': ['WGAN-GP, 10,000 samples:', 'correlation with quality'],
              'conditional_gan': ['samples: (10000, 28, 28) requested digits: (10000,)',
                                  'classifier on the test images: 0.991']}
FILES_WRITTEN = {'mnist_gan': ['grid_epoch_01.png', 'samples.npy'],
                 'dcgan': ['grid_epoch_01.png', 'samples.npy'],
                 'training_failures': ['samples.npy', 'run.json'],
                 'conditional_gan': ['grid_epoch_01.png', 'samples.npy', 'labels.npy',
                                     'run.json']}


def test_every_short_training_is_checked():
    assert set(LAST_WORDS) == set(FILES_WRITTEN) == set(SHORT_TRAININGS)


@pytest.fixture(scope='module')
def reader_runs(tmp_path_factory):
    """{framework: (executed notebook, the folder its lessons wrote their files to)}."""
    runs = {}
    for framework in FRAMEWORKS:
        folder = tmp_path_factory.mktemp(framework)
        lessons = {lesson: {'parameters': {**PORTABILITY_RUNS[lesson]['parameters'],
                                           'out_dir': str(folder / lesson)}}
                   for lesson in SHORT_TRAININGS}
        settings = {**READER_ENV, **SHARED_CORES_ENV, 'D2LSHIM_ARTIFACTS': str(folder)}
        runs[framework] = (execute(joined_runs(lessons, framework), framework, folder,
                                   f'short trainings [{framework}] without the profile',
                                   settings=settings), folder)
    return runs


@pytest.mark.parametrize('framework', FRAMEWORKS)
@pytest.mark.parametrize('lesson', SHORT_TRAININGS)
def test_lesson_runs_whole_without_the_profile(reader_runs, lesson, framework):
    done, folder = reader_runs[framework]
    printed = ''.join(output.get('text', '') for cell in done.cells
                      if cell.id.startswith(f'{lesson}-')
                      for output in cell.get('outputs', []))
    assert 'loss_D' in printed
    for text in LAST_WORDS[lesson]:
        assert text in printed, (lesson, text)
    for name in FILES_WRITTEN[lesson]:
        assert (folder / lesson / name).exists(), (lesson, name)
