"""Value grids for the app's sliders (no Streamlit here, so they are testable on their own).

Learning rate and epsilon move on logarithmic grids; beta1/beta2 on a grid that gets finer
towards 1 (so 0.999 and 0.9999 can be set). A value from elsewhere that falls between grid values
(a link, a surface's recommended learning rate) is added to its slider's options, not rounded.
"""

from __future__ import annotations

import math
from decimal import Decimal

from surfaces import LR_MANTISSAS


def _log_grid(lo_exp: int, hi_exp: int, mantissas: tuple[float, ...]) -> tuple[float, ...]:
    values = {float(f"{m}e{e}") for e in range(lo_exp, hi_exp + 1) for m in mantissas}
    return tuple(sorted(v for v in values if 10.0**lo_exp <= v <= 10.0**hi_exp))


#: eta: 1e-5 .. 10, ten values per decade (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8: the surfaces' own grid for the
#: learning rates they recommend).
LR_GRID = _log_grid(-5, 1, LR_MANTISSAS)
#: epsilon: 1e-12 .. 1, three values per decade (1, 2, 5).
EPS_GRID = _log_grid(-12, 0, (1, 2, 5))
#: beta / alpha / momentum in [0, 1): coarse below 0.9, then 0.01, 0.001, 0.0001 steps towards 1.
BETA_GRID = tuple(sorted({
    *(round(0.1 * i, 10) for i in range(9)),
    *(round(0.9 + 0.01 * i, 10) for i in range(10)),
    *(round(0.99 + 0.001 * i, 10) for i in range(10)),
    *(round(0.999 + 0.0001 * i, 10) for i in range(10)),
    0.99999,
}))
#: kappa of the quadratic bowl: 1 .. 1000.
KAPPA_GRID = _log_grid(0, 3, (1, 1.5, 2, 3, 5, 7))


def fmt_number(value: float) -> str:
    """A slider value as short text that reads back as exactly the same float: 3e-4, 1e-12, 0.001, 0.05, 0.9999,
    10, 2e4. Plain decimals from 0.001 up to 10,000, a power of ten written ``e-4`` (never ``e0`` or ``e+4``)
    outside; as many digits as the value needs (Python's shortest round-trip repr), and no more."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else repr(value)
    text = repr(value)
    if 1e-3 <= abs(value) < 1e4:
        return text.removesuffix(".0")
    return f"{Decimal(text).normalize():e}".replace("e+", "e")
