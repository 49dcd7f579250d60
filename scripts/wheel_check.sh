#!/usr/bin/env bash
# Build the wheel, install it into a clean venv, and check that the napari manifest
# and the sample data ship inside it and that npe2 validates the plugin.
set -euo pipefail
python=${1:-python3}
torch=${2:-torch==2.13.0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python -m build --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet "$torch" "$work"/dist/*.whl
cd "$work"
"$work/venv/bin/python" - <<'PY'
from importlib.resources import files
import napari_tweedie
from napari_tweedie._sample_data import SAMPLES, load_sample
root = files("napari_tweedie")
assert (root / "napari.yaml").is_file(), "napari.yaml missing from the wheel"
assert "site-packages" in str(root), f"not the installed wheel: {root}"
for name in SAMPLES:
    sample = load_sample(name)
    assert sample["noisy"].size > 0, name
print(f"wheel ok: manifest and {len(SAMPLES)} samples found in {root}")
PY
"$work/venv/bin/npe2" validate napari-tweedie
