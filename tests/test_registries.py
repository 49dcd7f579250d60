"""SAMPLERS and OPERATORS: every entry is a complete spec, every module's method is registered."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

from napari_tweedie import operators, samplers
from napari_tweedie.operators import OPERATORS, LinearOperator
from napari_tweedie.samplers import SAMPLERS
from napari_tweedie.specs import Param

KINDS = {"float", "int", "bool", "choice", "array"}


def keywords(func) -> set[str]:
    return {
        p.name
        for p in inspect.signature(func).parameters.values()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }


def check_params(params):
    assert isinstance(params, tuple) and all(isinstance(p, Param) for p in params)
    assert len({p.name for p in params}) == len(params)
    for param in params:
        assert param.tooltip and param.kind in KINDS, param
        if param.default is not None and param.kind in ("float", "int"):
            assert param.min is None or param.default >= param.min, param
            assert param.max is None or param.default <= param.max, param


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_every_sampler_spec_is_complete(name):
    spec = SAMPLERS[name]
    assert spec.name == name and spec.summary
    check_params(spec.params)
    assert inspect.isgeneratorfunction(spec.func)
    assert {p.name for p in spec.params} <= keywords(spec.func)
    if spec.needs_start_image:
        assert "init" in keywords(spec.func)
    assert ({"op", "y"} <= keywords(spec.func)) == spec.data_term


@pytest.mark.parametrize("name", list(OPERATORS))
def test_every_operator_spec_is_complete(name):
    spec = OPERATORS[name]
    assert spec.name == name and spec.summary
    check_params(spec.params)
    assert {p.name for p in spec.params} <= keywords(spec.factory)
    assert "sigma_y" in {p.name for p in spec.params}
    if spec.shape_param is not None:
        assert spec.shape_param in keywords(spec.factory)
    if spec.needs_mask:
        assert "mask" in {p.name for p in spec.params}


def modules(package):
    for info in pkgutil.iter_modules(package.__path__):
        yield importlib.import_module(f"{package.__name__}.{info.name}")


@pytest.mark.parametrize("module", list(modules(samplers)), ids=lambda m: m.__name__)
def test_every_sampler_a_module_defines_is_registered(module):
    """A sampler is a generator function ``f(denoiser, x, sigmas, ...)``."""
    registered = {spec.func for spec in SAMPLERS.values()}
    for name, value in vars(module).items():
        if (
            inspect.isgeneratorfunction(value)
            and value.__module__ == module.__name__
            and list(inspect.signature(value).parameters)[:3] == ["denoiser", "x", "sigmas"]
        ):
            assert value in registered, f"{module.__name__}.{name} is not in SAMPLERS"


@pytest.mark.parametrize("module", list(modules(operators)), ids=lambda m: m.__name__)
def test_every_operator_a_module_defines_is_registered(module):
    defined = [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, LinearOperator)
        and value is not LinearOperator
        and value.__module__ == module.__name__
    ]
    registered = {spec.factory.__module__ for spec in OPERATORS.values()}
    assert not defined or module.__name__ in registered, f"{module.__name__}: no OperatorSpec"


def test_the_registries_load_without_torch():
    """``--help`` and the widgets' dropdowns read them; torch loads when a method runs."""
    code = (
        "import sys, napari_tweedie as nt\n"
        "assert nt.OPERATORS and nt.SAMPLERS\n"
        "assert 'torch' not in sys.modules, 'the registries imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
