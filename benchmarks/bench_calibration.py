"""Calibration of the samplers' samples against closed-form Gaussian posteriors.

    .venv/bin/python benchmarks/bench_calibration.py [--samples 128] [--steps 50] [--json PATH]

With a Gaussian prior ``x0 ~ N(m, s^2 I)`` the exact denoiser is
``D(x, sigma) = m + s^2 / (s^2 + sigma^2) (x - m)`` and the posterior of
``y = A x0 + sigma_y n`` is Gaussian with a closed-form mean and covariance.
On a 16x16 image (m 0.5, s 0.2, sigma_y 0.05) this draws ``--samples``
samples with each sampler at its default settings and prints, over the
observed pixels (inpainting: the 50 % kept; super-resolution 2x: all) and the
unobserved ones (inpainting's holes):

- ``bias``: root-mean-square of (sample mean - posterior mean) / posterior std
  (Monte-Carlo error alone gives about ``1 / sqrt(samples)``, 0.09 at 128);
- ``std ratio``: mean of sample std / posterior std (1 = calibrated).

PnP and RED-Diff are point estimates (no spread): they are left out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from napari_tweedie.operators import Inpaint, SuperResolution  # noqa: E402
from napari_tweedie.prior.gaussian import GaussianPrior  # noqa: E402
from napari_tweedie.samplers import SAMPLERS, karras_sigmas  # noqa: E402
from napari_tweedie.steps import run  # noqa: E402

MEAN, STD, SIGMA_Y, SIDE = 0.5, 0.2, 0.05, 16
# (sampler, settings): the defaults, and DiffPIR's zeta 0.3 (calibrated for super-resolution)
PRIOR = GaussianPrior(MEAN, STD)  # the exact denoiser and the closed-form posterior
SAMPLERS_WITH_SPREAD = (("dds", {}), ("diffpir", {}), ("diffpir", {"zeta": 0.3}), ("dps", {}))


def problems(generator):
    mask = torch.rand(SIDE, SIDE, generator=generator) > 0.5
    yield "inpaint 50 %", Inpaint((SIDE, SIDE), mask.numpy(), SIGMA_Y), mask.flatten()
    everywhere = torch.ones(SIDE * SIDE, dtype=bool)
    yield "superres 2x", SuperResolution((SIDE, SIDE), 2, SIGMA_Y), everywhere


def score(samples, mean, std, pixels) -> dict:
    z = (samples.mean(0).flatten().double() - mean) / std
    ratio = samples.std(0).flatten().double() / std
    if not pixels.any():
        return {}
    return {"bias": float(z[pixels].pow(2).mean().sqrt()), "std_ratio": float(ratio[pixels].mean())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(1)
    rows = []
    for problem, op, observed in problems(generator):
        truth = MEAN + STD * torch.randn(1, 1, SIDE, SIDE, generator=generator)
        y = op.simulate(truth, generator)
        mean, std = (t.flatten().double() for t in PRIOR.posterior(op, y, SIGMA_Y))
        for name, settings in SAMPLERS_WITH_SPREAD:
            sigmas = karras_sigmas(args.steps, sigma_max=20.0)
            x = sigmas[0] * torch.randn(args.samples, 1, SIDE, SIDE, generator=generator)
            batch_y = y.expand(args.samples, *y.shape[1:])
            samples = run(
                SAMPLERS[name].func(
                    PRIOR, x, sigmas, op=op, y=batch_y, generator=generator, **settings
                )
            )
            label = name + "".join(f" {k}={v}" for k, v in settings.items())
            row = {"problem": problem, "sampler": label}
            row |= {f"observed_{k}": v for k, v in score(samples, mean, std, observed).items()}
            row |= {f"holes_{k}": v for k, v in score(samples, mean, std, ~observed).items()}
            rows.append(row)
    print(f"{args.samples} samples, {args.steps} steps; bias in posterior std; 1: calibrated")
    print("| problem | sampler | observed: bias | std ratio | holes: bias | std ratio |")
    print("|---|---|---|---|---|---|")
    keys = ("observed_bias", "observed_std_ratio", "holes_bias", "holes_std_ratio")
    for row in rows:
        cells = [row.get(k) for k in keys]
        text = " | ".join("-" if c is None else f"{c:.2f}" for c in cells)
        print(f"| {row['problem']} | {row['sampler']} | {text} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
