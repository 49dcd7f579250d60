"""The Restore widget's prior picker: bundled network, registry denoisers, a bioimage.io package.

:class:`PriorChoice` is a combo box plus a file picker shown only for
"bioimage.io package...": its :attr:`value` is what ``restore(prior=...)``
takes (``"bioimageio:PATH"`` for a package, see
:mod:`napari_tweedie.prior.bioimageio`).
"""

from __future__ import annotations

from magicgui.widgets import ComboBox, FileEdit

from ..denoisers import DENOISERS
from ..prior.select import BUNDLED_PRIORS

__all__ = ["PACKAGE", "PriorChoice"]

#: the choice's value: the prefix of ``prior="bioimageio:PATH"``
PACKAGE = "bioimageio:"


class PriorChoice:
    """The ``prior`` combo box and the package file picker (both added to the widget's form)."""

    def __init__(self) -> None:
        usable = sorted(n for n, spec in DENOISERS.items()
                        if not any(p.kind == "path" for p in spec.params))  # fmt: skip
        self.combo = ComboBox(
            label="prior",
            choices=[
                *((n, n) for n in (*BUNDLED_PRIORS, *usable)),
                ("bioimage.io package...", PACKAGE),
            ],
            value="default",
            tooltip="bundled network (x8: averaged over flips/rotations, 8x slower), any "
            "denoiser, or a bioimage.io Gaussian denoiser package of known noise level",
        )
        self.package = FileEdit(label="prior package", mode="r", filter="*.zip", visible=False)
        self.package.tooltip = (
            "bioimage.io package whose config.napari_tweedie.sigma gives its noise level "
            "(packages exported from a Gaussian Noise2Score model have it)"
        )
        self.combo.changed.connect(self._show)

    @property
    def widgets(self) -> list:
        return [self.combo, self.package]

    @property
    def value(self) -> str:
        """The ``prior=`` argument of ``restore``."""
        if self.combo.value == PACKAGE:
            return PACKAGE + str(self.package.value)
        return self.combo.value

    def _show(self, value=None) -> None:
        self.package.visible = self.combo.value == PACKAGE
