"""Auto-tune: the parameter values that minimise the unbiased risk estimate (:mod:`.sure`).

One or two of a method's numeric parameters (``DENOISERS[name].params``) are
searched, each on its range: the Param's bounds, or for an intensity parameter
without an upper bound (a TV weight, an NL-means ``h``, a range width) a
range around the noise level the method sees, ``[sigma/10, 10 sigma]``.  A
range spanning a decade or more is searched on a log scale.  The 1-D search
brackets the minimum from the start and one neighbour, stepping downhill by
the golden ratio while the best point is at an edge (``mnbrak`` of Press et
al., Numerical Recipes), then takes parabolic steps with golden sections as
fallback (Brent 1973).  The first step is small, so that the bracket and the
parabolas are fitted to points near the optimum (the risk is far from
quadratic over a quarter of a two-decade range: on the benchmark's images a
bilateral range width off by a factor of 1.5 costs 0.4 to 0.9 dB):
:data:`KNOWN_STEP` of the range from a known (tuned) default, usually near
the optimum (a value, or ``Param.per_sigma`` times the noise level), and
:data:`FIRST_STEP` from the middle of the range for a parameter without one
(derived inside the method from the data).  Two parameters are tuned by
coordinate descent, one sweep: one without a known default first, then the
intensity parameter (a range width), then the other around its default with
:data:`SECOND_AXIS_TRIALS` trials.  The search needs a method whose output is
continuous in its parameters: TV runs a fixed number of iterations and the
bilateral filter an anti-aliased window for that reason.
Every trial costs two denoiser calls (the estimate's Monte-Carlo divergence
with one probe, whatever the method's ``sure_probes`` for :func:`~.sure.sure`;
one with an exact divergence, :attr:`.risk.RiskProblem.calls`); the probe is
the same for every trial, so the estimate is a smooth function of the
parameters, and a comparison of trials needs no more.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass

import numpy as np

from ..specs import Param
from ..steps import Step, map_steps, run
from .risk import RiskProblem, risk_problem, trial_probes

__all__ = ["Axis", "search_steps", "tunable_params", "tune", "tune_steps"]

DEFAULT_BUDGET = 15
GOLDEN = (3 - math.sqrt(5)) / 2  # 0.382: the golden-section fraction
OPEN_RANGE = (0.1, 10.0)  # an unbounded intensity parameter: this range times the noise level
FIRST_STEP = 0.125  # first step (fraction of the range) from an axis's middle: no known default
KNOWN_STEP = 0.1  # first step from a known (tuned) default, usually near the optimum
SECOND_AXIS_TRIALS = 3  # of two parameters: the trials left for the second axis


def tunable_params(spec, names: Sequence[str] | None = None) -> tuple[Param, ...]:
    """The parameters ``tune`` searches: ``names``, or the method's (at most two) float ones.

    Raises ``ValueError`` for unknown or non-numeric names, more than two, or
    none at all.  Methods that fit a model on every run (``iterative`` and not
    ``fast``: Filter2Noise, zero-shot Noise2Noise, Noise2Score) are tuned only
    when ``names`` are given: each trial would refit the model.
    """
    by_name = {p.name: p for p in spec.params}
    if names is None:
        if spec.iterative and not spec.fast:
            raise ValueError(
                f"{spec.name} fits a model on every run, so each trial of tune would refit it; "
                "name the parameters to search with params=[...] to do so anyway"
            )
        chosen = [p for p in spec.params if p.kind == "float"][:2]
    else:
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ValueError(f"{spec.name} has no parameter(s) {unknown}; it has {sorted(by_name)}")
        chosen = [by_name[n] for n in names]
        odd = [p.name for p in chosen if p.kind not in ("float", "int")]
        if odd:
            raise ValueError(f"tune searches numeric parameters only, not {odd}")
    if not chosen:
        raise ValueError(f"{spec.name} has no numeric parameter to tune")
    if len(chosen) > 2:
        raise ValueError(f"tune searches one or two parameters, got {[p.name for p in chosen]}")
    return tuple(chosen)


@dataclass(frozen=True)
class Axis:
    """A searched parameter: its range, scale and starting value (``u`` in [0, 1] along it)."""

    name: str
    low: float
    high: float
    log: bool
    integer: bool
    start: float

    @classmethod
    def of(cls, param: Param, current, sigma: float) -> Axis:
        """The axis of ``param``: ``current`` is its resolved value, ``sigma`` the noise level."""
        integer = param.kind == "int"
        if param.max is None:
            if integer:
                raise ValueError(f"cannot tune {param.name!r}: an integer without an upper bound")
            low, high = (f * sigma for f in OPEN_RANGE)
            low = max(low, param.min or 0.0)
        else:
            low, high = float(param.min or 0.0), float(param.max)
        if not high > low:
            raise ValueError(f"cannot tune {param.name!r}: empty range [{low}, {high}]")
        log = not integer and high / max(low, 1e-300) >= 10
        if log and low <= 0:
            low = high * 1e-3
        if isinstance(current, (int, float)) and not isinstance(current, bool):
            start = min(max(float(current), low), high)
        else:
            start = math.sqrt(low * high) if log else (low + high) / 2
        return cls(param.name, low, high, log, integer, start)

    def value(self, u: float):
        """The parameter value at position ``u`` in [0, 1]."""
        u = min(max(u, 0.0), 1.0)
        if self.log:
            v = math.exp(math.log(self.low) + u * math.log(self.high / self.low))
        else:
            v = self.low + u * (self.high - self.low)
        return int(round(v)) if self.integer else float(v)

    def position(self, value: float) -> float:
        """Inverse of :meth:`value`."""
        if self.log:
            return math.log(value / self.low) / math.log(self.high / self.low)
        return (value - self.low) / (self.high - self.low)


def _next_position(points: dict[float, float], tol: float) -> float | None:
    """Brent-style proposal from evaluated ``{u: risk}``; ``None`` when the bracket is resolved."""
    us = sorted(points)
    k = min(range(len(us)), key=lambda i: points[us[i]])
    if k == 0 and us[0] > tol:  # best at the lower edge: step outwards
        return max(0.0, us[0] - 1.618 * (us[1] - us[0]) if len(us) > 1 else us[0] - 0.25)
    if k == len(us) - 1 and us[-1] < 1 - tol:
        return min(1.0, us[-1] + 1.618 * (us[-1] - us[-2]) if len(us) > 1 else us[-1] + 0.25)
    if k in (0, len(us) - 1):
        return None  # the optimum is at the range's edge
    a, b, c = us[k - 1], us[k], us[k + 1]
    fa, fb, fc = points[a], points[b], points[c]
    denominator = (b - a) * (fb - fc) - (b - c) * (fb - fa)
    candidate = None
    if denominator != 0:
        candidate = b - ((b - a) ** 2 * (fb - fc) - (b - c) ** 2 * (fb - fa)) / (2 * denominator)
    if candidate is None or not (a < candidate < c) or min(abs(candidate - u) for u in us) < tol:
        far = a if b >= (a + c) / 2 else c  # golden section of the wider side (Brent's rule)
        candidate = b + GOLDEN * (far - b)
    if c - a < 2 * tol:
        return None
    return candidate


def tune_steps(
    image, method: str, *, noise: str = "gaussian", sigma: float | None = None,
    params: Sequence[str] | None = None, seed: int = 0, budget: int | None = None,
    **fixed,
) -> Generator[Step, None, dict]:  # fmt: skip
    """Generator form of :func:`tune`: yields a :class:`Step` per trial, returns the values.

    Each trial's step has ``i`` = denoiser calls so far, ``n`` = the budget,
    ``x0_hat`` = that trial's denoised image and ``info`` = ``{"params": ...,
    "sure": ..., "best": ..., "best_sure": ...}`` (a live SURE curve).  The
    steps of slow methods are passed on too (same ``i``/``n``).  Close the
    generator to cancel.
    """
    from ..api import get_spec

    spec = get_spec(method)
    chosen = tunable_params(spec, params)
    budget = DEFAULT_BUDGET if budget is None else int(budget)
    fixed = trial_probes(spec) | fixed
    problem = risk_problem(image, method, noise=noise, sigma=sigma, seed=seed, **fixed)
    return (yield from search_steps(problem, chosen, budget))


def search_steps(problem, chosen: Sequence[Param], budget: int) -> Generator[Step, None, dict]:
    """Minimise ``problem``'s risk over the ``chosen`` parameters with ``budget`` calls.

    ``problem`` is a :class:`~.sure.RiskProblem` or anything with its
    ``risk_steps(**values)``, ``calls``, ``image``, ``params`` (starting
    values; missing or None: the middle of the range) and ``method_sigma``
    (e.g. :class:`~.generic.FunctionRisk`).  Steps and result as
    :func:`tune_steps`.
    """
    if budget < problem.calls:
        raise ValueError(
            f"budget must allow one trial ({problem.calls} denoiser calls), got {budget}"
        )
    # a parameter whose default is unknown here (derived inside the method from the data) is
    # searched first, from the middle of its range; then the intensity parameters (a range
    # width, a TV weight: the ones that matter most), then the rest, each from its default
    starts = {p.name: _start(p, problem) for p in chosen}
    chosen = sorted(chosen, key=lambda p: (starts[p.name] is not None, not p.image_units))
    axes = [Axis.of(p, starts[p.name], problem.method_sigma) for p in chosen]
    trials = _Trials(problem, budget)
    best = {axis.name: axis.value(axis.position(axis.start)) for axis in axes}
    known = [starts[p.name] is not None for p in chosen]
    count = budget // 2  # trials (of two calls; one-call methods get as many trials)
    shares = [count] if len(axes) == 1 else [max(1, count - SECOND_AXIS_TRIALS), count]
    for axis, evaluations, default in zip(axes, shares, known):
        step = KNOWN_STEP if default else FIRST_STEP
        best = yield from _search_axis(trials, axis, best, evaluations, step)
    return best


def _start(param: Param, problem):
    """Where the search of ``param`` starts: its value, or the multiple of the noise it derives."""
    value = problem.params.get(param.name)
    if value is None and param.per_sigma is not None and problem.method_sigma > 0:
        return param.per_sigma * problem.method_sigma
    return value


def _search_axis(
    trials, axis: Axis, base: dict, evaluations: int, step: float = 0.25
) -> Generator[Step, None, dict]:
    """Minimise along ``axis`` from ``base`` with at most ``evaluations`` new trials."""
    points: dict[float, float] = {}
    tol = 0.5 / (axis.high - axis.low) if axis.integer else 1e-3
    u0 = axis.position(base[axis.name])
    # bracketing from two points (then golden-ratio steps downhill, _next_position)
    proposals = [u0, u0 + step if u0 + step <= 1 else u0 - step]
    used = 0
    while used < evaluations and trials.left():
        u = proposals.pop(0) if proposals else _next_position(points, tol)
        if u is None:
            break
        values = base | {axis.name: axis.value(u)}
        u = axis.position(values[axis.name])
        if u in points:
            if proposals:
                continue
            break
        risk, fresh = yield from trials.evaluate(values)
        points[u] = risk
        used += fresh
    return trials.best_values


class _Trials:
    """The trials run so far (cached by parameter values), the budget and the best one."""

    def __init__(self, problem: RiskProblem, budget: int) -> None:
        self.problem, self.budget = problem, budget
        self.calls, self.cache = 0, {}
        self.best_values, self.best_risk = None, math.inf

    def left(self) -> bool:
        return self.calls + self.problem.calls <= self.budget

    def evaluate(self, values: dict) -> Generator[Step, None, tuple[float, bool]]:
        key = tuple(sorted((k, f"{v:.9g}") for k, v in values.items()))
        if key in self.cache:
            return self.cache[key], False
        progress: Callable[[Step], Step] = lambda s: Step(self.calls, self.budget, info=s.info)  # noqa: E731
        risk_map, out = yield from map_steps(self.problem.risk_steps(**values), progress)
        self.calls += self.problem.calls
        risk = float(np.mean(risk_map))
        self.cache[key] = risk
        if risk < self.best_risk:
            self.best_values, self.best_risk = dict(values), risk
        info = {"params": dict(values), "sure": risk, "best": dict(self.best_values),
                "best_sure": self.best_risk}  # fmt: skip
        yield Step(self.calls, self.budget, x=self.problem.image, x0_hat=out, info=info)
        return risk, True


def tune(
    image, method: str, *, noise: str = "gaussian", sigma: float | None = None,
    params: Sequence[str] | None = None, seed: int = 0, budget: int | None = None,
    **fixed,
) -> dict:  # fmt: skip
    """The parameter values of ``method`` that minimise :func:`~.sure.sure` on ``image``.

    Parameters
    ----------
    image : array-like
        The noisy image or region (finite).
    method : str
        A key of ``DENOISERS``.
    noise, sigma, seed
        As for :func:`napari_tweedie.denoise` (the noise is estimated once).
    params : sequence of str, optional
        One or two numeric parameters to search; default: the method's float
        parameters (at most two).  Methods that fit a model on every run need
        them named.
    budget : int, optional
        Maximum number of denoiser calls (default 15; two per trial).
    **fixed
        Other method or noise parameters, held fixed.

    Returns
    -------
    dict
        ``{name: value}`` for the searched parameters, to pass to
        :func:`napari_tweedie.denoise` (``nt.denoise(y, m, **nt.tune(y, m))``).
    """
    return run(
        tune_steps(image, method, noise=noise, sigma=sigma, params=params, seed=seed,
                   budget=budget, **fixed)
    )  # fmt: skip
