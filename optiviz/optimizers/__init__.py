"""The optimizers: one module each, and the registry that numbers them for the kernel.

To add an optimizer: write its module (see ``_base.py`` for what it declares, and ``adamax.py`` for a short
example), add it to ``_MODULES`` below, and add its rows to the reference tables of the tests
(``tests/test_reference_parity.py``). Its position in ``_MODULES`` is the id the kernel dispatches on.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from . import (
    adadelta,
    adagrad,
    adam,
    adamax,
    adamw,
    adamw_schedulefree,
    ademamix,
    lion,
    nadam,
    prodigy,
    radam,
    rmsprop,
    rprop,
    sgd,
    sgd_schedulefree,
)
from ._base import HP_SIZE, SCALAR, STATE_SIZE, VECTOR, Optimizer, Param

__all__ = ["HP_SIZE", "OPTIMIZERS", "SCALAR", "STATE_SIZE", "VECTOR", "Optimizer", "Param", "get", "oid"]

#: The registry: one line per optimizer, in the order the app lists them.
_MODULES = (
    adam,
    adamw,
    rmsprop,
    adagrad,
    sgd,
    adamax,
    nadam,
    radam,
    adadelta,
    rprop,
    adamw_schedulefree,
    sgd_schedulefree,
    lion,
    ademamix,
    prodigy,
)

OPTIMIZERS: Mapping[str, Optimizer] = MappingProxyType({m.SPEC.name: m.SPEC for m in _MODULES})
_IDS = {name: i for i, name in enumerate(OPTIMIZERS)}


def oid(name: str) -> int:
    """The id the kernel dispatches ``name`` on (its place in the registry)."""
    return _IDS[name]


def get(name: str) -> Optimizer:
    """The optimizer called ``name``; ``ValueError`` naming the valid ones otherwise."""
    spec = OPTIMIZERS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValueError(f"Unknown optimizer {name!r}; valid optimizers: {', '.join(OPTIMIZERS)}")
    return spec
