"""The operator registry: :class:`OperatorSpec` and ``OPERATORS`` (name -> spec).

Each operator module registers its factory with :func:`operator` (or
:func:`register`); the package
imports every module, so a new forward model is one new module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..specs import Param, Spec

if TYPE_CHECKING:
    from .base import LinearOperator

F = TypeVar("F", bound=Callable[..., Any])

#: every operator's measurement noise (its spec lists it)
SIGMA_Y = Param(
    "sigma_y",
    0.0,
    "measurement noise std, in the measurement's units (MRI: of the real and of the "
    "imaginary part each)",
    min=0.0,
    step=0.01,
)


@dataclass(frozen=True, kw_only=True)
class OperatorSpec(Spec):
    """A registered forward model ``y = A x + noise`` (``nt.restore(y, name)``).

    Attributes
    ----------
    name, summary, params
        As in :class:`~napari_tweedie.specs.Spec`; ``params`` are the keyword
        arguments of ``factory``; ``kind="array"`` ones (masks, PSFs) have no
        scalar control.
    factory : callable
        ``factory(y_shape, **params) -> LinearOperator`` for a measurement of
        shape ``y_shape`` (the image shape is inferred from it).
    from_image : callable, optional
        ``from_image(image_shape, **params) -> LinearOperator`` for an image of
        known shape (simulation); ``None``: ``factory``, for operators whose
        measurement has the image's shape.
    identity : bool
        ``A = I``: a sampler without a data term (DDIM) can solve it.
    image_grid : bool
        The measurement lies on the image's pixel grid (or a coarser one), so
        results can be drawn over it (a sinogram cannot).
    complex_measurement : bool
        The measurement is complex (k-space): a napari image layer cannot hold
        it, so the GUI simulates it from an image.
    needs_mask : bool
        ``mask=`` (1 where a pixel is observed) is required.
    shape_param : str, optional
        The parameter that fixes the image shape when the measurement's shape
        does not (CT: ``size``); a simulation passes the image's shape there.
    check : callable, optional
        ``check(y, params)`` raises a ``ValueError`` with a plain reason when
        ``y`` cannot be this operator's measurement (CT: not a sinogram); the
        GUI calls it before a run.
    default_sampler, default_steps, default_samples, default_settings
        What ``restore`` runs when the caller leaves ``sampler``/``steps``/
        ``samples`` at ``None``: the best point estimate measured for this
        operator (``benchmarks/bench_restore.py --defaults``).  A deterministic
        sampler runs once; a stochastic one is averaged over
        ``default_samples`` samples (the mean, never one raw sample).
        ``default_settings`` are sampler parameters of that choice.
    uncertainty_sampler : str
        With ``sampler=None`` and ``samples > 1`` where the default is one
        deterministic estimate (``default_samples == 1``): the stochastic
        sampler whose samples give the mean and a meaningful std.
    """

    factory: Callable[..., LinearOperator]
    from_image: Callable[..., LinearOperator] | None = None
    identity: bool = False
    image_grid: bool = True
    complex_measurement: bool = False
    needs_mask: bool = False
    shape_param: str | None = None
    check: Callable[[Any, dict], None] | None = None
    default_sampler: str = "pnp"
    default_steps: int = 50
    default_samples: int = 1
    default_settings: Mapping[str, Any] = field(default_factory=dict)
    uncertainty_sampler: str = "dds"

    def for_image(self, image_shape: tuple[int, ...], **params) -> LinearOperator:
        """The operator for an unknown image of shape ``image_shape`` (last two axes)."""
        shape = tuple(int(n) for n in image_shape[-2:])
        return (self.from_image or self.factory)(shape, **params)

    def for_measurement(self, y_shape: tuple[int, ...], **params) -> LinearOperator:
        """The operator for a measurement of shape ``y_shape`` (last two axes)."""
        return self.factory(tuple(int(n) for n in y_shape[-2:]), **params)


OPERATORS: dict[str, OperatorSpec] = {}


def register(spec: OperatorSpec) -> OperatorSpec:
    """Add ``spec`` to :data:`OPERATORS` (replacing one of the same name)."""
    OPERATORS[spec.name] = spec
    return spec


def operator(name: str, **fields: Any) -> Callable[[F], F]:
    """Register the decorated factory as the operator ``name``.

    ``fields`` are the other :class:`OperatorSpec` fields (``summary``,
    ``params``, ``from_image``, capabilities); the factory is returned unchanged.
    """

    def add(factory: F) -> F:
        register(OperatorSpec(name=name, factory=factory, **fields))
        return factory

    return add
