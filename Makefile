# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0
# The peers' venv: careamics imports torchvision, and every torchvision wheel for Linux on
# PyPI links torch's CUDA libraries, so .venv-peers takes PyPI's torch 2.13.0 ('===': not a
# local +cpu build; several GB with its nvidia-* wheels; it runs on CPU here) and the
# torchvision built for it; careamics' own pin (torchvision<=0.26) would pull torch 2.11.
PEERS_TORCH ?= torch===2.13.0
PEERS_TORCHVISION ?= torchvision==0.28.0
PEERS_VENV ?= .venv-peers
PEERS_ARGS ?= --quick
SCREENSHOT ?= $(CURDIR)/out/demo.png
XVFB := xvfb-run -a -s "-screen 0 1600x1000x24"
# `make screenshots SCREENSHOTS_ARGS="--only restore"` remakes one journey's screenshots only.
SCREENSHOTS_ARGS ?=

.PHONY: install demo test lint format wheel-check bench bench-peers large-volume screenshots clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install "$(TORCH)" -e '.[testing]'
	touch $@

install: $(VENV)/.installed

demo: install
	@if [ -n "$$DISPLAY" ]; then \
		$(PY) scripts/demo.py; \
	else \
		echo "no display: running napari under a virtual X server"; \
		$(XVFB) $(PY) scripts/demo.py --screenshot "$(SCREENSHOT)"; \
	fi

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check src tests benchmarks scripts sample_data
	$(VENV)/bin/ruff format --check src tests benchmarks scripts sample_data

format: install
	$(VENV)/bin/ruff format src tests benchmarks scripts sample_data
	$(VENV)/bin/ruff check --fix src tests benchmarks scripts sample_data

# Build the wheel, install it in a clean venv and check the manifest and sample data ship.
wheel-check: install
	bash scripts/wheel_check.sh "$(PYTHON)" "$(TORCH)"

# The README's screenshots (docs/screenshots/*.png), played from the journeys of tests/journeys.py.
screenshots: install
	@if [ -n "$$DISPLAY" ]; then \
		$(PY) scripts/screenshots.py $(SCREENSHOTS_ARGS); \
	else \
		echo "no display: running napari under a virtual X server"; \
		$(XVFB) $(PY) scripts/screenshots.py $(SCREENSHOTS_ARGS); \
	fi

bench: install
	$(VENV)/bin/napari-tweedie bench

# Peer benchmark (CAREamics N2V2, scikit-image calibrate_denoiser) in its own venv, so that
# the peers never touch .venv: `make bench-peers PEERS_ARGS=` runs the full set.
$(PEERS_VENV)/.installed: pyproject.toml benchmarks/requirements-peers.txt
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --upgrade pip
	$(PEERS_VENV)/bin/python -m pip install "$(PEERS_TORCH)" "$(PEERS_TORCHVISION)" \
		-r benchmarks/requirements-peers.txt -e '.[bm3d]'
	$(PEERS_VENV)/bin/python -m pip install --no-deps "careamics==0.3.5"
	touch $@

bench-peers: $(PEERS_VENV)/.installed
	$(PEERS_VENV)/bin/python benchmarks/bench_peers.py $(PEERS_ARGS)

# A 64x4096x4096 uint16 zarr for scale tests (about 2 GB, not committed).
large-volume: install
	$(PY) benchmarks/make_large_volume.py large_volume.zarr

clean:
	rm -rf build dist out .pytest_cache src/*.egg-info
