"""Zero-shot Noise2Noise from the Denoise dock widget: live previews, then a better result."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_tweedie._widgets.denoise import DenoiseWidget
from napari_tweedie.denoisers import DENOISERS

PREVIEW = "noisy [zs_n2n preview]"


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def mse(a, b) -> float:
    return float(np.mean((np.asarray(a, np.float64) - b) ** 2))


def test_zs_n2n_on_a_rectangle_previews_its_estimates_then_denoises(
    qtbot, make_napari_viewer, noisy_pair
):
    clean, noisy, _ = noisy_pair
    viewer = make_napari_viewer()
    viewer.add_image(noisy, name="noisy", scale=(2.0, 0.5), translate=(10.0, -4.0))
    # data rows 8..88 and columns 4..92, given in world coordinates
    viewer.add_shapes([[[26.0, -2.0], [186.0, 42.0]]], shape_type="rectangle", name="roi")
    widget = DenoiseWidget(viewer)
    assert "zs_n2n" in widget.method.choices and DENOISERS["zs_n2n"].iterative
    widget.layer.value, widget.method.value = "noisy", "zs_n2n"
    widget.scope.value = "Shapes rectangle"
    widget.params["iterations"].value = 200
    widget.params["patience"].value = 0

    box = (slice(8, 88), slice(4, 92))
    previews: list[np.ndarray] = []

    def watch(event) -> None:
        layer = event.value
        if layer.name == PREVIEW:
            previews.append(np.array(layer.data))
            layer.events.data.connect(lambda e: previews.append(np.array(layer.data)))
            np.testing.assert_allclose(layer.translate, [10 + 2.0 * 8, -4 + 0.5 * 4])

    viewer.layers.events.inserted.connect(watch)
    job = widget.run()
    assert job is not None, widget.status.value
    qtbot.waitUntil(lambda: not job.running, timeout=120_000)

    assert previews, "no live preview of the zs_n2n estimate was shown"
    assert all(p.shape == (80, 88) for p in previews)
    assert not np.allclose(previews[0], noisy[box])  # an estimate, not the input
    names = [layer.name for layer in viewer.layers]
    assert PREVIEW not in names and "noisy [zs_n2n]" in names, widget.status.value
    result = viewer.layers["noisy [zs_n2n]"]
    np.testing.assert_allclose(result.translate, [10 + 2.0 * 8, -4 + 0.5 * 4])
    assert mse(result.data, clean[box]) < 0.5 * mse(noisy[box], clean[box])
