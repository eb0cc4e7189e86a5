"""One name per concept across the public API, read off the signatures of every public callable.

The rules of ARCHITECTURE.md (rule 7): the tonic bank is ``tonic``; several context names are ``contexts``
and one is ``context``; ``device=``, ``progress=``, ``dtype=`` and ``seed=`` are keyword-only options spelled the
same everywhere, ``dtype`` is the name of a float type (``"float32"``/``"float64"``), ``progress`` a bool.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import typing

import pytest
import torch

import neurobias

#: other spellings of a concept that has one name in the API
FORBIDDEN = {
    "bias": "tonic", "biases": "tonic", "tonic_bank": "tonic", "tonics": "tonic", "ctx": "context",
    "verbose": "progress", "show_progress": "progress", "cuda": "device", "gpu": "device", "precision": "dtype",
    "random_state": "seed", "rng_seed": "seed",
}
#: where ``context`` is the variable ``context (condition,)`` of a design (one context label per condition),
#: not a choice of several contexts
CONTEXT_PER_CONDITION = {"neurobias.recordings.design.make_design", "neurobias.recordings.design.set_design"}
#: options that are always keyword-only
OPTIONS = ("device", "progress", "dtype", "seed")


def _public_modules() -> list[str]:
    names = ["neurobias"]
    for info in pkgutil.walk_packages(neurobias.__path__, "neurobias."):
        if any(part.startswith("_") for part in info.name.split(".")) or info.name.startswith("neurobias.backends"):
            continue  # private modules; the optional BrainPy bridge (its own tests skip without BrainPy)
        names.append(info.name)
    return names


def _callables() -> list[tuple[str, typing.Callable]]:
    """(qualified name, callable) for every function, class constructor and public method in an ``__all__``."""
    out, seen = [], set()
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if id(obj) in seen or not callable(obj):
                continue
            seen.add(id(obj))
            if inspect.isclass(obj):
                if issubclass(obj, torch.nn.Module) or dataclasses.is_dataclass(obj):
                    continue  # torch building blocks follow torch (torch dtypes); dataclass fields are records
                out += [(f"{obj.__module__}.{name}.{m}", f) for m, f in vars(obj).items()
                        if (m == "__init__" or not m.startswith("_")) and inspect.isfunction(f)]
            elif inspect.isfunction(obj):
                out.append((f"{obj.__module__}.{name}", obj))
    return out


CALLABLES = _callables()


def test_the_public_api_is_inspected():
    names = {n.rsplit(".", 1)[-1] for n, _ in CALLABLES}
    assert {"simulate", "train", "find_fixed_points", "continue_fixed_points", "compare_contexts"} <= names
    assert len(CALLABLES) > 100


@pytest.mark.parametrize(("name", "func"), CALLABLES, ids=[n for n, _ in CALLABLES])
def test_one_name_per_concept(name, func):
    params = inspect.signature(func).parameters
    first = next(iter(params), None)
    for p in params.values():
        assert p.name not in FORBIDDEN, f"{name}: `{p.name}=` is spelled `{FORBIDDEN[p.name]}=` in the API"
        hint = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", str(p.annotation))
        if p.name in OPTIONS and not (p.name == first and p.default is inspect.Parameter.empty):
            # the subject of a function (resolve_device(device), torch_dtype(dtype)) may come first
            assert p.kind is inspect.Parameter.KEYWORD_ONLY, f"{name}: `{p.name}` must be keyword-only"
        if p.name == "dtype":
            assert hint == "str", f"{name}: `dtype` must be a str ('float32' or 'float64'); annotated {hint}"
        if p.name == "progress":
            assert hint == "bool" and isinstance(p.default, bool), f"{name}: `progress` must be a bool option"
        if p.name == "context" and name not in CONTEXT_PER_CONDITION:
            assert not any(seq in hint for seq in ("list", "tuple", "Sequence")), \
                f"{name}: several contexts are `contexts=`, one is `context=`"
