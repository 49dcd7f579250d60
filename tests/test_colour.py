import numpy as np
import pytest

from napari_tweedie.data.colour import from_opponent, opponent_matrix, to_opponent


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_the_opponent_transform_is_orthonormal(channels):
    matrix = opponent_matrix(channels)
    np.testing.assert_allclose(matrix @ matrix.T, np.eye(channels), atol=1e-6)


def test_round_trip_and_white_noise_keeps_its_sigma():
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.1, (256, 256, 3)).astype(np.float32)
    np.testing.assert_allclose(from_opponent(to_opponent(noise)), noise, atol=1e-6)
    assert np.std(to_opponent(noise), axis=(0, 1)) == pytest.approx([0.1] * 3, rel=0.02)


def test_grey_goes_to_the_luminance_channel_only():
    grey = np.full((4, 4, 3), 0.5, np.float32)
    opponent = to_opponent(grey)
    assert np.allclose(opponent[..., 1:], 0, atol=1e-6)
    assert opponent[0, 0, 0] == pytest.approx(0.5 * np.sqrt(3))
