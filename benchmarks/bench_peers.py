"""Peer benchmark: napari-tweedie beside CAREamics N2V2 and skimage's calibrate_denoiser.

Datasets: Set12 with the Noise2Score paper's fixed noise (Gaussian sigma 25/255,
Poisson zeta 0.01; ``../shared/data/set12``, or ``NT_SET12``) and the nuclei
samples (``nuclei_2d``; ``nuclei_3d`` as 31 planes in the full run), Poisson-
Gaussian.  Methods:

- napari-tweedie, told the noise model and its parameters: ``nt.denoise`` with
  bm3d, tv, nl_means, filter2noise, zs_n2n (each image on its own), the SURE-tuned
  tv and nl_means (``nt.tune`` then ``nt.denoise``; tuning time included), and
  Noise2Score fitted on all noisy images of the dataset for ``--budget`` seconds;
- CAREamics N2V2 trained on the same noisy images for the same wall-clock budget
  (CPU, same patch size, batch 16);
- scikit-image's ``calibrate_denoiser`` (J-invariant tuning on each image, no
  noise model) of denoise_wavelet, denoise_tv_chambolle and denoise_nl_means.

PSNR and SSIM on [0, 1] (data_range 1, estimates clipped), averaged over images;
``s/img`` is the mean per-image time (fits of per-image methods and tuning
included); ``train s`` the one training run of a dataset-trained method.

    python benchmarks/bench_peers.py [--quick] [--budget 600] [--threads 1]
        [--datasets set12_gauss25,set12_poisson,nuclei_2d,nuclei_3d] [--methods ...]
        [--out benchmarks/results/peers.txt]

``--quick``: the first 3 Set12 images (256 x 256) and the central 256 x 256 crop of
nuclei_2d, a 60 s budget.  CAREamics
is optional: without it (see ``make bench-peers``) its rows say why it was skipped.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from dataclasses import dataclass

if __name__ == "__main__":  # one thread each unless told otherwise (set before numpy loads)
    for _name in (
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "NUMBA_NUM_THREADS",
    ):
        os.environ.setdefault(_name, "1")

import _peers  # noqa: E402
import numpy as np  # noqa: E402
from skimage.metrics import peak_signal_noise_ratio, structural_similarity  # noqa: E402

import napari_tweedie as nt  # noqa: E402
from napari_tweedie.benchmark import set12_dir  # noqa: E402

SET12 = {"set12_gauss25": ("noisy_25.npz", "gaussian", {"sigma": 25 / 255}),
         "set12_poisson": ("noisy_0.01.npz", "poisson", {"zeta": 0.01})}  # fmt: skip
PER_IMAGE = ("bm3d", "tv", "nl_means")
FITTED = ("filter2noise", "zs_n2n")  # fitted on each image: the slowest, run last
TUNED = ("tv", "nl_means")


@dataclass
class Dataset:
    """Clean and noisy 2-D images in [0, 1] and the noise model that made them."""

    name: str
    clean: list[np.ndarray]
    noisy: list[np.ndarray]
    noise: str
    params: dict


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load(name: str, count: int | None, crop: int | None = None) -> Dataset:
    if name in SET12:
        folder = set12_dir()
        if folder is None:
            raise SystemExit("Set12 not found: set NT_SET12 to the folder with clean.npz")
        file, noise, params = SET12[name]
        clean, noisy = np.load(folder / "clean.npz"), np.load(folder / file)
        keys = sorted(clean.files)[:count]
        return Dataset(name, [clean[k] / 255.0 for k in keys],
                       [noisy[k].astype(np.float32) for k in keys], noise, params)  # fmt: skip
    from napari_tweedie._sample_data import load_sample

    sample = load_sample(name)
    suggested = dict(sample["metadata"]["suggested"])
    noise = suggested.pop("noise")
    clean, noisy = np.asarray(sample["clean"], np.float64), np.asarray(sample["noisy"], np.float32)
    if clean.ndim == 2:
        clean, noisy = clean[None], noisy[None]
    if crop:
        top, left = ((n - crop) // 2 for n in clean.shape[-2:])
        window = (slice(None), slice(top, top + crop), slice(left, left + crop))
        clean, noisy = clean[window], noisy[window]
    return Dataset(name, list(clean), list(noisy), noise, suggested)


def scores(data: Dataset, estimates: list[np.ndarray]) -> tuple[float, float]:
    pairs = [(c, np.clip(np.asarray(e, np.float64), 0, 1)) for c, e in zip(data.clean, estimates)]
    psnr = np.mean([peak_signal_noise_ratio(c, e, data_range=1.0) for c, e in pairs])
    ssim = np.mean([structural_similarity(c, e, data_range=1.0) for c, e in pairs])
    return float(psnr), float(ssim)


def per_image(data: Dataset, apply) -> tuple[list[np.ndarray], float]:
    """``apply`` on each noisy image; returns the estimates and the mean seconds per image."""
    start = time.perf_counter()
    estimates = [apply(y) for y in data.noisy]
    return estimates, (time.perf_counter() - start) / len(data.noisy)


def tuned(y: np.ndarray, method: str, data: Dataset) -> np.ndarray:
    """``nt.tune`` (SURE) then ``nt.denoise`` with the tuned parameters."""
    best = nt.tune(y, method, noise=data.noise, **data.params)
    return nt.denoise(y, method, noise=data.noise, **data.params, **best)


def noise2score(data: Dataset, budget: float, patch: int) -> tuple[list, float, float]:
    """Noise2Score fitted on all noisy images (known noise parameters) for ``budget`` s."""
    from napari_tweedie.denoisers.noise2score import fit_noise2score
    from napari_tweedie.noise import make_noise_model

    start = time.perf_counter()
    gen = fit_noise2score(data.noisy, noise=data.noise, noise_params=data.params,
                          minutes=budget / 60, steps=10**7, patch=patch, device="cpu")  # fmt: skip
    model = nt.run(gen)
    train_s = time.perf_counter() - start
    noise_model = make_noise_model(data.noise, **data.params)
    start = time.perf_counter()
    estimates = [model.denoise(y, noise_model) for y in data.noisy]
    return estimates, train_s, time.perf_counter() - start


def trained(data: Dataset, name: str, args) -> tuple[list, float, float]:
    patch = min(64, 2 ** int(np.log2(min(min(y.shape) for y in data.noisy))))
    if name == "noise2score":
        return noise2score(data, args.budget, patch)
    return _peers.n2v2(data.noisy, seconds=args.budget, patch=patch, batch=16, seed=1)


def methods(args) -> list[tuple[str, str, object]]:
    """(group, label, kind): kind is a per-image callable factory or a trained method's name."""
    rows = [("napari-tweedie", m, ("nt", m)) for m in PER_IMAGE]
    if hasattr(nt, "tune"):
        rows += [("napari-tweedie", f"tune+{m}", ("tune", m)) for m in TUNED]
    rows.append(("napari-tweedie", "noise2score", ("trained", "noise2score")))
    rows.append(("CAREamics", "N2V2", ("trained", "n2v2")))
    rows += [("scikit-image", f"calibrate+{m}", ("calibrate", m)) for m in _peers.CALIBRATED]
    rows += [("napari-tweedie", m, ("nt", m)) for m in FITTED]
    wanted = set(args.methods.split(",")) if args.methods else None
    return [r for r in rows if wanted is None or r[1] in wanted]


def run_method(data: Dataset, kind: tuple[str, str], args) -> dict:
    what, name = kind
    train_s = 0.0
    if what == "nt":
        estimates, seconds = per_image(
            data, lambda y: nt.denoise(y, name, noise=data.noise, **data.params)
        )
    elif what == "tune":
        estimates, seconds = per_image(data, lambda y: tuned(y, name, data))
    elif what == "calibrate":
        estimates, seconds = per_image(data, lambda y: _peers.calibrated(y, name)[0])
    else:
        if name == "n2v2" and (missing := _peers.careamics_missing()):
            return {"skipped": f"CAREamics not installed ({missing}); see `make bench-peers`"}
        estimates, train_s, apply_s = trained(data, name, args)
        seconds = apply_s / len(data.noisy)
    psnr, ssim = scores(data, estimates)
    return {"psnr": psnr, "ssim": ssim, "s_img": seconds, "train_s": train_s}


def versions() -> str:
    import skimage
    import torch

    parts = [f"napari-tweedie {nt.__version__}", f"torch {torch.__version__}",
             f"scikit-image {skimage.__version__}"]  # fmt: skip
    if _peers.careamics_missing() is None:
        import careamics

        parts.append(f"careamics {careamics.__version__}")
    return ", ".join(parts) + f"; Python {platform.python_version()}"


def table(rows: list[dict]) -> str:
    lines = ["| dataset | n | group | method | PSNR dB | SSIM | s/img | train s |",
             "|---|---:|---|---|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        head = f"| {r['dataset']} | {r['n']} | {r['group']} | {r['method']} |"
        if "skipped" in r:
            lines.append(f"{head} skipped: {r['skipped']} | | | |")
        else:
            lines.append(f"{head} {r['psnr']:.2f} | {r['ssim']:.4f} | {r['s_img']:.2f} | "
                         f"{r['train_s']:.0f} |")  # fmt: skip
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 Set12 images, 256^2 crop, 60 s")
    parser.add_argument("--budget", type=float, default=None, help="training seconds (600)")
    parser.add_argument("--count", type=int, default=None, help="Set12 images (all 12)")
    parser.add_argument("--datasets", default=None, help="comma-separated (default: all)")
    parser.add_argument("--methods", default=None, help="comma-separated labels (default: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--out", default=None, help="also write the table to this file")
    parser.add_argument("--note", default="", help="a line for the header (e.g. the machine)")
    args = parser.parse_args(argv)
    args.budget = args.budget or (60.0 if args.quick else 600.0)
    args.count = args.count or (3 if args.quick else None)
    default = "set12_gauss25,set12_poisson,nuclei_2d" + ("" if args.quick else ",nuclei_3d")
    args.datasets = (args.datasets or default).split(",")
    args.load_start = os.getloadavg()[0]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    import torch

    torch.set_num_threads(args.threads)
    rows = []
    for name in args.datasets:
        data = load(name, args.count, 256 if args.quick else None)
        rows.append(dict(dataset=name, n=len(data.noisy), group="-", method="noisy",
                         train_s=0.0, s_img=0.0, **dict(zip(("psnr", "ssim"),
                         scores(data, data.noisy)))))  # fmt: skip
        for group, label, kind in methods(args):
            log(f"[{name}] {group} {label} ...")
            try:
                result = run_method(data, kind, args)
            except Exception as error:  # one failing method must not end the run
                message = " ".join(f"{type(error).__name__}: {error}".split())
                result = {"skipped": f"failed: {message}"[:200]}
            rows.append(dict(dataset=name, n=len(data.noisy), group=group, method=label,
                             **result))  # fmt: skip
            log(table(rows[-1:]).splitlines()[-1])
            report(args, argv, rows)
    print(report(args, argv, rows))
    return 0


def report(args, argv: list[str] | None, rows: list[dict]) -> str:
    """The header and table; also written to ``--out`` (after every row, so a cut run keeps
    what it has)."""
    header = (
        f"bench_peers.py {shlex.join(argv if argv is not None else sys.argv[1:])}: "
        f"training budget {args.budget:.0f} s per dataset-trained method, {args.threads} torch "
        f"thread(s), {os.cpu_count()} CPU(s); {versions()}.\nnapari-tweedie methods are told "
        "the noise model and its parameters; CAREamics and calibrate_denoiser are not.\n"
        f"1-minute load average: {args.load_start:.1f} at the start, {os.getloadavg()[0]:.1f} "
        f"now. {args.note}"
    )
    text = f"{header}\n\n{table(rows)}\n"
    if args.out:
        with open(args.out, "w") as file:
            file.write(text)
    return text


if __name__ == "__main__":
    sys.exit(main())
