"""Compact arrays for the chart component: quantised, delta-coded, byte-shuffled, deflated, base64.

The browser plays the runs back from every step's position and draws previews of whole families of runs,
far more numbers than a figure's JSON can carry as floats. Each column (one coordinate of one run's path,
say) is quantised to ``bits`` bits over its own [lo, hi] (``2**bits - 1`` marks a missing value: NaN,
or outside [lo, hi] where ``clip`` is off), each value stored as the difference from the one before (zigzag
coded: 0, -1, 1, -2 as 0, 1, 2, 3, so a small step back is as small as a step forward), the four bytes of
those differences grouped by significance (paths move by small steps, so the high bytes are mostly zero), and
the whole deflated. 24 bits give float32's resolution over a run's own range; 16 bits are plenty for a
drawing. The page decodes it (``_codec.js``, ``decodeColumns``); :func:`decode` is the same in Python, for
the tests.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Column:
    """One array to encode: ``values`` (float64, NaN for missing) quantised to ``bits`` bits over [lo, hi]."""

    values: np.ndarray
    lo: float
    hi: float
    bits: int = 24


def column(values, bits: int = 24, lo: float | None = None, hi: float | None = None) -> Column:
    """A column over ``values``' own finite range (or the given one); a constant column gets a range of 1."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    lo = float(finite.min()) if lo is None and finite.size else 0.0 if lo is None else float(lo)
    hi = float(finite.max()) if hi is None and finite.size else lo + 1.0 if hi is None else float(hi)
    if not hi > lo:
        hi = lo + 1.0
    return Column(values, lo, hi, bits)


def encode(columns: Sequence[Column]) -> dict:
    """The columns as one JSON-ready dict: ``{"b64": ..., "columns": [[n, lo, hi, bits], ...]}``.
    (All columns at once: previews are hundreds of short columns.)"""
    sizes = np.array([c.values.size for c in columns], dtype=np.int64)
    if sizes.sum():
        values = np.concatenate([c.values for c in columns])
        lo = np.repeat([c.lo for c in columns], sizes)
        span = np.repeat([c.hi - c.lo for c in columns], sizes)
        top = np.repeat([float((1 << c.bits) - 2) for c in columns], sizes)  # top + 1 marks a missing value
        with np.errstate(invalid="ignore", over="ignore"):
            scaled = np.rint((values - lo) / span * top)
        ok = np.isfinite(scaled) & (scaled >= 0) & (scaled <= top)
        q = np.where(ok, scaled, top + 1).astype(np.int64)
        deltas = np.diff(q, prepend=0)
        starts = np.cumsum(sizes)[:-1][sizes[1:] > 0]  # each column's first value is stored as it is
        deltas[starts] = q[starts]
        deltas = ((deltas << 1) ^ (deltas >> 63)).astype("<u4")  # zigzag: small either way, high bytes 0
    else:
        deltas = np.zeros(0, dtype="<u4")
    shuffled = deltas.view(np.uint8).reshape(-1, 4).T.tobytes()
    return {
        "b64": base64.b64encode(zlib.compress(shuffled, 6)).decode("ascii"),
        "columns": [[int(c.values.size), c.lo, c.hi, c.bits] for c in columns],
    }


def decode(packed: dict) -> list[np.ndarray]:
    """The columns back, as float64 (NaN where a value was missing): what the browser reconstructs."""
    raw = np.frombuffer(zlib.decompress(base64.b64decode(packed["b64"])), dtype=np.uint8)
    zigzag = raw.reshape(4, -1).T.copy().view("<u4").ravel().astype(np.int64)
    deltas = (zigzag >> 1) ^ -(zigzag & 1)
    out, at = [], 0
    for n, lo, hi, bits in packed["columns"]:
        q = np.cumsum(deltas[at : at + n].astype(np.int64))
        at += n
        top = (1 << bits) - 2
        values = lo + q / top * (hi - lo)
        out.append(np.where(q == top + 1, np.nan, values))
    return out


#: How a packed array maps to the values it carries: "linear"; "log" (log10 of positive values; others are
#: missing); "asinh" (asinh(v / tau): logarithmic for large |v|, linear near 0, either sign).
SCALES = ("linear", "log", "asinh")
#: An integer array with values in [0, 2**24 - 2] packs exactly: each value is its own level.
INTEGER_TOP = (1 << 24) - 2


def pack(values, *, scale: str = "linear", bits: int = 28) -> dict:
    """One array as ``{"optivizArray": {...}}``, which the chart component unpacks into a Float64Array (in
    place of a trace's ``x`` or ``y``). Integers (steps) pack exactly; other values to 2^-bits of their
    scale's range: at 28 bits, a series spanning 30 decades keeps about seven significant digits, as
    float32 does."""
    values = np.asarray(values, dtype=np.float64)
    tau = 1.0
    with np.errstate(all="ignore"):
        if scale == "log":
            mapped = np.where(values > 0, np.log10(values), np.nan)
        elif scale == "asinh":
            nonzero = np.abs(values[np.isfinite(values) & (values != 0)])
            tau = float(nonzero.min()) if nonzero.size else 1.0
            mapped = np.arcsinh(values / tau)
        elif scale == "linear":
            mapped = values
        else:
            raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    integral = scale == "linear" and bool(np.all(np.isfinite(values)) and np.all(values == np.rint(values))
                                          and (values.size == 0 or (values.min() >= 0 and values.max() <= INTEGER_TOP)))
    if integral:
        col = Column(mapped, 0.0, float(INTEGER_TOP), 24)
    elif scale == "asinh":  # a range symmetric about 0, so that 0 decodes to exactly 0
        col = column(mapped, bits)
        reach = max(abs(col.lo), abs(col.hi))
        col = Column(mapped, -reach, reach, bits)
    else:
        col = column(mapped, bits)
    packed = encode([col])
    return {"optivizArray": {"b64": packed["b64"], "n": int(values.size), "lo": col.lo, "hi": col.hi,
                             "bits": col.bits, "scale": scale, "tau": tau}}


def unpack(obj: dict) -> np.ndarray:
    """:func:`pack`'s array back, as the chart component reconstructs it."""
    a = obj["optivizArray"]
    (values,) = decode({"b64": a["b64"], "columns": [[a["n"], a["lo"], a["hi"], a["bits"]]]})
    if a["scale"] == "log":
        return 10.0**values
    if a["scale"] == "asinh":
        return a["tau"] * np.sinh(values)
    return values


def is_packed(value) -> bool:
    return isinstance(value, dict) and "optivizArray" in value


def quantum(col: Column) -> float:
    """The largest difference between a value in [lo, hi] and what decodes from it."""
    return (col.hi - col.lo) / ((1 << col.bits) - 2) / 2
