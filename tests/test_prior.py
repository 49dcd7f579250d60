"""The bundled prior: network shapes, EDM preconditioning, loading, and the "prior" denoiser."""

from __future__ import annotations

import json
import pickle
import struct

import numpy as np
import pytest
import skimage
import torch

import napari_tweedie as nt
from napari_tweedie.prior import bundled
from napari_tweedie.prior.bundled import PriorDenoiser, load_prior, pad_to_multiple
from napari_tweedie.prior.network import EDMDenoiser, NetConfig

HAVE_WEIGHTS = bundled.WEIGHTS_PATH.is_file()
needs_weights = pytest.mark.skipif(not HAVE_WEIGHTS, reason="bundled prior weights not trained yet")
SMALL = NetConfig(channels=(8, 16, 32), blocks=1, emb_dim=16)


@pytest.fixture
def small_prior() -> PriorDenoiser:
    """A tiny random network with a non-zero output layer (so F really contributes)."""
    torch.manual_seed(0)
    model = EDMDenoiser(SMALL)
    torch.nn.init.normal_(model.net.head.weight, std=0.1)
    return PriorDenoiser(model, torch.device("cpu"))


@pytest.fixture(scope="module")
def trained() -> PriorDenoiser:
    if not HAVE_WEIGHTS:
        pytest.skip("bundled prior weights not trained yet")
    return load_prior("cpu")


@pytest.mark.parametrize("shape", [(37, 53), (1, 37, 53), (2, 1, 37, 53), (3, 5)])
def test_output_shape_any_size(small_prior, shape):
    x = torch.rand(shape)
    sigma = torch.full((shape[0],), 0.1) if len(shape) == 4 else 0.1
    out = small_prior(x, sigma)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert torch.isfinite(out).all()


def test_padding_reflects_and_crops_back():
    x = torch.arange(15.0).reshape(1, 1, 3, 5)
    padded, size = pad_to_multiple(x, 4)
    assert padded.shape == (1, 1, 4, 8) and size == (3, 5)
    assert torch.equal(padded[..., :3, :5], x)


def test_edm_limits_hold_for_any_weights(small_prior):
    x = torch.rand(1, 1, 32, 32)
    # tiny sigma: c_skip -> 1 and c_out -> sigma, so D(x) ~ x
    assert torch.allclose(small_prior(x, 1e-6), x, atol=1e-4)
    # untrained output layer (zero): D(x, sigma) -> center as sigma -> infinity
    fresh = PriorDenoiser(EDMDenoiser(SMALL), torch.device("cpu"))
    noisy = 0.5 + 1e4 * torch.randn(1, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    out = fresh(noisy, 1e4)
    assert torch.allclose(out, torch.full_like(out, 0.5), atol=1e-3)


def test_per_item_sigma_and_determinism(small_prior):
    x = torch.rand(2, 1, 24, 40, generator=torch.Generator().manual_seed(2))
    sigma = torch.tensor([0.05, 0.3])
    both = small_prior(x, sigma)
    assert torch.equal(both, small_prior(x, sigma))
    first = small_prior(x[:1], 0.05)
    assert torch.allclose(both[:1], first, atol=1e-5)
    assert not torch.allclose(both[1:], small_prior(x[1:], 0.05), atol=1e-4)


def test_gradients_flow_to_the_input_only(small_prior):
    x = torch.rand(1, 1, 16, 16, requires_grad=True)
    small_prior(x, 0.2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert all(p.grad is None for p in small_prior.model.parameters())


def test_missing_weights_give_a_clear_error(tmp_path, monkeypatch):
    missing = tmp_path / "nothing.safetensors"
    with pytest.raises(FileNotFoundError, match="missing"):
        load_prior("cpu", missing)
    monkeypatch.setattr(bundled, "WEIGHTS_PATH", missing)
    message = nt.DENOISERS["prior"].requires()
    assert message and "missing" in message


def test_round_trip_through_safetensors_without_pickle(tmp_path, monkeypatch, small_prior):
    from safetensors.torch import save_file

    path = tmp_path / "prior.safetensors"
    tensors = {k: v.half().contiguous() for k, v in small_prior.model.state_dict().items()}
    save_file(tensors, str(path), metadata={"config": json.dumps(SMALL.to_dict())})
    header = path.read_bytes()
    length = struct.unpack("<Q", header[:8])[0]
    assert "config" in json.loads(header[8 : 8 + length])["__metadata__"]

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle must not be used to load the prior")

    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    loaded = load_prior("cpu", path)
    x = torch.rand(1, 1, 20, 20)
    assert torch.allclose(loaded(x, 0.1), small_prior(x, 0.1), atol=2e-3)


def test_device_auto_picks_an_available_device():
    device = bundled.pick_device("auto")
    assert device.type in {"cuda", "mps", "cpu"}
    assert bundled.pick_device("cpu") == torch.device("cpu")


@needs_weights
def test_registry_entry_beats_the_noisy_input(noisy_pair):
    clean, noisy, sigma = noisy_pair
    spec = nt.DENOISERS["prior"]
    assert spec.requires() is None and spec.radius(sigma) == 32
    scaled = 100 + 400 * noisy  # any units: the method rescales internally
    out = (nt.denoise(scaled, "prior", sigma=400 * sigma) - 100) / 400
    assert out.shape == noisy.shape and out.dtype == np.float32
    mse_in = np.mean((noisy - clean) ** 2)
    mse_out = np.mean((out - clean) ** 2)
    assert mse_out < 0.5 * mse_in


@needs_weights
def test_tiles_blend_seamlessly():
    denoise_prior = nt.DENOISERS["prior"].func
    clean = skimage.data.camera()[100:400, 100:400].astype(np.float32) / 255
    noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(clean.shape).astype(np.float32)
    whole = denoise_prior(noisy, sigma=0.1, tile=512)
    tiled = denoise_prior(noisy, sigma=0.1, tile=128)  # 3 x 3 tiles, seams across edges
    assert tiled.shape == noisy.shape
    # with the blended halo the worst pixel is off by ~2e-4; without it, seams reach ~0.12
    assert np.abs(tiled - whole).max() < 0.005


@needs_weights
def test_trained_prior_is_sensible_at_large_sigma(trained):
    gen = torch.Generator().manual_seed(3)
    noise = torch.randn(1, 1, 64, 64, generator=gen)
    out = trained(0.45 + 80.0 * noise, 80.0)
    assert 0.1 < float(out.mean()) < 0.9
    assert float(out.std()) < 0.2


@needs_weights
def test_lazy_tiles_share_one_data_range(noisy_pair, monkeypatch):
    from dataclasses import replace

    from napari_tweedie.denoisers import DENOISERS

    _, noisy, sigma = noisy_pair
    # a dark half and a bright one: per-tile percentiles would scale the tiles differently
    image = np.concatenate([noisy, 3.0 * noisy + 2.0], axis=1)
    spec = DENOISERS["prior"]
    ranges = []

    def spy(plane, **params):
        ranges.append(params.get("data_range"))
        return spec.func(plane, **params)

    monkeypatch.setitem(DENOISERS, "prior", replace(spec, func=spy))
    nt.denoise_lazy(image, "prior", sigma=sigma, tile=64).compute(scheduler="synchronous")
    low, high = np.percentile(image, [0.5, 99.5])
    assert len(ranges) > 1 and len(set(ranges)) == 1
    np.testing.assert_allclose(ranges[0], (low, high), rtol=1e-5)
