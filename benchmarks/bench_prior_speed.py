"""Speed of one call of the bundled prior on 256x256: contiguous vs channels-last layout (CPU).

    python benchmarks/bench_prior_speed.py [--threads 2] [--size 256] [--repeats 8]

``load_prior()`` uses channels-last on CPU; this script times the network both
ways in the same process (alternating, median of rounds) and checks that the
outputs agree.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from napari_tweedie.prior import load_prior


def seconds_per_call(prior, x: torch.Tensor, repeats: int) -> float:
    sigma = torch.tensor([0.1])
    with torch.inference_mode():
        prior.model(x, sigma)
        start = time.perf_counter()
        for _ in range(repeats):
            prior.model(x, sigma)
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    prior = load_prior("cpu")
    x = torch.rand(1, 1, args.size, args.size)
    layouts = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
    times: dict[str, list[float]] = {name: [] for name in layouts}
    outputs = {}
    for _ in range(3):
        for name, layout in layouts.items():
            prior.model.to(memory_format=layout)
            xl = x.contiguous(memory_format=layout)
            times[name].append(seconds_per_call(prior, xl, args.repeats))
            with torch.inference_mode():
                outputs[name] = prior.model(xl, torch.tensor([0.1]))
    difference = float((outputs["contiguous"] - outputs["channels_last"]).abs().max())
    for name, values in times.items():
        print(f"{name:14s} {statistics.median(values) * 1000:7.1f} ms per {args.size}^2 call")
    print(f"threads {args.threads}; max |difference| {difference:.1e}")


if __name__ == "__main__":
    main()
