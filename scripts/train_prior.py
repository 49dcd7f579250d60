"""Train the bundled prior (``weights/prior.safetensors``) on images that install offline.

Data: scikit-image's bundled images (``camera`` left out: Set12 contains it;
``astronaut`` and ``hubble_deep_field`` held out for validation), pydicom's CT/MR
test files that decode (``CT_small.dcm`` held out: it is the ``ct_low_dose``
sample), matplotlib's ``s1045.ima.gz`` MRI slice, ``grace_hopper.jpg`` and
``Minduka_Present_Blue_Pack.png``, PyWavelets' ``aero`` and ``ascent`` and
scikit-learn's ``china`` and ``flower`` (when installed), the stardist wheel's ``img2d.tif``/``img3d.tif`` nuclei, and the sample images in
``sample_data/*_clean.tif`` whose source is not already loaded (never
``hubble`` or ``ct_low_dose``).  Set12 is never read here: it is the test set
(``benchmarks/bench_prior.py``).

Examples
--------
python scripts/train_prior.py --minutes 150 --threads 1            # fresh start
python scripts/train_prior.py --minutes 150 --threads 1 --resume   # continue
python scripts/train_prior.py --device cuda --batch 64 --patch 128 --minutes 60 --resume
python scripts/train_prior.py --list-data

Outputs: ``training/prior_state.pt`` (full state: weights, EMA, optimiser, step,
random state, elapsed time; loaded with ``torch.load(weights_only=True)``),
``training/prior_log.csv`` (one line per validation), the EMA weights in
``src/napari_tweedie/weights/prior.safetensors`` (fp16) and the model card next
to them.  State and weights are saved every ``--save-every`` minutes, at the
end of the time budget and on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import copy
import csv
import datetime
import glob
import gzip
import io
import json
import math
import os
import platform
import signal
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as tf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from napari_tweedie.benchmark import clipped_psnr as psnr  # noqa: E402
from napari_tweedie.prior.bundled import WEIGHTS_PATH, pad_to_multiple, pick_device  # noqa: E402
from napari_tweedie.prior.network import EDMDenoiser, NetConfig, count_parameters  # noqa: E402

STATE_PATH = ROOT / "training" / "prior_state.pt"
LOG_PATH = ROOT / "training" / "prior_log.csv"
CARD_PATH = WEIGHTS_PATH.parent / "MODEL_CARD.md"
SAMPLES_DIR = ROOT / "sample_data"
SET12_BEGIN, SET12_END = "<!-- set12:begin -->", "<!-- set12:end -->"

SKIMAGE_SKIP = {
    "camera": "Set12 (the test set) contains the cameraman",
    "astronaut": "validation",
    "hubble_deep_field": "the hubble sample is held out for evaluation",
    "cat": "same photograph as chelsea",
    "lfw_subset": "25x25 faces, smaller than a patch",
    "download_all": "not an image",
    "file_hash": "not an image",
    "lbp_frontal_face_cascade_filename": "not an image",
}
SKIMAGE_SYNTHETIC = {"binary_blobs", "checkerboard", "colorwheel", "horse", "logo"}
DICOM_SKIP = {"CT_small.dcm": "source of the ct_low_dose sample (held out)"}
SAMPLES_SKIP = {"hubble": "held out for evaluation", "ct_low_dose": "held out for evaluation"}
#: sample name -> the source whose presence makes it a duplicate
SAMPLE_SOURCES = {"nuclei_2d": "stardist", "nuclei_3d": "stardist", "mri_slice": "mpl:s1045"}
GROUP_WEIGHTS = {"photo": 0.65, "medical": 0.17, "microscopy": 0.12, "synthetic": 0.06}
AREA_CAP = 512 * 512
VAL_CASES = (("astronaut", 15), ("astronaut", 25), ("astronaut", 50), ("hubble", 25))


# --------------------------------------------------------------------------- data
def to_unit(array, robust: bool = True) -> np.ndarray | None:
    """Scale a 2-D array to [0, 1] (0.5/99.5 percentiles or min/max); None if flat."""
    a = np.asarray(array, dtype=np.float64)
    lo, hi = np.percentile(a, [0.5, 99.5]) if robust else (a.min(), a.max())
    if not hi > lo:
        lo, hi = a.min(), a.max()
        if not hi > lo:
            return None
    return np.clip((a - lo) / (hi - lo), 0, 1).astype(np.float32)


def to_gray(array) -> np.ndarray:
    from skimage import color

    a = np.asarray(array)
    if a.ndim == 3 and a.shape[-1] == 4:
        a = color.rgba2rgb(a)
    if a.ndim == 3 and a.shape[-1] == 3:
        a = color.rgb2gray(a)
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255
    return a.astype(np.float32)


def skimage_images(log) -> list[tuple[str, str, np.ndarray]]:
    """Every ``skimage.data`` image that loads without the network (pooch disabled)."""
    import skimage.data as data
    from skimage.data import _fetchers

    out = []
    saved = getattr(_fetchers, "_image_fetcher", None)
    _fetchers._image_fetcher = None  # only files shipped with (or cached by) scikit-image
    try:
        for name in sorted(data.__all__):
            func = getattr(data, name, None)
            if name in SKIMAGE_SKIP or not callable(func):
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    image = func()
            except Exception as error:  # needs a download, or anything else
                log(f"  skimage.{name}: skipped ({type(error).__name__})")
                continue
            if isinstance(image, tuple):  # stereo_motorcycle: (left, right, disparity)
                image = image[0]
            image = np.asarray(image)
            if image.dtype == bool:
                image = image.astype(np.float32)
            if image.ndim not in (2, 3) or image.dtype.kind not in "uif":
                continue
            gray = to_gray(image)
            unit = gray if 0 <= gray.min() < gray.max() <= 1 else to_unit(gray, robust=False)
            group = "synthetic" if name in SKIMAGE_SYNTHETIC else "photo"
            if name == "shepp_logan_phantom":
                group = "medical"
            if unit is not None:
                out.append((f"skimage.{name}", group, unit))
    finally:
        _fetchers._image_fetcher = saved
    return out


def dicom_images(log) -> list[tuple[str, str, np.ndarray]]:
    """Grayscale CT/MR/... slices of pydicom's test files that decode (frames subsampled)."""
    try:
        import pydicom
        from pydicom.data import get_testdata_files
    except ImportError:
        log("  pydicom not installed: no DICOM data")
        return []
    out = []
    for path in sorted(get_testdata_files()):
        name = Path(path).name
        if name in DICOM_SKIP:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path)
                photometric = str(ds.get("PhotometricInterpretation", ""))
                if "MONOCHROME" not in photometric or ds.get("Modality") in ("SEG", "RTDOSE"):
                    continue
                pixels = np.asarray(ds.pixel_array)
        except Exception:
            continue
        frames = pixels[None] if pixels.ndim == 2 else pixels
        if frames.ndim != 3:
            continue
        for k in range(0, len(frames), max(1, len(frames) // 4)):
            unit = to_unit(frames[k])
            if unit is None or min(unit.shape) < 48:
                continue
            if photometric == "MONOCHROME1":
                unit = 1 - unit
            group = "synthetic" if ds.get("Modality") == "OT" else "medical"
            out.append((f"pydicom:{name}" + (f"[{k}]" if len(frames) > 1 else ""), group, unit))
    return out


def matplotlib_images(log) -> list[tuple[str, str, np.ndarray]]:
    """matplotlib's sample MRI slice (s1045.ima.gz) and grace_hopper.jpg."""
    out = []
    try:
        from matplotlib import cbook
        from matplotlib import image as mpimg

        path = cbook.get_sample_data("s1045.ima.gz", asfileobj=False)
        raw = np.frombuffer(gzip.decompress(Path(path).read_bytes()), dtype=">u2")
        out.append(("mpl:s1045", "medical", to_unit(raw.reshape(256, 256))))
        for name in ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png"):
            photo = mpimg.imread(cbook.get_sample_data(name, asfileobj=False))
            unit = to_unit(to_gray(photo), robust=False)
            out.append((f"mpl:{name.split('.')[0]}", "photo", unit))
    except Exception as error:
        log(f"  matplotlib sample data: skipped ({type(error).__name__}: {error})")
    return out


def extra_photos(log) -> list[tuple[str, str, np.ndarray]]:
    """Photographs shipped in other wheels: PyWavelets' aero/ascent, scikit-learn's china/flower.

    PyWavelets comes with ``bm3d``; scikit-learn is optional (training only). Neither
    set overlaps Set12 (PyWavelets' ``camera`` is the cameraman and is left out).
    """
    out = []
    try:
        import pywt.data

        for name in ("aero", "ascent"):
            out.append((f"pywt:{name}", "photo", to_gray(getattr(pywt.data, name)())))
    except Exception as error:
        log(f"  PyWavelets images: skipped ({type(error).__name__}: {error})")
    try:
        from sklearn.datasets import load_sample_images

        found = load_sample_images()
        for path, image in zip(found.filenames, found.images):
            out.append((f"sklearn:{Path(path).stem}", "photo", to_gray(image)))
    except Exception as error:
        log(f"  scikit-learn sample images: skipped ({type(error).__name__}: {error})")
    return out


def find_stardist_wheel(given: str | None) -> Path | None:
    if given:
        return Path(given)
    env = os.environ.get("NAPARI_TWEEDIE_STARDIST_WHEEL")
    if env and Path(env).is_file():
        return Path(env)
    cache = os.environ.get("NAPARI_TWEEDIE_CACHE", os.path.join(tempfile.gettempdir(), "stardist"))
    found = sorted(glob.glob(os.path.join(cache, "stardist-0.9.2-*.whl")))
    return Path(found[-1]) if found else None


def stardist_images(wheel: Path | None, log) -> list[tuple[str, str, np.ndarray]]:
    """The nuclei images inside the stardist wheel (read with zipfile + tifffile)."""
    import tifffile

    if wheel is None or not wheel.is_file():
        log("  stardist wheel not found: using the nuclei sample images instead")
        return []
    out = []
    with zipfile.ZipFile(wheel) as archive:
        image2d = tifffile.imread(io.BytesIO(archive.read("stardist/data/images/img2d.tif")))
        image3d = tifffile.imread(io.BytesIO(archive.read("stardist/data/images/img3d.tif")))
    out.append(("stardist:img2d", "microscopy", to_unit(image2d)))
    scale = np.percentile(image3d, [0.5, 99.5])  # one scaling for the whole stack
    for z in range(0, len(image3d), 3):
        plane = np.clip((image3d[z] - scale[0]) / (scale[1] - scale[0]), 0, 1)
        out.append((f"stardist:img3d[{z}]", "microscopy", plane.astype(np.float32)))
    return out


def sample_images(loaded: set[str], log) -> list[tuple[str, str, np.ndarray]]:
    """``sample_data/*_clean.tif`` not held out and not duplicating a loaded source."""
    import tifffile

    out = []
    for path in sorted(SAMPLES_DIR.glob("*_clean.tif")):
        name = path.name[: -len("_clean.tif")]
        if name in SAMPLES_SKIP or SAMPLE_SOURCES.get(name, "") in loaded:
            continue
        image = tifffile.imread(path)
        group = "microscopy" if name.startswith("nuclei") else "medical"
        planes = image[::3] if image.ndim == 3 else [image]
        for z, plane in enumerate(planes):
            unit = to_unit(plane)
            if unit is not None:
                out.append(
                    (f"sample:{name}" + (f"[{3 * z}]" if image.ndim == 3 else ""), group, unit)
                )
    return out


def _duplicate(image: np.ndarray, kept: list[tuple[str, str, np.ndarray]]) -> str | None:
    for name, _, other in kept:
        if other.shape == image.shape and float(np.abs(other - image).mean()) < 0.01:
            return name
    return None


def collect_data(wheel: Path | None, log=print) -> list[tuple[str, str, np.ndarray]]:
    """All training images as (name, group, float32 2-D array on [0, 1]), de-duplicated."""
    found = skimage_images(log) + dicom_images(log) + matplotlib_images(log)
    found += extra_photos(log)
    found += stardist_images(wheel, log)
    loaded = {"stardist" for n, _, _ in found if n.startswith("stardist:")}
    loaded |= {n for n, _, _ in found if n.startswith("mpl:")}
    found += sample_images(loaded, log)
    kept: list[tuple[str, str, np.ndarray]] = []
    for name, group, image in found:
        twin = _duplicate(image, kept)
        if twin:
            log(f"  {name}: duplicate of {twin}, skipped")
        else:
            kept.append((name, group, image))
    return kept


def validation_images() -> dict[str, np.ndarray]:
    """Held-out clean images on [0, 1]: grey astronaut and the hubble sample (512 x 512)."""
    import skimage.data
    import tifffile

    out = {"astronaut": to_gray(skimage.data.astronaut())}
    path = SAMPLES_DIR / "hubble_clean.tif"
    if path.is_file():
        out["hubble"] = np.clip(tifffile.imread(path).astype(np.float32), 0, 1)
    else:
        out["hubble"] = to_gray(skimage.data.hubble_deep_field())[:512, :512]
    return out


class PatchSampler:
    """Random training patches with augmentation and noise levels."""

    def __init__(self, data, patch: int, rng: np.random.Generator):
        self.images = [image for _, _, image in data]
        groups = [group for _, group, _ in data]
        area = np.array([min(im.size, AREA_CAP) for im in self.images], float)
        weights = np.zeros(len(data))
        for group, weight in GROUP_WEIGHTS.items():
            members = np.array([g == group for g in groups])
            if members.any():
                weights[members] = weight * area[members] / area[members].sum()
        self.p = weights / weights.sum()
        self.patch, self.rng = patch, rng

    def crop(self) -> np.ndarray:
        rng, p = self.rng, self.patch
        image = self.images[rng.choice(len(self.images), p=self.p)]
        scale = 1.0 if rng.random() < 0.65 else math.exp(rng.uniform(0, math.log(2.5)))
        size = min(int(round(p * scale)), *image.shape)
        if size < p:  # small image: pad by reflection
            image = np.pad(image, [(0, max(0, p - s)) for s in image.shape], mode="symmetric")
            size = p
        y, x = (
            rng.integers(0, image.shape[0] - size + 1),
            rng.integers(0, image.shape[1] - size + 1),
        )
        crop = image[y : y + size, x : x + size]
        if size != p:
            t = torch.from_numpy(np.ascontiguousarray(crop))[None, None]
            t = tf.interpolate(t, size=(p, p), mode="bilinear", antialias=True, align_corners=False)
            crop = t[0, 0].numpy()
        crop = np.rot90(crop, rng.integers(4))
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        crop = np.clip(crop, 0, 1)
        if rng.random() < 0.5:
            crop = crop ** math.exp(rng.uniform(math.log(0.6), math.log(1.6)))
        if rng.random() < 0.5:
            gain = rng.uniform(0.4, 1.0)
            crop = gain * crop + rng.uniform(0, 1 - gain)
        if rng.random() < 0.1:
            crop = 1 - crop
        return np.ascontiguousarray(crop, dtype=np.float32)

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(clean (n,1,p,p), sigma (n,), standard normal noise (n,1,p,p))."""
        clean = torch.from_numpy(np.stack([self.crop() for _ in range(n)])[:, None])
        return (
            clean,
            torch.from_numpy(sample_sigma(n, self.rng)),
            torch.from_numpy(self.rng.standard_normal(clean.shape, dtype=np.float32)),
        )


def sample_sigma(n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise levels: a mixture that emphasises denoising but covers diffusion's whole range.

    45% log-uniform on [0.01, 0.3] (plain denoising), 40% EDM log-normal
    (P_mean -1.2, P_std 1.2), 15% log-uniform on [0.002, 100] (the extremes a
    VP sampler visits: sigma = sqrt((1 - abar) / abar) up to ~100).
    """
    pick = rng.random(n)
    denoising = rng.uniform(math.log(0.01), math.log(0.3), n)
    normal = rng.normal(-1.2, 1.2, n)
    wide = rng.uniform(math.log(0.002), math.log(100), n)
    log_sigma = np.where(pick < 0.45, denoising, np.where(pick < 0.85, normal, wide))
    return np.clip(np.exp(log_sigma), 0.002, 100).astype(np.float32)


# --------------------------------------------------------------------------- evaluation


@torch.no_grad()
def validate(model: EDMDenoiser, images: dict[str, np.ndarray], device) -> dict[str, float]:
    """PSNR (dB) on the held-out images at the noise levels of :data:`VAL_CASES` (fixed noise)."""
    model.eval()
    out = {}
    for k, (name, level) in enumerate(VAL_CASES):
        clean = images[name]
        noise = np.random.default_rng(1000 + k).standard_normal(clean.shape).astype(np.float32)
        noisy = torch.from_numpy(clean + level / 255 * noise)[None, None].to(device)
        padded, (h, w) = pad_to_multiple(noisy, model.config.multiple)
        sigma = torch.full((1,), level / 255, device=device)
        estimate = model(as_layout(padded, device), sigma)[0, 0, :h, :w].float().cpu().numpy()
        out[f"val_{name}_{level}"] = round(psnr(estimate, clean), 3)
    return out


def as_layout(x: torch.Tensor, device) -> torch.Tensor:
    """channels_last on CPU (faster oneDNN convolutions), unchanged elsewhere."""
    return x.contiguous(memory_format=torch.channels_last) if device.type == "cpu" else x


# --------------------------------------------------------------------------- saving
def atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp-write")
    write(tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def save_weights(ema: EDMDenoiser, info: dict, path: Path = WEIGHTS_PATH) -> None:
    """EMA weights as fp16 safetensors, with the architecture and training info as metadata."""
    from safetensors.torch import save_file

    tensors = {
        k: v.detach().to("cpu", torch.float16).contiguous() for k, v in ema.state_dict().items()
    }
    metadata = {
        "format": "napari-tweedie-prior/1",
        "config": json.dumps(ema.config.to_dict()),
        "step": str(info["step"]),
        "train_seconds": str(round(info["elapsed"], 1)),
        "data_range": "[0, 1]",
        "sigma_convention": "x = x0 + sigma * n; returns E[x0 | x]",
    }
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def hardware(device: torch.device, threads: int) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA), torch {torch.__version__}"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {threads} thread(s), {device.type}, torch {torch.__version__}"


def write_card(state: dict, data_summary: list[dict], path: Path = CARD_PATH) -> None:
    """Render the model card from the training state; keeps the Set12 block of bench_prior.py."""
    old = path.read_text() if path.is_file() else ""
    hint = "Not measured yet: run `python benchmarks/bench_prior.py --update-card`."
    set12 = f"{SET12_BEGIN}\n{hint}\n{SET12_END}"
    if SET12_BEGIN in old and SET12_END in old:
        set12 = old[old.index(SET12_BEGIN) : old.index(SET12_END) + len(SET12_END)]
    config = NetConfig.from_dict(state["config"])
    hours = state["elapsed"] / 3600
    sessions = "\n".join(
        f"| {s['started']} | {s['minutes']:.1f} | {s['steps']} | {s['hardware']} "
        f"| `{s['command']}` |"
        for s in state["sessions"]
    )
    groups: dict[str, list[str]] = {}
    for item in data_summary:
        groups.setdefault(item["group"], []).append(f"{item['name']} ({item['shape']})")
    data_lines = "\n".join(
        f"- **{g}** (sampling weight {GROUP_WEIGHTS[g]}): " + ", ".join(names)
        for g, names in groups.items()
    )
    val = state.get("last_val") or {}
    val_line = ", ".join(f"{k[4:]}: {v:.2f} dB" for k, v in val.items()) or "not yet measured"
    text = CARD_TEMPLATE.format(
        params=state["params"],
        channels=list(config.channels),
        blocks=config.blocks,
        sigma_data=config.sigma_data,
        center=config.center,
        step=state["step"],
        hours=hours,
        sessions=sessions,
        data=data_lines,
        val=val_line,
        set12=set12,
        n_images=len(data_summary),
        patch=state["last_args"]["patch"],
        batch=state["last_args"]["batch"],
    )
    atomic_write(path, lambda tmp: tmp.write_text(text))


CARD_TEMPLATE = """\
# Model card: napari-tweedie bundled prior (`prior.safetensors`)

A noise-conditional Gaussian denoiser `D(x, sigma) = E[x0 | x]` for single-channel
images with clean values on [0, 1] and `x = x0 + sigma * n`, usable as a plain
denoiser and as the score model of diffusion samplers
(`score = (D(x, sigma) - x) / sigma**2`). Load it with
`napari_tweedie.prior.load_prior()`; in the registry it is the method `"prior"`.

## Architecture

- UNet, {blocks} residual blocks per level on the way down and {blocks} on the way up,
  channels {channels}, 2x2 stride-2 convolutions down, 2x2 transposed convolutions up,
  additive skips, no attention, no normalisation: {params:,} parameters, stored in fp16.
- All convolutions are bias-free (Mohan et al., ICLR 2020): at a fixed noise level
  the network is positively homogeneous in its input, which is what lets bias-free
  denoisers generalise across noise levels. The noise level enters only as a
  per-channel gain `1 + g(log(sigma) / 4)` (FiLM without the additive part).
- EDM preconditioning (Karras et al., 2022) around `center = {center}`, `sigma_data = {sigma_data}`:
  `D = center + c_skip (x - center) + c_out F(c_in (x - center), log(sigma) / 4)`.
  `D -> x` as `sigma -> 0` for any weights (`c_skip -> 1`, `c_out -> 0`); as
  `sigma -> inf` the input reaching `F` is unit-variance noise and `F` is trained to
  return the data mean. The output layer starts at zero, so training starts from the
  linear shrinkage `center + c_skip (x - center)`.
- Why this size: CPU time is the budget. On the 2-core AMD EPYC (AVX2) machine it was
  trained on, a training step of {batch} x {patch}^2 patches takes about 1.3 s on an
  idle core (2-3.5 s while the machine is shared), and a 256 x 256 denoise about
  0.35 s at one thread. Widening to 48-96-192 doubled the step time; a fourth level
  adds little time but quadruples the parameters. Three levels give a receptive
  field of about 120 px, ample for Gaussian denoising at sigma 25/255. The weights
  (fp16, 3.4 MB) and the resumable state (~27 MB) stay small enough to commit.

## Training data ({n_images} images, all installable offline)

{data}

Held out: scikit-image `camera` (Set12 contains the cameraman), `astronaut` and the
`hubble` sample (a crop of `hubble_deep_field`, used for validation), pydicom's
`CT_small.dcm` (source of the `ct_low_dose` sample); the `hubble` and `ct_low_dose`
samples are kept for evaluation. Set12 is used only for testing. Images smaller
than a patch are reflected; duplicates (same image in another file) are dropped.

Augmentation: random crops (35% of them taken 1-2.5x larger and downscaled with
antialiasing), rot90, flips, random gamma (0.6-1.6), random contrast/offset within
[0, 1], 10% inversion. Noise levels: 45% log-uniform on [0.01, 0.3], 40% EDM
log-normal (P_mean -1.2, P_std 1.2), 15% log-uniform on [0.002, 100]. Loss: EDM-weighted MSE
`(sigma^2 + sigma_data^2) / (sigma sigma_data)^2 * |D(x0 + sigma n, sigma) - x0|^2`.
AdamW (betas 0.9/0.99), cosine learning-rate decay over each session's time budget
after a short warm-up; weights are an exponential moving average (decay 0.999).

## Training record

Total training time {hours:.2f} h, {step} steps.

| session start (UTC) | minutes | steps | hardware | command |
|---|---|---|---|---|
{sessions}

Latest validation PSNR (held-out images, fixed noise, on [0, 1]): {val}.

## Set12, Gaussian sigma = 25/255 (plain denoiser; BM3D: 29.96 dB)

{set12}

## Limitations

Trained on a few dozen images for a few CPU hours: a compact prior, well below
state-of-the-art supervised denoisers. Single channel only; clean data must be
scaled to [0, 1]. Noise levels outside [0.002, 100] were never seen in training.
"""


# --------------------------------------------------------------------------- training
def lr_at(args, session_seconds: float, session_steps: int) -> float:
    """Warm-up over the session's first steps, then cosine decay over its time budget."""
    frac = min(1.0, session_seconds / (args.minutes * 60))
    lr = args.lr_min + 0.5 * (args.lr - args.lr_min) * (1 + math.cos(math.pi * frac))
    return lr * min(1.0, (session_steps + 1) / args.warmup)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=150, help="time budget of this run")
    parser.add_argument("--resume", action="store_true", help="continue from the saved state")
    parser.add_argument("--overwrite", action="store_true", help="start afresh over a saved state")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    parser.add_argument("--batch", type=int, default=None, help="default 16 (CPU), 64 (GPU)")
    parser.add_argument("--patch", type=int, default=None, help="default 64 (CPU), 128 (GPU)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--lr-min", type=float, default=1e-5)
    parser.add_argument("--warmup", type=int, default=200, help="warm-up steps per session")
    parser.add_argument("--clip", type=float, default=10.0, help="gradient-norm clip")
    parser.add_argument("--ema", type=float, default=0.999, help="EMA decay per step")
    parser.add_argument("--eval-every", type=float, default=10, help="minutes between validations")
    parser.add_argument("--save-every", type=float, default=5, help="minutes between checkpoints")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--channels", default="32,64,128", help="UNet widths (fresh start only)")
    parser.add_argument("--blocks", type=int, default=2, help="blocks per level (fresh start)")
    parser.add_argument("--stardist-wheel", default=None, help="path to stardist-0.9.2-*.whl")
    parser.add_argument("--state", type=Path, default=STATE_PATH)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_PATH)
    parser.add_argument("--list-data", action="store_true", help="print the data and exit")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    gpu = device.type != "cpu"
    args.batch = args.batch or (64 if gpu else 16)
    args.patch = args.patch or (128 if gpu else 64)
    if gpu and device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    card_path = args.weights.parent / "MODEL_CARD.md"

    def log(message: str) -> None:
        print(message, flush=True)

    log("collecting data ...")
    data = collect_data(find_stardist_wheel(args.stardist_wheel), log)
    summary = [{"name": n, "group": g, "shape": "x".join(map(str, im.shape))} for n, g, im in data]
    for item in summary:
        log(f"  {item['group']:10s} {item['name']} {item['shape']}")
    log(f"{len(data)} training images, {sum(im.size for _, _, im in data) / 1e6:.1f} Mpixel")
    if args.list_data:
        return 0

    if args.state.is_file() and not (args.resume or args.overwrite):
        log(f"{args.state} exists: pass --resume to continue or --overwrite to start afresh")
        return 2
    state = None
    if args.resume and args.state.is_file():
        state = torch.load(args.state, map_location="cpu", weights_only=True)
        config = NetConfig.from_dict(state["config"])
        log(f"resuming from {args.state}: step {state['step']}, {state['elapsed'] / 3600:.2f} h")
    else:
        if args.resume:
            log(f"no state at {args.state}: starting afresh")
        channels = tuple(int(c) for c in args.channels.split(","))
        config = NetConfig(channels=channels, blocks=args.blocks)
    torch.manual_seed(args.seed)
    model = EDMDenoiser(config)
    ema = copy.deepcopy(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.99), weight_decay=0)
    rng = np.random.default_rng(args.seed)
    if state is not None:
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        rng.bit_generator.state = json.loads(state["numpy_rng"])
        torch.set_rng_state(state["torch_rng"])
    else:
        state = {"step": 0, "elapsed": 0.0, "sessions": [], "last_val": {}}
    state["config"] = config.to_dict()
    state["params"] = count_parameters(model)
    state["last_args"] = {"batch": args.batch, "patch": args.patch}
    model.to(device)
    ema.to(device)
    if device.type == "cpu":
        model.to(memory_format=torch.channels_last)
        ema.to(memory_format=torch.channels_last)
    for p in ema.parameters():
        p.requires_grad_(False)
    log(f"model: {state['params']:,} parameters, channels {config.channels}, device {device}")

    session = {
        "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "minutes": 0.0,
        "steps": 0,
        "hardware": hardware(device, args.threads),
        "command": "python scripts/train_prior.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
    }
    state["sessions"].append(session)
    sampler = PatchSampler(data, args.patch, rng)
    val_images = validation_images()
    stop = {"signal": None}

    def on_signal(signum, frame):
        stop["signal"] = signum

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sd = config.sigma_data
    base_elapsed = state["elapsed"]
    t0 = time.monotonic()
    last_save = last_eval = t0
    loss_avg, step_times, grad_norms, session_steps = None, [], [], 0

    def checkpoint(with_eval: bool) -> None:
        now = time.monotonic()
        state["elapsed"] = base_elapsed + (now - t0)
        session["minutes"] = round((now - t0) / 60, 2)
        session["steps"] = session_steps
        if with_eval:
            val = validate(ema, val_images, device)
            state["last_val"] = val
            row = {
                "utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "step": state["step"],
                "hours": round(state["elapsed"] / 3600, 4),
                "lr": f"{optimizer.param_groups[0]['lr']:.3g}",
                "loss": f"{loss_avg:.5f}" if loss_avg is not None else "",
                "s_per_step": f"{np.mean(step_times[-200:]):.3f}" if step_times else "",
                **val,
            }
            log_path = args.state.parent / LOG_PATH.name
            new = not log_path.is_file()
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(log_path, "a", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(row))
                if new:
                    writer.writeheader()
                writer.writerow(row)
            log(f"step {state['step']}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
            model.train()
        full = dict(
            state,
            model=model.state_dict(),
            ema=ema.state_dict(),
            optimizer=optimizer.state_dict(),
            numpy_rng=json.dumps(rng.bit_generator.state),
            torch_rng=torch.get_rng_state(),
        )
        atomic_write(args.state, lambda tmp: torch.save(full, tmp))
        save_weights(ema, state, args.weights)
        write_card(state, summary, card_path)
        log(f"saved state at step {state['step']} ({state['elapsed'] / 3600:.2f} h in total)")

    # reserve time for the final validation + save so that the run ends within its budget
    budget = args.minutes * 60 - min(60.0, 0.1 * args.minutes * 60) - (time.monotonic() - started)
    model.train()
    while stop["signal"] is None and time.monotonic() - t0 < budget:
        t_step = time.monotonic()
        lr = lr_at(args, t_step - t0, session_steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        clean, sigma, noise = sampler.batch(args.batch)
        clean, sigma, noise = clean.to(device), sigma.to(device), noise.to(device)
        noisy = as_layout(clean + sigma[:, None, None, None] * noise, device)
        weight = (sigma**2 + sd**2) / (sigma * sd) ** 2
        loss = (weight[:, None, None, None] * (model(noisy, sigma) - clean) ** 2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)))
        optimizer.step()
        state["step"] += 1
        session_steps += 1
        decay = min(args.ema, (1 + state["step"]) / (10 + state["step"]))
        with torch.no_grad():
            for p_ema, p in zip(ema.parameters(), model.parameters(), strict=True):
                p_ema.lerp_(p, 1 - decay)
        value = loss.item()
        if not math.isfinite(value):
            log(f"non-finite loss at step {state['step']}; stopping without saving")
            return 3
        loss_avg = value if loss_avg is None else 0.99 * loss_avg + 0.01 * value
        step_times.append(time.monotonic() - t_step)
        if session_steps % 50 == 0:
            log(
                f"step {state['step']} loss {loss_avg:.4f} lr {lr:.2e} "
                f"{np.mean(step_times[-50:]):.2f} s/step, "
                f"grad norm {np.median(grad_norms[-50:]):.2f}"
            )
        now = time.monotonic()
        if now - last_eval >= args.eval_every * 60:
            checkpoint(with_eval=True)
            last_eval = last_save = time.monotonic()
        elif now - last_save >= args.save_every * 60:
            checkpoint(with_eval=False)
            last_save = time.monotonic()
    if stop["signal"] is not None:
        log(f"signal {stop['signal']}: saving and stopping")
    checkpoint(with_eval=True)
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
