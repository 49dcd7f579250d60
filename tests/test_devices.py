"""Devices everywhere (issue 19): device strings, CPU fallback, every torch method, CLI, widgets.

All on CPU: a named device this machine lacks must be a clear error, ``auto``
must run, and ``device="cpu"`` must give the default's result here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import napari_tweedie as nt
from napari_tweedie.cli import main
from napari_tweedie.devices import (
    available_devices,
    check_device,
    resolve_device,
    uses_device,
    with_cpu_fallback,
)

HAS_CUDA = torch.cuda.is_available()
HAS_MPS = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
cpu_only = pytest.mark.skipif(HAS_CUDA or HAS_MPS, reason="this machine has an accelerator")

#: tiny, fast settings of each torch method (``nt.denoise`` keyword arguments)
TORCH_METHODS = {
    "zs_n2n": dict(iterations=12, crop=16),
    "filter2noise": dict(iterations=3, crop=32),
    "noise2score": dict(steps=2, batch=1, patch=16),
}


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny(rng) -> np.ndarray:
    ramp = np.linspace(0.2, 0.8, 32, dtype=np.float32)
    return (ramp[:, None] * ramp[None] + 0.05 * rng.standard_normal((32, 32))).astype(np.float32)


# -- device strings ---------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "", "CPU", "cuda:", " cpu", "tpu", None, 3])
def test_bad_device_strings_are_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"):
        resolve_device(bad)
    with pytest.raises(ValueError, match="device must be"):
        check_device(bad)


@pytest.mark.parametrize("good", ["auto", "cpu", "cuda", "cuda:0", "cuda:12", "mps"])
def test_device_strings_pass_the_syntax_check(good):
    assert check_device(good) == good


@cpu_only
@pytest.mark.parametrize("absent", ["cuda", "cuda:1", "mps"])
def test_an_absent_device_is_an_error_that_names_what_is_available(absent):
    with pytest.raises(ValueError, match=r"not available on this machine \(available: auto, cpu\)"):
        resolve_device(absent)


@cpu_only
def test_auto_resolves_to_cpu_here_and_cpu_is_listed_first():
    assert resolve_device("auto") == torch.device("cpu") == resolve_device()
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert available_devices() == ["cpu"]


def test_pick_device_of_the_prior_is_resolve_device():
    from napari_tweedie.prior import pick_device

    assert pick_device("auto") == resolve_device("auto")
    with pytest.raises(ValueError, match="device must be"):
        pick_device("gpu")


# -- CPU fallback -----------------------------------------------------------------------
def test_cpu_fallback_warns_and_returns_the_cpu_result():
    calls = []

    def op(x, scale=1.0):  # lacks a kernel the first time (as MPS does), works on CPU
        calls.append(x.device)
        if len(calls) == 1:
            raise NotImplementedError("aten::op is not implemented for the device")
        return x * scale, x.sum()

    x = torch.arange(6.0).reshape(2, 3)
    with pytest.warns(RuntimeWarning, match="op is not implemented on cpu; ran it on CPU"):
        out, total = with_cpu_fallback(op, x, scale=2.0)
    assert torch.equal(out, x * 2) and float(total) == 15.0 and len(calls) == 2
    assert out.device == x.device


def test_cpu_fallback_is_silent_when_the_op_works_and_passes_other_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.equal(with_cpu_fallback(torch.neg, torch.ones(2)), -torch.ones(2))

    def broken(x):
        raise RuntimeError("a real error")

    with pytest.raises(RuntimeError, match="a real error"):
        with_cpu_fallback(broken, torch.ones(2))


# -- every torch method -----------------------------------------------------------------
def test_the_torch_methods_are_the_ones_that_take_a_device():
    takes = {name for name, spec in nt.DENOISERS.items() if uses_device(spec.func)}
    assert set(TORCH_METHODS) <= takes and "prior" in takes
    assert not uses_device(nt.DENOISERS["gaussian"].func)


@pytest.mark.parametrize("method", sorted(TORCH_METHODS))
def test_device_cpu_gives_the_default_result(tiny, method):
    params = TORCH_METHODS[method]
    default = nt.denoise(tiny, method, sigma=0.05, **params)
    on_cpu = nt.denoise(tiny, method, sigma=0.05, device="cpu", **params)
    assert on_cpu.shape == tiny.shape and np.isfinite(on_cpu).all()
    assert not np.array_equal(on_cpu, tiny)  # it did denoise
    if not (HAS_CUDA or HAS_MPS):  # auto = cpu here: bit for bit the same run
        np.testing.assert_array_equal(on_cpu, default)


@cpu_only
@pytest.mark.parametrize("method", sorted(TORCH_METHODS))
def test_an_absent_device_fails_before_any_work(tiny, method):
    with pytest.raises(ValueError, match="'cuda' is not available.*available: auto, cpu"):
        nt.denoise(tiny, method, sigma=0.05, device="cuda", **TORCH_METHODS[method])


def test_api_refuses_a_bad_device_for_any_method(tiny):
    with pytest.raises(ValueError, match="device must be"):
        nt.denoise(tiny, "gaussian", sigma=0.05, device="gpu")


def test_filter2noise_torch_filter_equals_the_numba_kernel(rng, monkeypatch):
    """The non-CPU path of Filter2Noise (torch AGBF) gives the numba kernel's numbers."""
    from napari_tweedie.denoisers.classical.bilateral import bilateral_filter_varying
    from napari_tweedie.denoisers.filter2noise import model as f2n_model

    shape = (24, 30)
    x = rng.random(shape, dtype=np.float32)
    sx, sy = 0.5 + rng.random(shape, dtype=np.float32), 0.5 + rng.random(shape, dtype=np.float32)
    sr = 0.05 + 0.3 * rng.random(shape, dtype=np.float32)
    numba_out = bilateral_filter_varying(x, sx, sy, sr, radius=3)
    torch_out = f2n_model._filter_on(torch.device("cpu"), x, sx, sy, sr, 3)
    np.testing.assert_allclose(torch_out, numba_out, atol=2e-6)
    # a whole fitted model applied with the torch filter instead of the kernel
    image = x[:, :24] + 0.1
    fitted = nt.denoise(image, "filter2noise", sigma=0.05, device="cpu", iterations=2, crop=32)
    monkeypatch.setattr(
        f2n_model,
        "bilateral_filter_varying",
        lambda *a, radius: f2n_model._filter_on(torch.device("cpu"), *a, radius),
    )
    via_torch = nt.denoise(image, "filter2noise", sigma=0.05, device="cpu", iterations=2, crop=32)
    np.testing.assert_allclose(via_torch, fitted, atol=1e-5)


def test_fitted_models_move_between_devices(tiny):
    from napari_tweedie.denoisers.filter2noise import fit_filter2noise
    from napari_tweedie.steps import run

    model = run(fit_filter2noise(tiny, iterations=2, crop=16, device="cpu"))
    assert model.device == torch.device("cpu") and model.net.backend == "numba"
    assert model.to("auto") is model
    with pytest.raises(ValueError, match="device must be"):
        model.to("gpu")


# -- recipes and CLI --------------------------------------------------------------------
def test_recipes_record_the_device_and_replay_it():
    from napari_tweedie.recipes import denoise_recipe, recipe_arguments, validate

    recipe = denoise_recipe("zs_n2n", device="cpu", iterations=5)
    assert recipe["device"] == "cpu"
    argv = recipe_arguments(recipe, "in.npy", "out.npy")
    assert argv[argv.index("--device") + 1] == "cpu"
    with pytest.raises(ValueError, match="device must be"):
        validate(dict(recipe, device="gpu"))


def test_cli_device_round_trip_through_a_recipe(tmp_path, tiny):
    from napari_tweedie.recipes import denoise_recipe, save_recipe

    source = tmp_path / "in.npy"
    np.save(source, tiny)
    direct, replayed = tmp_path / "direct.npy", tmp_path / "replayed.npy"
    args = ["--method", "zs_n2n", "--sigma", "0.05", "--set", "iterations=8", "--set", "crop=16"]
    assert main(["denoise", str(source), str(direct), *args, "--device", "cpu", "--quiet"]) == 0
    recipe = save_recipe(
        denoise_recipe("zs_n2n", sigma=0.05, device="cpu", iterations=8, crop=16),
        tmp_path / "recipe.json",
    )
    assert main(["run", str(recipe), str(source), str(replayed), "--device", "cpu", "--quiet"]) == 0
    np.testing.assert_array_equal(np.load(replayed), np.load(direct))
    expected = nt.denoise(tiny, "zs_n2n", sigma=0.05, device="cpu", iterations=8, crop=16)
    np.testing.assert_allclose(np.load(direct), expected, atol=1e-4)


@pytest.mark.parametrize("command", ["denoise", "restore", "run"])
def test_cli_nonsense_device_exits_2_with_a_one_line_reason(tmp_path, capsys, command):
    first = {"denoise": ["a.npy", "b.npy", "--method", "gaussian"],
             "restore": ["a.npy", "b.npy", "--operator", "inpaint"],
             "run": ["r.json", "a.npy", "b.npy"]}[command]  # fmt: skip
    code = main(
        [command, *[str(tmp_path / f) if "." in f else f for f in first], "--device", "gpu"]
    )
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("napari-tweedie: error: device must be")
    assert not (tmp_path / "b.npy").exists()


@cpu_only
def test_cli_absent_device_exits_nonzero_naming_what_is_available(tmp_path, tiny, capsys):
    source = tmp_path / "in.npy"
    np.save(source, tiny)
    argv = ["denoise", str(source), str(tmp_path / "out.npy"), "--method", "zs_n2n", "--quiet"]
    assert main([*argv, "--device", "cuda", "--set", "iterations=2"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "available: auto, cpu" in err
    assert not (tmp_path / "out.npy").exists()


# -- widgets ----------------------------------------------------------------------------
def _offered_methods(widget) -> list[str]:
    """The registry methods a widget runs: its method choices, its method or its model panel's."""
    method = getattr(widget, "method", None)
    names = list(getattr(method, "choices", ())) or ([method] if isinstance(method, str) else [])
    panel = getattr(widget, "panel", None)
    return names + ([panel.name] if panel is not None else [])


def test_every_widget_that_runs_torch_has_a_device_picker(make_napari_viewer):
    import importlib

    from napari_tweedie._widgets import tools

    viewer = make_napari_viewer()
    with_picker = set()
    for title, target in tools.TOOLS.items():
        module, name = target.split(":")
        widget = getattr(importlib.import_module(f"napari_tweedie._widgets.{module}"), name)(viewer)
        methods = [m for m in _offered_methods(widget) if m in nt.DENOISERS]
        torch_runner = hasattr(widget, "prior") or any(
            uses_device(nt.DENOISERS[m].func) for m in methods
        )
        picker = getattr(widget, "device", None)
        if torch_runner:
            assert picker is not None, f"{title} runs torch but has no device picker"
            assert list(picker.choices)[0] == "auto" and picker.value == "auto"
            assert set(available_devices()) <= set(picker.choices)
            with_picker.add(title)
    assert {"Denoise", "Restore", "Filter2Noise", "Noise2Score"} <= with_picker
    from napari_tweedie._widgets.zs_n2n import ZSN2NWidget

    assert ZSN2NWidget(viewer).device.value == "auto"


def test_denoise_widget_shows_the_picker_for_torch_methods_and_records_it(
    make_napari_viewer, tmp_path, tiny
):
    import json

    from napari_tweedie._widgets.denoise import DenoiseWidget

    viewer = make_napari_viewer()
    viewer.add_image(tiny, name="noisy")
    widget = DenoiseWidget(viewer)
    widget.method.value = "gaussian"
    assert "device" not in widget.settings()
    widget.method.value = "zs_n2n"
    widget.device.value = "cpu"
    assert widget.settings()["device"] == "cpu"
    assert "device" not in [w.name for w in widget.params]  # one picker, not a parameter too
    recipe = json.loads(widget.save_recipe(tmp_path / "r.json").read_text())
    assert recipe["device"] == "cpu" and "device" not in recipe["params"]


def test_the_prior_takes_the_api_device_keyword_only(tiny):
    assert "device" not in [p.name for p in nt.DENOISERS["prior"].params]
    # cuda:N passes the syntax check and reaches resolve_device (no choice list in the way)
    absent = f"cuda:{torch.cuda.device_count() + 1}"
    with pytest.raises(ValueError, match="not available on this machine"):
        nt.denoise(tiny, "prior", sigma=0.05, device=absent)
    with pytest.raises(ValueError, match="device must be"):
        nt.denoise(tiny, "prior", sigma=0.05, device="cuda:x")
    with pytest.raises(TypeError, match="unknown parameter"):
        nt.denoise(tiny, "prior", sigma=0.05, params={"device": "cpu"})


def test_old_recipes_with_the_prior_device_as_a_parameter_replay():
    from napari_tweedie.cli import build_parser
    from napari_tweedie.cli_args import attach_values
    from napari_tweedie.recipes import recipe_arguments

    old = {"napari_tweedie_recipe": 1, "command": "denoise", "method": "prior", "noise": "gaussian",
           "sigma": 0.05, "seed": 0, "params": {"tile": 256, "device": "cpu"}}  # fmt: skip
    argv = recipe_arguments(old, "in.npy", "out.npy")
    assert argv[argv.index("--device") + 1] == "cpu" and "device='cpu'" not in argv
    args = build_parser().parse_args(attach_values(argv))
    assert args.device == "cpu" and args.set == ["tile=256"]
    newer = dict(old, device="auto")  # the recorded keyword wins over a stray parameter
    assert recipe_arguments(newer, "in.npy", "out.npy").count("--device") == 1
