"""The public surface of `cloudrec_protocol` (and the operator's protocol client): every module's
`__all__` is complete."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import cloudrec_protocol

MODULES = [
    *(f"cloudrec_protocol.{m.name}" for m in pkgutil.iter_modules(cloudrec_protocol.__path__)),
    "cloudrec_operator.client.recording",
]


@pytest.mark.parametrize("name", MODULES)
def test_each_module_exports_exactly_its_public_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = set(module.__all__)
    defined = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", None) == module.__name__
    }
    assert defined <= exported, f"not in __all__: {sorted(defined - exported)}"
    assert all(hasattr(module, attr) for attr in exported)
    assert len(module.__all__) == len(exported)
