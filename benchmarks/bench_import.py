"""Import time of ``napari_tweedie`` and ``napari-tweedie --help`` in fresh processes.

    .venv/bin/python benchmarks/bench_import.py [--repeat 5]

Prints the median wall time of each over ``--repeat`` runs, and whether torch
or numba were loaded by the import.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "import napari_tweedie": [sys.executable, "-c", "import napari_tweedie"],
    "napari-tweedie --help": [str(Path(sys.executable).with_name("napari-tweedie")), "--help"],
}


def median_seconds(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def heavy_modules() -> str:
    code = (
        "import sys, napari_tweedie; "
        "print(sorted(m for m in ('torch', 'numba') if m in sys.modules))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for label, command in COMMANDS.items():
        seconds = median_seconds(command, args.repeat)
        sys.stdout.write(f"{label:<24} {seconds:6.2f} s (median of {args.repeat})\n")
    sys.stdout.write(f"heavy modules after import: {heavy_modules()}\n")


if __name__ == "__main__":
    main()
