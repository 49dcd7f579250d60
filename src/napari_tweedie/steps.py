"""Progress protocol shared by every iterative method: ``Step`` and ``run``.

Long-running work in napari-tweedie is a Python generator that yields a
:class:`Step` now and then and *returns* its result.  napari's
``thread_worker`` consumes such generators directly (``yielded`` -> preview,
``returned`` -> result, ``quit()`` -> cancel at the next yield); scripts use
:func:`run`, or the blocking form :func:`blocking` makes of a generator function.
:func:`map_steps` passes an inner generator's steps on, transformed.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

R = TypeVar("R")
P = ParamSpec("P")


@dataclass(frozen=True)
class Step:
    """One progress report of an iterative method.

    Attributes
    ----------
    i, n : int
        Current step (1-based once work is done) and the total number of steps.
    sigma : float
        Noise level of the current state (0 for fits and classical filters).
    x : Any
        Current state (sampler state ``x_t`` or a fit's current output).
    x0_hat : Any
        Current estimate of the clean image (the Tweedie estimate for
        diffusion samplers): the live preview.
    info : dict
        Extra scalars (e.g. ``{"loss": 0.01}``).
    """

    i: int
    n: int
    sigma: float = 0.0
    x: Any = None
    x0_hat: Any = None
    info: dict | None = None

    @property
    def fraction(self) -> float:
        """Fraction of the work done, in [0, 1]."""
        return self.i / self.n if self.n else 1.0


def run(gen: Generator[Step, None, R], callback: Callable[[Step], Any] | None = None) -> R:
    """Drive a step generator to completion and return its result.

    Parameters
    ----------
    gen : generator
        A generator yielding :class:`Step` and returning the result.
    callback : callable, optional
        Called with every yielded step.  If it returns ``False`` the generator
        is closed (cancelled) and ``None`` is returned.
    """
    while True:
        try:
            step = next(gen)
        except StopIteration as stop:
            return stop.value
        if callback is not None and callback(step) is False:
            gen.close()
            return None  # type: ignore[return-value]


def blocking(steps: Callable[P, Generator[Step, None, R]]) -> Callable[P, R]:
    """The blocking form of a step generator function: :func:`run` to the end.

    ``denoise = blocking(denoise_steps)``: the same parameters and documentation
    (written once, on the generator function), the name without ``_steps``, and
    the generator's result as the return value.
    """

    @functools.wraps(steps)
    def blocking_form(*args: P.args, **kwargs: P.kwargs) -> R:
        return run(steps(*args, **kwargs))

    name = steps.__name__.removesuffix("_steps")
    blocking_form.__name__ = name
    blocking_form.__qualname__ = steps.__qualname__.removesuffix("_steps")
    signature = inspect.signature(steps).replace(return_annotation=inspect.Signature.empty)
    blocking_form.__signature__ = signature  # type: ignore[attr-defined]
    return blocking_form


def map_steps(
    gen: Generator[Step, None, R], func: Callable[[Step], Step]
) -> Generator[Step, None, R]:
    """Pass on the steps of ``gen`` transformed by ``func``; return its result.

    Like ``yield from gen`` (closing ``gen`` when the outer generator is
    closed), but each step goes out as ``func(step)``: e.g. previews mapped
    back to the image's units.

    Parameters
    ----------
    gen : generator of Step
        The inner work.
    func : callable
        Maps each inner step to the step passed on.

    Returns
    -------
    generator of Step
        Returns ``gen``'s result.
    """
    while True:
        try:
            step = next(gen)
        except StopIteration as stop:
            return stop.value
        try:
            yield func(step)
        except GeneratorExit:
            gen.close()
            raise
