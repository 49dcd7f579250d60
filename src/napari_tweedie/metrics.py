"""Image-quality figures shared by the benchmarks and the prior's training (numpy, skimage)."""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio


def clipped_psnr(estimate: np.ndarray, clean: np.ndarray) -> float:
    """PSNR (dB) of ``estimate`` clipped to [0, 1] against ``clean`` on [0, 1] (as for Set12)."""
    estimate = np.clip(np.asarray(estimate, np.float64), 0.0, 1.0)
    return float(peak_signal_noise_ratio(np.asarray(clean, np.float64), estimate, data_range=1.0))
