"""SURE's probe scatter with lattice-coloured probes: one +-1 probe against 2 x 2 and 3 x 3 classes.

    python benchmarks/bench_sure_probes.py METHOD SIGMA COUNTS SEEDS
    python benchmarks/bench_sure_probes.py prior 25 1,4,9 3

On the six 256-pixel crops of ``bench_sure.py --medium`` (Gaussian noise
``SIGMA``/255, the same draw per image), ``nt.sure(..., probes=c)`` for each
count ``c`` with ``SEEDS`` different probes: per image the median
``|SURE - MSE| / MSE`` and the standard deviation of ``(SURE - MSE) / MSE``
over the probes (the probe's own scatter; the draw is fixed), in %, and the
seconds per estimate; last line: medians over images, and the floor
``|mean(n^2) - sigma^2| / MSE`` of the draw (``bench_sure.py``).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from bench_sure import crops, noise_energy_gap, noisy

from napari_tweedie.tuning.sure import sure_and_output


def main() -> None:
    torch.set_num_threads(1)
    method, level = sys.argv[1], float(sys.argv[2]) / 255
    counts, seeds = [int(c) for c in sys.argv[3].split(",")], int(sys.argv[4])
    errors = {c: [] for c in counts}
    spreads = {c: [] for c in counts}
    floors = []
    print(f"Command: `python benchmarks/bench_sure_probes.py {' '.join(sys.argv[1:])}`")
    for index, (name, clean) in enumerate(crops("medium", 256)):
        y = noisy(clean, "gaussian", level, index)
        line = f"{name:>9}"
        for count in counts:
            start, relative = time.perf_counter(), []
            for s in range(seeds):
                est, out = sure_and_output(y, method, sigma=level, seed=index + 100 * s,
                                           probes=count)  # fmt: skip
                true = float(np.mean((out - clean) ** 2))
                relative.append((est - true) / true * 100)
            relative = np.array(relative)
            errors[count].append(np.median(np.abs(relative)))
            spreads[count].append(relative.std(ddof=1))
            seconds = (time.perf_counter() - start) / seeds
            line += (f"  p{count}: |err| {errors[count][-1]:5.2f} sd {spreads[count][-1]:5.2f}"
                     f" ({seconds:.1f}s)")  # fmt: skip
        floors.append(noise_energy_gap(y, clean, "gaussian", level) / true * 100)
        print(line + f"  floor {floors[-1]:5.2f}", flush=True)
    summary = "  ".join(f"p{c}: |err| {np.median(errors[c]):5.2f} probe-sd "
                        f"{np.median(spreads[c]):5.2f}" for c in counts)  # fmt: skip
    print("median", summary, f"floor {np.median(floors):5.2f}")


if __name__ == "__main__":
    main()
