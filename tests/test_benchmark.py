"""The denoiser benchmark's scoring: clipped PSNR and the per-method evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tweedie.benchmark import clipped_psnr, evaluate
from napari_tweedie.denoisers import DENOISERS


def test_clipped_psnr_clips_the_estimate_to_the_unit_range():
    clean = np.full((8, 8), 0.5, np.float32)
    assert clipped_psnr(clean + 0.1, clean) == pytest.approx(20.0, abs=1e-4)
    # 2.0 is clipped to 1.0: error 0.5 everywhere, 20 log10(1 / 0.5)
    assert clipped_psnr(clean + 1.5, clean) == pytest.approx(6.0206, abs=1e-4)


def test_evaluate_scores_a_denoiser_above_the_noisy_input(noisy_pair):
    clean, noisy, _ = noisy_pair
    summary = evaluate(DENOISERS["gaussian"], "tiny", [("a", clean, noisy)], seed=0)
    assert summary["n"] == 1
    assert summary["psnr"] > clipped_psnr(noisy, clean) + 3
    assert summary["images"][0]["psnr"] == summary["psnr"]
