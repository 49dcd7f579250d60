"""Shared helpers of the benchmark scripts: command line, timing, table rows, report.

The scripts ``bench_color.py``, ``bench_color_nets.py``, ``bench_volume.py``
and ``bench_volume_nets.py`` take the same options (``--quick``,
``--methods``, ``--seed``, ``--out``), print a Markdown table row by row,
end with goal lines ("met" / "NOT met") and write the whole report to
``--out``; the speed benchmarks time with :func:`median_seconds`.  Run them
as ``python benchmarks/NAME.py``: the script's folder is then on
``sys.path`` and ``import _report`` finds this module.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from napari_tweedie.metrics import clipped_psnr


def parser(
    doc: str, quick_help: str, methods: Iterable[str], extra: Mapping[str, dict] | None = None
) -> argparse.ArgumentParser:
    """The benchmark command line: ``--quick``, ``--methods``, ``extra``, ``--seed``, ``--out``.

    Parameters
    ----------
    doc : str
        The script's docstring; its first line is the description.
    quick_help : str
        Help text of ``--quick``.
    methods : iterable of str
        Default of ``--methods`` (joined with commas).
    extra : mapping, optional
        More options, flag -> ``add_argument`` keywords, added after ``--methods``.
    """
    out = argparse.ArgumentParser(description=doc.splitlines()[0])
    out.add_argument("--quick", action="store_true", help=quick_help)
    out.add_argument("--methods", default=",".join(methods))
    for flag, kwargs in (extra or {}).items():
        out.add_argument(flag, **kwargs)
    out.add_argument("--seed", type=int, default=0)
    out.add_argument("--out", default=None, help="also write the table to this file")
    return out


def median_seconds(func: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``func()`` over ``repeats`` runs, after one warm-up run."""
    func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(*cells: str) -> str:
    """One Markdown table row of ``cells``."""
    return "| " + " | ".join(cells) + " |"


def header(*names: str) -> list[str]:
    """A Markdown table's header row of ``names`` and its rule."""
    return [row(*names), "|" + "---|" * len(names)]


def figures(values: Iterable[float], fmt: str = ".2f") -> str:
    """``values`` formatted with ``fmt``, joined as table cells."""
    return " | ".join(f"{v:{fmt}}" for v in values)


def psnrs(
    method: Callable[[np.ndarray], np.ndarray],
    clean: Mapping[str, np.ndarray],
    noisy: Mapping[str, np.ndarray],
) -> tuple[list[float], list[float]]:
    """Clipped PSNR and wall seconds of ``method`` on each noisy image, in ``clean``'s order."""
    scores, seconds = [], []
    for name in clean:
        start = time.perf_counter()
        out = method(noisy[name])
        seconds.append(time.perf_counter() - start)
        assert out.shape == noisy[name].shape
        scores.append(clipped_psnr(out, clean[name]))
    return scores, seconds


def mean_row(method: str, mode: str, scores: Sequence[float], seconds: Sequence[float]) -> str:
    """A table row: method, mode, the scores, their mean and the mean seconds."""
    mean, secs = np.mean(scores), np.mean(seconds)
    return row(method, mode, figures(scores), f"{mean:.2f}", f"{secs:.1f}")


def verdict(met: bool) -> str:
    """``"met"`` or ``"NOT met"``."""
    return "met" if met else "NOT met"


def goal_line(what: str, goal: float, value: float) -> str:
    """The report line of a goal ``value >= goal`` (in dB)."""
    return f"goal {what} >= {goal:.2f} dB: {value:.2f} ({verdict(value >= goal)})"


def finish(lines: Sequence[str], out: str | None) -> None:
    """Print the report ``lines`` and write them to ``out`` when given."""
    text = "\n".join(lines) + "\n"
    print(text)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)
