"""Regenerate the napari-tweedie sample images deterministically.

Every sample is a real image taken from a package that installs offline
(pydicom, matplotlib, scikit-image, the stardist wheel), degraded with a
realistic, seeded noise model. For each sample ``<name>`` two float32 TIFF
files (zlib compressed) are written next to this script,
``<name>_noisy.tif`` and ``<name>_clean.tif``, and all parameters are
collected in ``samples.json``. See ``README.md`` for the details.

Usage::

    python sample_data/make_samples.py [--wheel PATH] [--out DIR]

The stardist wheel (for the two nuclei samples) is looked up, in order, from
``--wheel``, the ``NAPARI_TWEEDIE_STARDIST_WHEEL`` environment variable, the
cache folder (``NAPARI_TWEEDIE_CACHE`` or ``<tmp>/stardist``), and finally
downloaded there with ``pip download stardist==0.9.2 --no-deps``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

#: Base seed; sample ``k`` (position in :data:`SAMPLE_ORDER`) uses ``BASE_SEED + k``.
BASE_SEED = 20251127
SAMPLE_ORDER = ("ct_low_dose", "nuclei_2d", "nuclei_3d", "mri_slice", "hubble")
INDEX_NAME = "samples.json"
STARDIST_VERSION = "0.9.2"
WHEEL_ENV = "NAPARI_TWEEDIE_STARDIST_WHEEL"
CACHE_ENV = "NAPARI_TWEEDIE_CACHE"

# CT simulation parameters.
CT_SIZE = 256
CT_N_ANGLES = 360
CT_I0 = 5.0e4
CT_MU_WATER_PER_MM = 0.02
# Poisson-Gaussian parameters (image normalised to [0, 1]).
NUCLEI_2D_NOISE = {"zeta": 0.03, "sigma": 0.03}
NUCLEI_3D_NOISE = {"zeta": 0.04, "sigma": 0.03}
NUCLEI_3D_PRESMOOTH = 1.0
HUBBLE_NOISE = {"zeta": 0.01, "sigma": 0.02}
HUBBLE_CROP = (slice(180, 692), slice(244, 756))
# Rician noise: std of each of the real and imaginary Gaussian components.
MRI_SIGMA = 0.05

Sample = dict[str, Any]


# --------------------------------------------------------------------------- helpers
def sha256(data: bytes) -> str:
    """Return the hex SHA-256 digest of ``data``.

    Parameters
    ----------
    data : bytes
        Raw bytes.

    Returns
    -------
    str
        Hexadecimal digest.
    """
    return hashlib.sha256(data).hexdigest()


def normalise_percentile(img: np.ndarray, low: float, high: float) -> np.ndarray:
    """Rescale so that the given percentiles map to 0 and 1, then clip to [0, 1].

    Parameters
    ----------
    img : numpy.ndarray
        Input image.
    low, high : float
        Percentiles (0-100) mapped to 0 and 1.

    Returns
    -------
    numpy.ndarray
        float64 image in [0, 1].
    """
    lo, hi = np.percentile(img, [low, high])
    return np.clip((img.astype(np.float64) - lo) / (hi - lo), 0.0, 1.0)


def poisson_gaussian(
    x: np.ndarray, zeta: float, sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """Apply Poisson-Gaussian noise ``y = zeta * Poisson(x / zeta) + N(0, sigma^2)``.

    Parameters
    ----------
    x : numpy.ndarray
        Non-negative clean image.
    zeta : float
        Gain (intensity of one photon); ``1 / zeta`` photons give intensity 1.
    sigma : float
        Standard deviation of the additive Gaussian (read) noise.
    rng : numpy.random.Generator
        Random generator.

    Returns
    -------
    numpy.ndarray
        Noisy float64 image (may be negative because of the Gaussian part).
    """
    photons = rng.poisson(x / zeta)
    return zeta * photons + rng.normal(0.0, sigma, size=x.shape)


def rician(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Magnitude of ``x`` plus complex white Gaussian noise (Rician distribution).

    Parameters
    ----------
    x : numpy.ndarray
        Clean, real, non-negative magnitude image.
    sigma : float
        Standard deviation of the real and of the imaginary noise component.
    rng : numpy.random.Generator
        Random generator.

    Returns
    -------
    numpy.ndarray
        ``|x + n_re + 1j * n_im|``.
    """
    n_re = rng.normal(0.0, sigma, size=x.shape)
    n_im = rng.normal(0.0, sigma, size=x.shape)
    return np.hypot(x + n_re, n_im)


def psnr(noisy: np.ndarray, clean: np.ndarray, data_range: float) -> float:
    """Peak signal-to-noise ratio in dB.

    Parameters
    ----------
    noisy, clean : numpy.ndarray
        Images of equal shape.
    data_range : float
        Peak value range used as the signal level.

    Returns
    -------
    float
        ``10 log10(data_range^2 / MSE)``.
    """
    mse = np.mean((noisy.astype(np.float64) - clean.astype(np.float64)) ** 2)
    return float(10.0 * np.log10(data_range**2 / mse))


# --------------------------------------------------------------------------- CT
def hu_to_mu(hu: np.ndarray) -> np.ndarray:
    """Convert Hounsfield units to linear attenuation in 1/mm (clipped at 0).

    Parameters
    ----------
    hu : numpy.ndarray
        Image in HU.

    Returns
    -------
    numpy.ndarray
        ``mu_water * (1 + HU / 1000)``, non-negative.
    """
    return np.clip(CT_MU_WATER_PER_MM * (1.0 + hu / 1000.0), 0.0, None)


def mu_to_hu(mu: np.ndarray) -> np.ndarray:
    """Convert linear attenuation in 1/mm to Hounsfield units.

    Parameters
    ----------
    mu : numpy.ndarray
        Attenuation image in 1/mm.

    Returns
    -------
    numpy.ndarray
        ``1000 * (mu / mu_water - 1)``.
    """
    return 1000.0 * (mu / CT_MU_WATER_PER_MM - 1.0)


def fbp(sinogram: np.ndarray, theta: np.ndarray, pixel_mm: float) -> np.ndarray:
    """Filtered back-projection (ramp filter) of line integrals to 1/mm.

    Parameters
    ----------
    sinogram : numpy.ndarray
        Dimensionless line integrals, shape (n_detectors, n_angles).
    theta : numpy.ndarray
        Projection angles in degrees.
    pixel_mm : float
        Pixel size in mm.

    Returns
    -------
    numpy.ndarray
        Reconstructed attenuation (1/mm), shape (CT_SIZE, CT_SIZE).
    """
    from skimage.transform import iradon

    recon = iradon(
        sinogram / pixel_mm,
        theta=theta,
        output_size=CT_SIZE,
        filter_name="ramp",
        interpolation="linear",
        circle=False,
    )
    return recon


def make_ct_low_dose(rng: np.random.Generator) -> Sample:
    """Low-dose CT: Poisson transmission noise on the sinogram, FBP reconstruction.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator.

    Returns
    -------
    dict
        ``{"noisy", "clean", "metadata"}``; images in HU, float32.
    """
    import pydicom
    from pydicom.data import get_testdata_file
    from skimage.transform import radon, resize

    path = Path(get_testdata_file("CT_small.dcm"))
    ds = pydicom.dcmread(path)
    hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    hu_up = resize(hu, (CT_SIZE, CT_SIZE), order=3, mode="edge", anti_aliasing=False)
    pixel_mm = float(ds.PixelSpacing[0]) * hu.shape[0] / CT_SIZE
    theta = np.linspace(0.0, 180.0, CT_N_ANGLES, endpoint=False)
    line_integrals = radon(hu_to_mu(hu_up), theta=theta, circle=False) * pixel_mm
    counts = rng.poisson(CT_I0 * np.exp(-line_integrals))
    noisy_integrals = -np.log(np.maximum(counts, 1) / CT_I0)
    noisy = mu_to_hu(fbp(noisy_integrals, theta, pixel_mm))
    clean = mu_to_hu(fbp(line_integrals, theta, pixel_mm))
    meta = {
        "noise": "ct_poisson_fbp",
        "units": "HU",
        "I0": CT_I0,
        "n_angles": CT_N_ANGLES,
        "angles_deg": [0.0, 180.0],
        "detector_bins": int(line_integrals.shape[0]),
        "mu_water_per_mm": CT_MU_WATER_PER_MM,
        "pixel_spacing_mm": pixel_mm,
        "min_counts": int(counts.min()),
        "max_line_integral": float(line_integrals.max()),
        "reconstruction": "skimage.transform.iradon, ramp filter, linear interpolation",
        "upsampling": "skimage.transform.resize 128->256, order=3, mode='edge'",
        "source": "pydicom test file CT_small.dcm",
        "source_sha256": sha256(path.read_bytes()),
        "licence": "pydicom test data (pydicom: MIT); original: NEMA WG04 CT1_UNC",
        "display_range": [-160.0, 240.0],
    }
    sigma_hu = round(float(np.std(noisy - clean)), 1)
    meta["suggested"] = {"noise": "gaussian", "sigma": sigma_hu}
    return {"noisy": noisy, "clean": clean, "metadata": meta}


# --------------------------------------------------------------------------- nuclei
def find_stardist_wheel(wheel: str | None) -> Path:
    """Locate (or download) the stardist wheel holding the nuclei test images.

    Parameters
    ----------
    wheel : str or None
        Explicit path given on the command line.

    Returns
    -------
    pathlib.Path
        Path of a ``stardist-0.9.2-*.whl`` file.

    Raises
    ------
    FileNotFoundError
        If no wheel is found and ``pip download`` fails.
    """
    explicit = wheel or os.environ.get(WHEEL_ENV)
    if explicit:
        return Path(explicit)
    cache = Path(os.environ.get(CACHE_ENV, Path(tempfile.gettempdir()) / "stardist"))
    pattern = f"stardist-{STARDIST_VERSION}-*.whl"
    found = sorted(cache.glob(pattern))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", f"stardist=={STARDIST_VERSION}"]
        cmd += ["--no-deps", "--only-binary=:all:", "-d", str(cache)]
        print("downloading:", " ".join(cmd))
        subprocess.run(cmd, check=True)
        found = sorted(cache.glob(pattern))
    if not found:
        raise FileNotFoundError(f"no {pattern} in {cache}")
    return found[0]


def read_wheel_tif(wheel: Path, member: str) -> tuple[np.ndarray, str]:
    """Read a TIFF stored inside a wheel.

    Parameters
    ----------
    wheel : pathlib.Path
        Wheel (zip) file.
    member : str
        Path of the TIFF inside the wheel.

    Returns
    -------
    tuple of (numpy.ndarray, str)
        The image and the SHA-256 of the TIFF bytes.
    """
    with zipfile.ZipFile(wheel) as zf:
        raw = zf.read(member)
    return tifffile.imread(io.BytesIO(raw)), sha256(raw)


def nuclei_meta(noise: dict[str, float], member: str, digest: str) -> dict[str, Any]:
    """Metadata common to the two stardist nuclei samples.

    Parameters
    ----------
    noise : dict
        ``{"zeta", "sigma"}``.
    member : str
        Path of the TIFF inside the wheel.
    digest : str
        SHA-256 of the TIFF bytes.

    Returns
    -------
    dict
        Metadata.
    """
    return {
        "noise": "poisson_gaussian",
        **noise,
        "suggested": {"noise": "poisson_gaussian", **noise},
        "units": "normalised intensity (percentiles 1 / 99.9 -> 0 / 1, clipped)",
        "source": f"stardist {STARDIST_VERSION} wheel: {member}",
        "source_sha256": digest,
        "licence": "BSD-3-Clause (stardist)",
        "display_range": [0.0, 1.0],
    }


def make_nuclei_2d(rng: np.random.Generator, wheel: Path) -> Sample:
    """2-D fluorescence nuclei (DSB 2018 image from stardist) with Poisson-Gaussian noise.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator.
    wheel : pathlib.Path
        stardist wheel.

    Returns
    -------
    dict
        ``{"noisy", "clean", "metadata"}``.
    """
    member = "stardist/data/images/img2d.tif"
    raw, digest = read_wheel_tif(wheel, member)
    clean = normalise_percentile(raw, 1.0, 99.9)
    noisy = poisson_gaussian(clean, rng=rng, **NUCLEI_2D_NOISE)
    meta = nuclei_meta(NUCLEI_2D_NOISE, member, digest)
    meta["origin"] = "2018 Data Science Bowl (Caicedo et al., Nat. Methods 16, 2019)"
    return {"noisy": noisy, "clean": clean, "metadata": meta}


def make_nuclei_3d(rng: np.random.Generator, wheel: Path) -> Sample:
    """3-D (synthetic) nuclei volume from stardist, pre-smoothed, Poisson-Gaussian noise.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator.
    wheel : pathlib.Path
        stardist wheel.

    Returns
    -------
    dict
        ``{"noisy", "clean", "metadata"}``.
    """
    from scipy.ndimage import gaussian_filter

    member = "stardist/data/images/img3d.tif"
    raw, digest = read_wheel_tif(wheel, member)
    smooth = gaussian_filter(raw.astype(np.float64), NUCLEI_3D_PRESMOOTH, mode="nearest")
    clean = normalise_percentile(smooth, 1.0, 99.9)
    noisy = poisson_gaussian(clean, rng=rng, **NUCLEI_3D_NOISE)
    meta = nuclei_meta(NUCLEI_3D_NOISE, member, digest)
    meta["origin"] = "synthetic nuclei volume shipped with stardist (already noisy)"
    meta["presmooth_gaussian_sigma_voxels"] = NUCLEI_3D_PRESMOOTH
    return {"noisy": noisy, "clean": clean, "metadata": meta}


# --------------------------------------------------------------------------- MRI
def make_mri_slice(rng: np.random.Generator) -> Sample:
    """Sagittal brain MRI from matplotlib's sample data with Rician noise.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator.

    Returns
    -------
    dict
        ``{"noisy", "clean", "metadata"}``.
    """
    from matplotlib import cbook

    path = Path(cbook.get_sample_data("s1045.ima.gz", asfileobj=False))
    packed = path.read_bytes()
    raw = np.frombuffer(gzip.decompress(packed), dtype=">u2").reshape(256, 256)
    clean = raw.astype(np.float64) / raw.max()
    noisy = rician(clean, MRI_SIGMA, rng)
    meta = {
        "noise": "rician",
        "sigma": MRI_SIGMA,
        "suggested": {"noise": "gaussian", "sigma": MRI_SIGMA},
        "units": "normalised magnitude (raw / raw.max())",
        "source": "matplotlib sample data s1045.ima.gz (256x256 big-endian uint16)",
        "source_sha256": sha256(packed),
        "licence": "matplotlib licence (PSF-based, BSD-compatible)",
        "display_range": [0.0, 1.0],
    }
    return {"noisy": noisy, "clean": clean, "metadata": meta}


# --------------------------------------------------------------------------- astronomy
def make_hubble(rng: np.random.Generator) -> Sample:
    """Hubble eXtreme Deep Field crop (grayscale) with Poisson-Gaussian noise.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator.

    Returns
    -------
    dict
        ``{"noisy", "clean", "metadata"}``.
    """
    from skimage import color, data

    jpg = Path(data.__file__).parent / "hubble_deep_field.jpg"
    gray = color.rgb2gray(data.hubble_deep_field())[HUBBLE_CROP]
    clean = (gray - gray.min()) / (gray.max() - gray.min())
    noisy = poisson_gaussian(clean, rng=rng, **HUBBLE_NOISE)
    rows, cols = HUBBLE_CROP
    meta = {
        "noise": "poisson_gaussian",
        **HUBBLE_NOISE,
        "suggested": {"noise": "poisson_gaussian", **HUBBLE_NOISE},
        "units": "normalised intensity (crop min / max -> 0 / 1)",
        "crop": [[rows.start, rows.stop], [cols.start, cols.stop]],
        "source": "skimage.data.hubble_deep_field(), rgb2gray",
        "source_sha256": sha256(jpg.read_bytes()) if jpg.is_file() else None,
        "licence": "public domain (NASA/ESA, HubbleSite release 2012-37)",
        "display_range": [0.0, 1.0],
    }
    return {"noisy": noisy, "clean": clean, "metadata": meta}


# --------------------------------------------------------------------------- output
def write_tif(path: Path, image: np.ndarray) -> None:
    """Write a float32 TIFF with zlib compression (level 9).

    Parameters
    ----------
    path : pathlib.Path
        Output file.
    image : numpy.ndarray
        Image, converted to float32.
    """
    tifffile.imwrite(
        path,
        np.ascontiguousarray(image, dtype=np.float32),
        compression="zlib",
        compressionargs={"level": 9},
        metadata=None,
    )


def finalise(name: str, sample: Sample, out: Path) -> dict[str, Any]:
    """Write a sample's TIFFs and return its index entry.

    Parameters
    ----------
    name : str
        Sample name.
    sample : dict
        ``{"noisy", "clean", "metadata"}``.
    out : pathlib.Path
        Output folder.

    Returns
    -------
    dict
        Index entry: metadata plus file names, shape, dtype, seed and PSNR.
    """
    noisy = sample["noisy"].astype(np.float32)
    clean = sample["clean"].astype(np.float32)
    data_range = float(clean.max() - clean.min())
    entry = dict(sample["metadata"])
    entry.update(
        noisy_file=f"{name}_noisy.tif",
        clean_file=f"{name}_clean.tif",
        shape=list(clean.shape),
        dtype="float32",
        psnr_data_range=data_range,
        psnr_db=round(psnr(noisy, clean, data_range), 3),
        noise_std=float(np.std(noisy.astype(np.float64) - clean)),
    )
    write_tif(out / entry["noisy_file"], noisy)
    write_tif(out / entry["clean_file"], clean)
    return entry


def build_all(out: Path, wheel: str | None) -> dict[str, Any]:
    """Generate every sample into ``out`` and write the JSON index.

    Parameters
    ----------
    out : pathlib.Path
        Output folder.
    wheel : str or None
        Optional explicit path of the stardist wheel.

    Returns
    -------
    dict
        The index written to ``samples.json``.
    """
    wheel_path = find_stardist_wheel(wheel)
    makers = {
        "ct_low_dose": make_ct_low_dose,
        "nuclei_2d": lambda rng: make_nuclei_2d(rng, wheel_path),
        "nuclei_3d": lambda rng: make_nuclei_3d(rng, wheel_path),
        "mri_slice": make_mri_slice,
        "hubble": make_hubble,
    }
    index: dict[str, Any] = {}
    for k, name in enumerate(SAMPLE_ORDER):
        seed = BASE_SEED + k
        sample = makers[name](np.random.default_rng(seed))
        sample["metadata"]["seed"] = seed
        index[name] = finalise(name, sample, out)
        print(f"{name}: shape={index[name]['shape']} psnr={index[name]['psnr_db']:.2f} dB")
    (out / INDEX_NAME).write_text(json.dumps(index, indent=2) + "\n")
    return index


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", help="path of stardist-0.9.2-*.whl")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    build_all(out, args.wheel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
