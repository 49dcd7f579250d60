"""Training images for the bundled prior: every source that installs offline, or a saved file.

Sources: scikit-image's bundled images, pydicom's test files, matplotlib's
sample data, PyWavelets' ``aero``/``ascent``, scikit-learn's sample photos,
the stardist wheel's nuclei and the project's ``sample_data``, with the
held-out images left out (see ``SKIMAGE_SKIP`` and friends).
:func:`save_data` writes what was collected, with the validation images, to
one ``.npz`` (float16); :func:`load_data` reads it back, so a machine without
the sources' packages (a rented GPU) trains on the same images.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLES_DIR = ROOT / "sample_data"
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


def save_data(path: Path, data: list[tuple[str, str, np.ndarray]], val: dict[str, np.ndarray]):
    """Training images (name, group, image) and validation images as float16 in one ``.npz``."""
    arrays = {f"train{k}": image.astype(np.float16) for k, (_, _, image) in enumerate(data)}
    arrays |= {f"val_{name}": image.astype(np.float16) for name, image in val.items()}
    names = np.array([f"{group}\t{name}" for name, group, _ in data])
    np.savez_compressed(path, names=names, **arrays)


def load_data(path: Path) -> tuple[list[tuple[str, str, np.ndarray]], dict[str, np.ndarray]]:
    """Inverse of :func:`save_data` (float32 images)."""
    with np.load(path) as saved:
        data = []
        for k, entry in enumerate(saved["names"]):
            group, name = str(entry).split("\t", 1)
            data.append((name, group, saved[f"train{k}"].astype(np.float32)))
        val = {
            key[4:]: saved[key].astype(np.float32) for key in saved.files if key.startswith("val_")
        }
    return data, val
