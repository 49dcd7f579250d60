"""The bundled prior's model card (``MODEL_CARD.md`` beside the weights), from the state."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch
from prior_patches import GROUP_WEIGHTS

from napari_tweedie.prior.network import NetConfig

SET12_BEGIN, SET12_END = "<!-- set12:begin -->", "<!-- set12:end -->"


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp)`` on a file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp-write")
    write(tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


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


def write_card(state: dict, data_summary: list[dict], path: Path) -> None:
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
