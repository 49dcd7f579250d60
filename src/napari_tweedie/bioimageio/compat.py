"""Compatibility of bioimageio.spec (<= 0.5.12) with pydantic >= 2.14: the wrap serializers.

bioimageio.spec's wrap serializers call pydantic's handler as
``handler(value, info)``, following an old pydantic docstring; the second
argument is really ``index_key``, which pydantic 2.14 checks (pydantic PR
#13506), so describing, loading or packaging any model fails with
``'index_key' is expected to be an integer or a string``.
:func:`fix_wrap_serializers` rewrites those few functions in place to call
``handler(value)``, which is what they meant; it does nothing with an older
pydantic or once applied.  It is called before every use of bioimageio here.
"""

from __future__ import annotations

import types

__all__ = ["fix_wrap_serializers"]

#: module -> names of the functions that pass ``info`` as ``index_key`` (bioimageio.spec 0.5.12)
AFFECTED = {
    "bioimageio.spec._internal.io_packaging": ("package_file_descr_serializer",),
    "bioimageio.spec.model.v0_4": ("package_weights",),
    "bioimageio.spec._internal.validated_string_with_inner_node": (
        "ValidatedStringWithInnerNode._serialize",
    ),
}
SHIM = (
    "def shim(value, handler, info):\n    return {alias}(value, lambda v, *_: handler(v), info)\n"
)
MARK = "_napari_tweedie_index_key_fix"


def _needed() -> bool:
    import pydantic

    major, minor = (int(part) for part in pydantic.VERSION.split(".")[:2])
    return (major, minor) >= (2, 14)


def _function(module, dotted: str):
    owner, _, name = dotted.rpartition(".")
    target = getattr(module, owner) if owner else module
    value = target.__dict__[name] if owner else getattr(module, name)
    return getattr(value, "wrapped", value)  # pydantic's decorator proxy


def fix_wrap_serializers() -> None:
    """Make bioimageio.spec's wrap serializers work with pydantic >= 2.14 (see the module)."""
    if not _needed():
        return
    import importlib

    for module_name, names in AFFECTED.items():
        module = importlib.import_module(module_name)
        for dotted in names:
            function = _function(module, dotted)
            if getattr(function, MARK, False) or "handler" not in function.__code__.co_varnames:
                continue
            alias = f"_nt_original_{dotted.replace('.', '_')}"
            function.__globals__[alias] = types.FunctionType(
                function.__code__, function.__globals__, function.__name__,
                function.__defaults__, function.__closure__,
            )  # fmt: skip
            namespace: dict = {}
            exec(SHIM.format(alias=alias), namespace)  # a fixed two-line shim, no user input
            function.__code__ = namespace["shim"].__code__
            setattr(function, MARK, True)
