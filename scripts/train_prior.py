"""Train the bundled prior (``weights/prior.safetensors``) on images that install offline.

Data (``prior_data.py``): scikit-image's bundled images (``camera`` left out:
Set12 contains it; ``astronaut`` and ``hubble_deep_field`` held out for
validation), pydicom's CT/MR test files that decode (``CT_small.dcm`` held out:
it is the ``ct_low_dose`` sample), matplotlib's sample MRI slice and photos,
PyWavelets' ``aero`` and ``ascent``, scikit-learn's ``china`` and ``flower``
(when installed), the stardist wheel's nuclei, and the sample images in
``sample_data/*_clean.tif`` whose source is not already loaded (never
``hubble`` or ``ct_low_dose``).  Set12 is never read here: it is the test set
(``benchmarks/bench_prior.py``).  ``--save-data FILE.npz`` stores all of it
(with the validation images) and ``--data FILE.npz`` trains on that file, so a
machine without pydicom, PyWavelets or the stardist wheel (a rented GPU) trains
on the same images (stored as float16); ``scripts/train_on_device.sh`` does that.

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
import importlib.util
import json
import math
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))  # its sibling modules, however it is started


def _bare_package() -> None:
    """Make ``napari_tweedie.prior`` importable where the package's own imports are missing.

    The package's ``__init__`` pulls in dask, zarr and friends; the prior and the
    PSNR helper need torch, numpy and scikit-image only.  On a machine without
    those extras (a rented GPU) the package is registered without running its
    ``__init__``.
    """
    try:
        import napari_tweedie  # noqa: F401
    except ImportError:
        spec = importlib.util.spec_from_file_location(
            "napari_tweedie",
            ROOT / "src" / "napari_tweedie" / "__init__.py",
            submodule_search_locations=[str(ROOT / "src" / "napari_tweedie")],
        )
        sys.modules["napari_tweedie"] = importlib.util.module_from_spec(spec)


_bare_package()

from prior_card import atomic_write, hardware, write_card  # noqa: E402
from prior_data import (  # noqa: E402
    collect_data,
    find_stardist_wheel,
    load_data,
    save_data,
    validation_images,
)
from prior_patches import batches  # noqa: E402

from napari_tweedie.metrics import clipped_psnr as psnr  # noqa: E402
from napari_tweedie.prior.bundled import WEIGHTS_PATH, pad_to_multiple, pick_device  # noqa: E402
from napari_tweedie.prior.network import EDMDenoiser, NetConfig, count_parameters  # noqa: E402

STATE_PATH = ROOT / "training" / "prior_state.pt"
LOG_PATH = ROOT / "training" / "prior_log.csv"
VAL_CASES = (("astronaut", 15), ("astronaut", 25), ("astronaut", 50), ("hubble", 25))


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
    parser.add_argument("--max-steps", type=int, default=None, help="also stop after N steps")
    parser.add_argument("--overwrite", action="store_true", help="start afresh over a saved state")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    parser.add_argument("--batch", type=int, default=None, help="default 16 (CPU), 64 (GPU)")
    parser.add_argument("--patch", type=int, default=None, help="default 64 (CPU), 128 (GPU)")
    parser.add_argument(
        "--workers", type=int, default=None, help="cropping processes: 0 (CPU), 8 (GPU)"
    )
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
    parser.add_argument(
        "--save-data", type=Path, default=None, help="write the data to this .npz and exit"
    )
    parser.add_argument(
        "--data", type=Path, default=None, help="train on a .npz written by --save-data"
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    gpu = device.type != "cpu"
    args.batch = args.batch or (64 if gpu else 16)
    args.patch = args.patch or (128 if gpu else 64)
    args.workers = args.workers if args.workers is not None else (8 if gpu else 0)
    if gpu and device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    card_path = args.weights.parent / "MODEL_CARD.md"

    def log(message: str) -> None:
        print(message, flush=True)

    log("collecting data ...")
    if args.data is not None:
        data, val_images = load_data(args.data)
    else:
        data, val_images = collect_data(find_stardist_wheel(args.stardist_wheel), log), None
    summary = [{"name": n, "group": g, "shape": "x".join(map(str, im.shape))} for n, g, im in data]
    for item in summary:
        log(f"  {item['group']:10s} {item['name']} {item['shape']}")
    log(f"{len(data)} training images, {sum(im.size for _, _, im in data) / 1e6:.1f} Mpixel")
    if args.list_data:
        return 0
    if args.save_data is not None:
        save_data(args.save_data, data, validation_images())
        log(f"saved to {args.save_data}")
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
    stream = batches(data, args.patch, args.batch, rng, args.workers)
    val_images = val_images or validation_images()
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
    max_steps = args.max_steps if args.max_steps is not None else math.inf
    while stop["signal"] is None and time.monotonic() - t0 < budget and session_steps < max_steps:
        t_step = time.monotonic()
        lr = lr_at(args, t_step - t0, session_steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        clean, sigma, noise = next(stream)
        clean, sigma, noise = (t.to(device, non_blocking=True) for t in (clean, sigma, noise))
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
