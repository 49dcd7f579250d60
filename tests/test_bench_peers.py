"""bench_peers.py: the skimage peer denoises; a missing CAREamics is a skipped row, not a crash."""

import sys
from pathlib import Path

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
_peers = pytest.importorskip("_peers")
bench_peers = pytest.importorskip("bench_peers")


def _pair(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[:64, :64] / 64.0
    clean = 0.3 + 0.4 * ((x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.1)
    noisy = clean + np.random.default_rng(seed).normal(0, 0.1, clean.shape)
    return clean, noisy.astype(np.float32)


@pytest.mark.parametrize("name", _peers.CALIBRATED)
def test_calibrated_denoiser_beats_the_noisy_image(name):
    clean, noisy = _pair()
    estimate, best = _peers.calibrated(noisy, name)
    assert estimate.shape == noisy.shape
    assert set(best) >= set(_peers._grids(0.1)[name][1])
    gain = peak_signal_noise_ratio(clean, np.clip(estimate, 0, 1), data_range=1.0) - (
        peak_signal_noise_ratio(clean, noisy, data_range=1.0)
    )
    assert gain > 3.0


def test_n2v2_epoch_has_fifty_batches():
    images = _peers._epoch([np.zeros((64, 64)), np.zeros((128, 64))], patch=64, batch=16)
    patches = sum((a.shape[0] // 64) * (a.shape[1] // 64) for a in images)
    assert patches >= 50 * 16
    assert all(a.dtype == np.float32 for a in images)


def test_missing_careamics_is_a_skipped_row(monkeypatch):
    clean, noisy = _pair()
    data = bench_peers.Dataset("toy", [clean], [noisy], "gaussian", {"sigma": 0.1})
    monkeypatch.setattr(_peers, "careamics_missing", lambda: "ModuleNotFoundError: careamics")
    args = bench_peers.parse(["--budget", "1"])
    result = bench_peers.run_method(data, ("trained", "n2v2"), args)
    assert "careamics" in result["skipped"]
    row = dict(dataset="toy", n=1, group="CAREamics", method="N2V2", **result)
    assert "skipped: CAREamics not installed" in bench_peers.table([row])


def test_table_rows_of_a_per_image_method():
    clean, noisy = _pair()
    data = bench_peers.Dataset("toy", [clean], [noisy], "gaussian", {"sigma": 0.1})
    args = bench_peers.parse(["--budget", "1"])
    result = bench_peers.run_method(data, ("calibrate", "tv_chambolle"), args)
    assert result["psnr"] > bench_peers.scores(data, data.noisy)[0] + 3.0
    assert 0 < result["ssim"] <= 1 and result["s_img"] >= 0
