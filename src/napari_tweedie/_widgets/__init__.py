"""napari dock widgets (the only part of napari-tweedie that imports napari and Qt)."""
