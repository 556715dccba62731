"""Every framework's tab of a lesson refuses the same impossible settings with the same
message, before it writes anything (issue 28: TensorFlow and MXNet used to train with
`lr_D nan` or `beta1 1.5`, which PyTorch's Adam refused)."""
import pytest

from bookbuild import CHAPTERS, FRAMEWORKS, BuildError
from bookbuild.execute import execute
from bookbuild.lessons import short_run
from d2lshim import common

BAD = {'gaussian_gan': {'lr_D': -0.02, 'beta1': 1.5, 'num_epochs': 0},
       'mnist_gan': {'seed': 'abc', 'lr': -5e-4, 'latent_dim': 0},
       'dcgan': {'seed': 1.5, 'num_epochs': -1, 'beta1': 1.0},
       'training_failures': {'n_critic': 0, 'gp_weight': -0.1, 'wgan_beta2': 1.0},
       'conditional_gan': {'batch_size': 0, 'lr': 0.0, 'latent_dim': 2.5}}
CHECKING_CELL = {'gaussian_gan': 'd2l.check_parameters(', 'mnist_gan': 'run = d2l.start_run(',
                 'dcgan': 'run = d2l.start_run(', 'training_failures': 'run = d2l.start_run(',
                 'conditional_gan': 'run = d2l.start_run('}


@pytest.mark.parametrize('framework', FRAMEWORKS)
@pytest.mark.parametrize('lesson', BAD)
def test_a_lesson_refuses_impossible_settings_alike_and_writes_nothing(lesson, framework,
                                                                       tmp_path):
    parameters = dict(BAD[lesson])
    with pytest.raises(ValueError) as expected:
        common.check_parameters(**parameters)
    out_dir = tmp_path / 'earlier run'
    if lesson != 'gaussian_gan':  # it writes no files
        parameters['out_dir'] = str(out_dir)
        out_dir.mkdir()
        (out_dir / 'samples.npy').write_bytes(b'an earlier run')
    nb = short_run(CHAPTERS / f'{lesson}.md', framework, parameters,
                   stop_after=CHECKING_CELL[lesson])
    with pytest.raises(BuildError) as error:
        execute(nb, framework, tmp_path, f'{lesson} [{framework}]')
    for line in str(expected.value).splitlines():
        assert line in str(error.value), (line, str(error.value)[-2000:])
    if lesson != 'gaussian_gan':
        assert [p.name for p in out_dir.iterdir()] == ['samples.npy']
        assert (out_dir / 'samples.npy').read_bytes() == b'an earlier run'
