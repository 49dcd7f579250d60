"""The denoiser registry: every method family registers itself, every entry is complete."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import napari_tweedie.denoisers as denoisers
from napari_tweedie.denoisers import DENOISERS

FAMILIES = denoisers.method_modules()
PREFIX = "napari_tweedie.denoisers."


def test_the_method_families_are_found():
    assert {"classical", "filter2noise", "zs_n2n", "noise2score", "prior"} <= set(FAMILIES)
    packages = {info.name for info in pkgutil.iter_modules(denoisers.__path__) if info.ispkg}
    assert packages <= set(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_method_family_contributes_registered_specs(family):
    specs = importlib.import_module(PREFIX + family).SPECS
    assert specs, f"{family} registers no denoiser"
    for spec in specs:
        assert DENOISERS[spec.name] is spec


@pytest.mark.parametrize("name", list(DENOISERS))
def test_every_entry_comes_from_a_method_family_or_the_prior(name):
    module = DENOISERS[name].func.__module__
    family = module.removeprefix(PREFIX).split(".")[0]
    assert module.startswith("napari_tweedie.prior.") or (
        module.startswith(PREFIX) and family in FAMILIES
    ), f"{name}: {module} is not in a method family"


def test_a_new_method_module_is_registered_without_an_import_line(tmp_path, monkeypatch):
    saved = dict(DENOISERS)
    monkeypatch.setattr(denoisers, "__path__", [*denoisers.__path__, str(tmp_path)])
    module = tmp_path / "forgotten.py"
    module.write_text("def denoise(image, *, sigma, seed=0):\n    return image\n")
    try:
        with pytest.raises(AttributeError, match="SPECS"):  # a family without SPECS fails loudly
            denoisers.register_families()
        sys.modules.pop(PREFIX + "forgotten")
        module.write_text(
            "from napari_tweedie.denoisers.registry import DenoiserSpec\n"
            "def denoise(image, *, sigma, seed=0):\n    return image\n"
            "SPECS = (DenoiserSpec(name='forgotten', summary='test', params=(), func=denoise),)\n"
        )
        importlib.invalidate_caches()
        denoisers.register_families()
        assert DENOISERS["forgotten"].func.__module__ == PREFIX + "forgotten"
    finally:
        sys.modules.pop(PREFIX + "forgotten", None)
        DENOISERS.clear()
        DENOISERS.update(saved)


def test_registering_loads_neither_torch_nor_numba():
    code = (
        "import sys, napari_tweedie.denoisers as d; assert d.DENOISERS;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'numba'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", list(DENOISERS))
def test_spec_is_complete(name):
    spec = DENOISERS[name]
    assert spec.summary
    assert inspect.isgeneratorfunction(spec.func) == spec.iterative
    signature = inspect.signature(spec.func).parameters
    assert {"sigma", "seed"} <= set(signature)
    takes_any = any(p.kind == p.VAR_KEYWORD for p in signature.values())
    for param in spec.params:
        assert param.tooltip, f"{name}.{param.name} has no tooltip"
        assert takes_any or param.name in signature, f"{name} does not take {param.name}"
        if param.kind == "choice":
            assert param.default in param.choices
    if spec.radius is not None:
        radius = spec.radius(0.1, **spec.defaults())
        assert isinstance(radius, int) and radius >= 1
