"""The prior's training script: a tiny run from a saved data file trains, saves and resumes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture
def train_prior(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import prior_data
    import train_prior

    return train_prior, prior_data


def test_tiny_run_from_a_data_file_saves_weights_and_card_and_resumes(tmp_path, train_prior):
    script, data_module = train_prior
    rng = np.random.default_rng(0)
    images = [
        ("a", "photo", rng.random((40, 50), np.float32)),
        ("b", "medical", rng.random((80, 70), np.float32)),
    ]
    val = {
        "astronaut": rng.random((32, 32), np.float32),
        "hubble": rng.random((32, 36), np.float32),
    }
    data_file = tmp_path / "data.npz"
    data_module.save_data(data_file, images, val)
    loaded, loaded_val = data_module.load_data(data_file)
    assert [(n, g) for n, g, _ in loaded] == [("a", "photo"), ("b", "medical")]
    np.testing.assert_allclose(loaded[1][2], images[1][2], atol=1e-3)  # stored as float16
    assert set(loaded_val) == {"astronaut", "hubble"}

    state, weights = tmp_path / "run" / "state.pt", tmp_path / "run" / "w" / "prior.safetensors"
    common = [
        "--data", str(data_file), "--state", str(state), "--weights", str(weights),
        "--batch", "2", "--patch", "32", "--minutes", "5", "--max-steps", "3", "--device", "cpu",
    ]  # fmt: skip
    # first run as on a rented GPU's python: no dask, zarr, pydicom or PyWavelets
    blocked = (
        "import sys, runpy; sys.modules.update(dict.fromkeys(['dask', 'zarr', 'pydicom', 'pywt']))"
    )
    run = f"{blocked}; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    args = [str(SCRIPTS / "train_prior.py"), *common, "--channels", "8,16", "--blocks", "1"]
    done = subprocess.run([sys.executable, "-c", run, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    first = torch.load(state, weights_only=True)
    assert first["step"] == 3 and first["config"]["channels"] == [8, 16]
    assert weights.is_file() and (weights.parent / "MODEL_CARD.md").is_file()
    assert set(first["last_val"]) == {f"val_{n}_{s}" for n, s in script.VAL_CASES}
    assert script.main(common) == 2  # a state is there: --resume or --overwrite, not silence
    assert script.main([*common, "--resume"]) == 0
    second = torch.load(state, weights_only=True)
    assert second["step"] == first["step"] + 3 and len(second["sessions"]) == 2
