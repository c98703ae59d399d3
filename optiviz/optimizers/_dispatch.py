"""The kernel's dispatch: ``init`` and ``step`` of the optimizer with a given id, in one compiled signature.

Numba compiles a call to a global jitted function as a direct call, so the registry's functions are bound to
the fixed globals ``_I0``... and ``_S0``... at import, and ``init``/``step`` branch on the id over them. Slots
past the registry's end hold functions that do nothing (never called: ids come from the registry). Each
optimizer's ``step`` is compiled once, inside this one signature; adding an optimizer adds no signature.
"""

from __future__ import annotations

from surfaces._numba import _KERNEL_FILES, jit

from . import _MODULES

#: How many optimizers the dispatch has room for.
SLOTS = 24
if len(_MODULES) > SLOTS:
    raise RuntimeError(f"{len(_MODULES)} optimizers registered; the dispatch has {SLOTS} slots: raise SLOTS")

_KERNEL_FILES.add(__file__.replace("_dispatch.py", "__init__.py"))  # the registry's order is the ids' meaning


@jit
def _no_init(hp, p, st):
    pass


@jit
def _no_step(t, lr, hp, g, p, st):
    pass


_inits = [m.SPEC.init for m in _MODULES] + [_no_init] * (SLOTS - len(_MODULES))
_steps = [m.SPEC.step for m in _MODULES] + [_no_step] * (SLOTS - len(_MODULES))
(_I0, _I1, _I2, _I3, _I4, _I5, _I6, _I7, _I8, _I9, _I10, _I11, _I12, _I13, _I14, _I15, _I16, _I17, _I18, _I19, _I20,
 _I21, _I22, _I23) = _inits
(_S0, _S1, _S2, _S3, _S4, _S5, _S6, _S7, _S8, _S9, _S10, _S11, _S12, _S13, _S14, _S15, _S16, _S17, _S18, _S19, _S20,
 _S21, _S22, _S23) = _steps


@jit
def init(oid, hp, p, st):
    """Fill the state ``st`` (zeros on entry) of optimizer ``oid`` before its first step."""
    if oid == 0:
        _I0(hp, p, st)
    elif oid == 1:
        _I1(hp, p, st)
    elif oid == 2:
        _I2(hp, p, st)
    elif oid == 3:
        _I3(hp, p, st)
    elif oid == 4:
        _I4(hp, p, st)
    elif oid == 5:
        _I5(hp, p, st)
    elif oid == 6:
        _I6(hp, p, st)
    elif oid == 7:
        _I7(hp, p, st)
    elif oid == 8:
        _I8(hp, p, st)
    elif oid == 9:
        _I9(hp, p, st)
    elif oid == 10:
        _I10(hp, p, st)
    elif oid == 11:
        _I11(hp, p, st)
    elif oid == 12:
        _I12(hp, p, st)
    elif oid == 13:
        _I13(hp, p, st)
    elif oid == 14:
        _I14(hp, p, st)
    elif oid == 15:
        _I15(hp, p, st)
    elif oid == 16:
        _I16(hp, p, st)
    elif oid == 17:
        _I17(hp, p, st)
    elif oid == 18:
        _I18(hp, p, st)
    elif oid == 19:
        _I19(hp, p, st)
    elif oid == 20:
        _I20(hp, p, st)
    elif oid == 21:
        _I21(hp, p, st)
    elif oid == 22:
        _I22(hp, p, st)
    else:
        _I23(hp, p, st)


@jit
def step(oid, t, lr, hp, g, p, st):
    """Step ``t`` of optimizer ``oid`` with learning rate ``lr`` and gradient ``g``: updates ``p`` and ``st``."""
    if oid == 0:
        _S0(t, lr, hp, g, p, st)
    elif oid == 1:
        _S1(t, lr, hp, g, p, st)
    elif oid == 2:
        _S2(t, lr, hp, g, p, st)
    elif oid == 3:
        _S3(t, lr, hp, g, p, st)
    elif oid == 4:
        _S4(t, lr, hp, g, p, st)
    elif oid == 5:
        _S5(t, lr, hp, g, p, st)
    elif oid == 6:
        _S6(t, lr, hp, g, p, st)
    elif oid == 7:
        _S7(t, lr, hp, g, p, st)
    elif oid == 8:
        _S8(t, lr, hp, g, p, st)
    elif oid == 9:
        _S9(t, lr, hp, g, p, st)
    elif oid == 10:
        _S10(t, lr, hp, g, p, st)
    elif oid == 11:
        _S11(t, lr, hp, g, p, st)
    elif oid == 12:
        _S12(t, lr, hp, g, p, st)
    elif oid == 13:
        _S13(t, lr, hp, g, p, st)
    elif oid == 14:
        _S14(t, lr, hp, g, p, st)
    elif oid == 15:
        _S15(t, lr, hp, g, p, st)
    elif oid == 16:
        _S16(t, lr, hp, g, p, st)
    elif oid == 17:
        _S17(t, lr, hp, g, p, st)
    elif oid == 18:
        _S18(t, lr, hp, g, p, st)
    elif oid == 19:
        _S19(t, lr, hp, g, p, st)
    elif oid == 20:
        _S20(t, lr, hp, g, p, st)
    elif oid == 21:
        _S21(t, lr, hp, g, p, st)
    elif oid == 22:
        _S22(t, lr, hp, g, p, st)
    else:
        _S23(t, lr, hp, g, p, st)
