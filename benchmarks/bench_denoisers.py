"""Quality and speed of every registered denoiser (same as ``napari-tweedie bench``).

    python benchmarks/bench_denoisers.py [--quick] [--methods tv,bm3d] [--json]

The code lives in ``napari_tweedie.benchmark`` so that the installed command
can run it too.
"""

import sys

from napari_tweedie.benchmark import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
