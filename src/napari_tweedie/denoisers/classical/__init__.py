"""Classical (training-free) denoisers and the compiled bilateral filters.

Gaussian, bilateral, total variation, non-local means, wavelet shrinkage,
BM3D and BM4D (:data:`SPECS`), each on grey planes, jointly on colour images
and in 3-D where it can (:mod:`.shaped`, :mod:`.shaped_transform`);
:func:`bilateral_filter_varying` is also the kernel Filter2Noise renders with.
scipy, scikit-image and numba load on the first call.
"""

from .bilateral import bilateral_filter, bilateral_filter_varying
from .spec import SPECS

__all__ = ["SPECS", "bilateral_filter", "bilateral_filter_varying"]
