"""A surface sampled for drawing: values on a grid, rendered as a PNG with contour lines.

The surface is drawn as an image, not a contour trace: plotly.js hides contour and heatmap
traces during ``redraw: false`` animations (plotly.js#4491), which the paths need to play
smoothly. The PNG is encoded here with ``zlib`` (no imaging library needed).
"""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass

import numpy as np

#: Light, so that the runs' colours stand out on it.
CONTOUR_SCALE = [[0.0, "#fffdf5"], [0.25, "#f4f7fa"], [0.6, "#e6ebf1"], [1.0, "#d3dbe5"]]


@dataclass(frozen=True, eq=False)
class SurfaceGrid:
    """A surface sampled for drawing: the values on a fine grid (``z``, log10(f − f_min + d) when
    ``log_scaled``), that grid rendered as a PNG with contour lines (``png``, a data URI), and a
    coarser grid for hover values and clicks (axes ``hx``, ``hy``, raw values ``hf[j, i]`` at
    ``(hx[i], hy[j])``; 41 x 41 by default). ``lo`` and ``delta``: the log scale's f_min and offset."""

    xs: np.ndarray
    ys: np.ndarray
    z: np.ndarray
    log_scaled: bool
    png: str
    hx: np.ndarray
    hy: np.ndarray
    hf: np.ndarray
    lo: float = 0.0
    delta: float = 0.0

    def height(self, values) -> np.ndarray:
        """Raw values on ``z``'s scale: log10(f − lo + delta) where ``log_scaled`` (values below lo as lo), else
        the values themselves (the 3D view draws its paths at these heights)."""
        values = np.asarray(values, dtype=np.float64)
        if not self.log_scaled:
            return values
        with np.errstate(all="ignore"):
            return np.log10(np.maximum(values - self.lo, 0.0) + self.delta)


def surface_grid(surface, resolution: int = 361, levels: int = 24, hover_step: int = 9,
                 supersample: int = 2) -> SurfaceGrid:
    """Sample ``surface`` over its domain. Values are drawn on log levels when they span several
    decades (Rosenbrock, Beale, Goldstein-Price, three-hump camel), linearly otherwise.

    The surface is an image, not a contour trace: plotly.js hides contour and heatmap traces
    during ``redraw: false`` animations (plotly.js#4491), which the paths need to play smoothly.
    Each pixel is the mean of ``supersample`` x ``supersample`` samples spread over it: ripples finer
    than a pixel (Lévi's, 60 across its domain) come out as their average shade, not as moiré, and
    contour lines are antialiased.
    """
    (x0, x1), (y0, y1) = surface.domain
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    raw = surface.values(xs, ys)
    offsets = (np.arange(supersample) - (supersample - 1) / 2) / supersample  # in pixels, around each centre
    fine_raw = surface.values(_spread(xs, offsets), _spread(ys, offsets))
    # Only where f is defined and finite (a typed function may be undefined somewhere: drawn blank there).
    defined = raw[np.isfinite(raw)]
    both = np.concatenate([defined, fine_raw[np.isfinite(fine_raw)]])
    lo = float(both.min()) if both.size else 0.0
    p10, p99 = np.percentile(defined - lo, [10, 99]) if defined.size else (0.0, 0.0)
    log_scaled = bool(surface.min_value is not None and p10 > 0 and p99 / p10 > 100)
    delta = max(p99 * 1e-6, 1e-12)
    with np.errstate(all="ignore"):
        z, fine_z = ((np.log10(r - lo + delta) for r in (raw, fine_raw)) if log_scaled else (raw, fine_raw))
    hs = slice(None, None, hover_step)
    finite_z = z[np.isfinite(z)]
    z_range = (float(finite_z.min()), float(finite_z.max())) if finite_z.size else (0.0, 1.0)
    png = _contour_png(fine_z, levels, z_range, supersample)
    # z is only drawn (the 3D view): float32, half the memory in the app's cache of grids.
    return SurfaceGrid(xs, ys, z.astype(np.float32), log_scaled, png, xs[hs], ys[hs], raw[hs, hs], lo, float(delta))


def _spread(centres: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each of the evenly spaced ``centres`` replaced by points at ``offsets`` (in spacings) around it."""
    step = centres[1] - centres[0] if len(centres) > 1 else 0.0
    return (centres[:, None] + offsets[None, :] * step).ravel()


def _contour_png(fine_z: np.ndarray, levels: int, z_range: tuple[float, float], supersample: int) -> str:
    """``fine_z`` (rows = y ascending, ``supersample`` samples per pixel each way) coloured with
    CONTOUR_SCALE over ``z_range``, darker where it crosses one of ``levels`` evenly spaced levels (a line
    a pixel wide), each pixel the mean of its samples, as a PNG data URI (top row = largest y)."""
    zmin, zmax = z_range
    undefined = ~np.isfinite(fine_z)  # a typed function's undefined points (log of a negative...): blank
    with np.errstate(all="ignore"):
        t = np.clip((fine_z - zmin) / ((zmax - zmin) or 1.0), 0.0, 1.0)
    t = np.where(undefined, 0.0, t)
    stops = np.array([s for s, _ in CONTOUR_SCALE])
    rgb_stops = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for _, c in CONTOUR_SCALE], dtype=float)
    rgb = np.stack([np.interp(t, stops, rgb_stops[:, k]) for k in range(3)], axis=-1)
    band = np.minimum((t * levels).astype(int), levels - 1)
    edge = np.zeros(band.shape, dtype=bool)
    edge[:, 1:] |= band[:, 1:] != band[:, :-1]
    edge[1:, :] |= band[1:, :] != band[:-1, :]
    for _ in range(supersample - 1):  # as wide as a pixel
        edge[:, :-1] |= edge[:, 1:].copy()
        edge[:-1, :] |= edge[1:, :].copy()
    rgb[edge] *= 0.86
    rgb[undefined] = 255.0
    ny, nx = band.shape[0] // supersample, band.shape[1] // supersample
    rgb = rgb.reshape(ny, supersample, nx, supersample, 3).mean(axis=(1, 3))
    img = np.ascontiguousarray(rgb[::-1].round().astype(np.uint8))
    h, w, _ = img.shape

    def chunk(tag: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))

    raw = b"".join(b"\x00" + img[row].tobytes() for row in range(h))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
