"""Linear forward models ``A`` with adjoints, and the conjugate-gradient solver they share.

Images are real tensors of shape (B, 1, H, W) on [0, 1] (after normalisation);
measurements have any shape and may be complex (MRI).  Inner products are
real: ``<u, v> = Re(sum(conj(u) * v))``, so the adjoint of a real-to-complex
map is the real part of its complex adjoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from torch import Tensor


def inner(u: Tensor, v: Tensor) -> Tensor:
    """Real inner product per batch item: ``Re(sum(conj(u) * v))`` over all but the first axis."""
    import torch

    product = torch.conj(u) * v if u.is_complex() or v.is_complex() else u * v
    return product.real.flatten(1).sum(dim=1) if product.is_complex() else product.flatten(1).sum(1)


class LinearOperator:
    """A linear measurement model ``y = A x + noise``.

    Subclasses implement :meth:`forward` and :meth:`adjoint` (or inherit the
    autograd adjoint, exact for any linear ``forward`` built from
    differentiable torch ops).

    Attributes
    ----------
    image_shape : tuple of int
        (H, W) of the unknown image.
    sigma_y : float
        Standard deviation of Gaussian measurement noise (in measurement units).
    """

    name = "linear"

    def __init__(self, image_shape: tuple[int, int], sigma_y: float = 0.0):
        self.image_shape = tuple(int(n) for n in image_shape)
        self.sigma_y = float(sigma_y)
        self._norm: float | None = None

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def adjoint(self, y: Tensor) -> Tensor:
        """``A^T y`` by a vector-Jacobian product of :meth:`forward` (exact for linear maps)."""
        import torch

        with torch.enable_grad():
            probe = torch.zeros(
                (y.shape[0], 1, *self.image_shape),
                dtype=torch.float32,
                device=y.device,
                requires_grad=True,
            )
            out = self.forward(probe)
            (grad,) = torch.autograd.grad(out, probe, grad_outputs=y.to(out.dtype))
        return grad.real if grad.is_complex() else grad

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def normal(self, x: Tensor) -> Tensor:
        """``A^T A x``."""
        return self.adjoint(self.forward(x))

    def norm(self, device: torch.device | str = "cpu") -> float:
        """``||A||``, the largest singular value (computed once, then kept).

        Samplers use it to make their step sizes independent of the
        operator's scale (a Radon transform's norm is in the tens, an
        inpainting mask's is 1).  Operators with a closed form override
        :meth:`_compute_norm`; the default is a seeded power iteration on
        ``A^T A`` from a smooth start that stops at a relative change of 1e-3
        (at most 50 iterations; about 1 %: it sets step sizes).  The operator's
        parameters are fixed at construction.

        Parameters
        ----------
        device : torch.device or str
            Where the power iteration runs (first call only).

        Returns
        -------
        float
        """
        if self._norm is None:
            self._norm = float(self._compute_norm(device))
        return self._norm

    def _compute_norm(self, device, tol: float = 1e-3, max_iterations: int = 50) -> float:
        import torch

        generator = torch.Generator().manual_seed(0)
        # a smooth start: the top singular vector of a non-negative operator (a
        # projection, a blur) is non-negative; the noise keeps every component
        v = 1 + 0.1 * torch.randn((1, 1, *self.image_shape), generator=generator)
        v = v.to(device)
        v = v / v.norm()
        value = 0.0
        for _ in range(max_iterations):
            w = self.normal(v)
            new = float(w.norm())
            if new == 0.0:
                return 0.0
            v = w / new
            if abs(new - value) <= tol * new:
                break
            value = new
        return new**0.5

    def baseline(self, y: Tensor) -> Tensor:
        """A quick classical reconstruction (used for scaling and as a reference)."""
        return self.adjoint(y)

    def observed(self, y: Tensor) -> Tensor:
        """``y`` with the entries the operator does not observe set to 0 (masked operators).

        Then ``||y - A x||`` measures the misfit of observed data only (DPS
        normalises its step by it), whatever a user's image holds in the holes.
        """
        return y

    def simulate(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """A noisy measurement ``A x + sigma_y * n`` of ``x``."""
        import torch

        clean = self.forward(x)
        noise = torch.randn(clean.shape, generator=generator, dtype=clean.dtype)
        return clean + self.sigma_y * noise.to(clean.device)

    def prox(self, z: Tensor, y: Tensor, rho: float | Tensor, steps: int = 10) -> Tensor:
        """``argmin_x ||y - A x||^2 + rho ||x - z||^2`` (conjugate gradients from ``z``)."""
        import torch

        rho_t = torch.as_tensor(rho, dtype=z.dtype, device=z.device)
        return conjugate_gradient(
            lambda v: self.normal(v) + rho_t * v, self.adjoint(y) + rho_t * z, z, steps
        )


def conjugate_gradient(
    apply: Callable[[Tensor], Tensor], rhs: Tensor, x0: Tensor, steps: int, tol: float = 1e-10
) -> Tensor:
    """Conjugate gradients for ``apply(x) = rhs`` (symmetric positive definite), per batch item.

    Runs at most ``steps`` iterations from ``x0``; items whose residual falls
    below ``tol`` stop moving.
    """
    import torch

    x = x0.clone()
    residual = rhs - apply(x)
    direction = residual.clone()
    rs_old = inner(residual, residual)
    shape = (-1,) + (1,) * (x.ndim - 1)
    for _ in range(steps):
        if bool((rs_old <= tol).all()):
            break
        a_dir = apply(direction)
        denom = inner(direction, a_dir)
        alpha = torch.where(rs_old > tol, rs_old / denom.clamp_min(1e-30), torch.zeros_like(rs_old))
        x = x + alpha.view(shape) * direction
        residual = residual - alpha.view(shape) * a_dir
        rs_new = inner(residual, residual)
        beta = torch.where(rs_old > tol, rs_new / rs_old.clamp_min(1e-30), torch.zeros_like(rs_new))
        direction = residual + beta.view(shape) * direction
        rs_old = rs_new
    return x
