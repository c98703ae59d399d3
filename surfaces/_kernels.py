"""Compiled values and analytic gradients of every surface, selected by integer id.

One ``value`` and one ``grad`` function serve all surfaces: the optimizer kernel
calls them with the surface's id and its parameter array, so a single compiled
signature covers every surface (passing jitted functions around would compile a
copy per surface and defeat the on-disk cache).

The formulas use only ``+ - * /`` and ``math`` functions (no ``**``, which Numba
and CPython evaluate differently), so that plain Python running this same source
gives the same bits: ``optiviz.export`` copies each surface's branch into the
PyTorch scripts it writes.
"""

from __future__ import annotations

import math

import numpy as np

from ._numba import jit

ROSENBROCK = 0
BEALE = 1
HIMMELBLAU = 2
RASTRIGIN = 3
ACKLEY = 4
BOOTH = 5
MATYAS = 6
GOLDSTEIN_PRICE = 7
THREE_HUMP_CAMEL = 8
SIX_HUMP_CAMEL = 9
STYBLINSKI_TANG = 10
LEVI = 11
QUADRATIC = 12  # params: h11, h12, h22 (the Hessian)
SADDLE = 13
MONKEY_SADDLE = 14
EXPRESSION = 15  # params: a typed function's program (surfaces._expr.compile_program)

_TWO_PI = 2.0 * math.pi


@jit
def value(sid, x, y, params):
    """f(x, y) of surface ``sid`` (``params`` holds the surface's parameters)."""
    if sid == ROSENBROCK:
        a = 1.0 - x
        b = y - x * x
        return a * a + 100.0 * (b * b)
    if sid == BEALE:
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y * y
        t3 = 2.625 - x + x * y * y * y
        return t1 * t1 + t2 * t2 + t3 * t3
    if sid == HIMMELBLAU:
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        return a * a + b * b
    if sid == RASTRIGIN:
        return 20.0 + x * x - 10.0 * math.cos(_TWO_PI * x) + y * y - 10.0 * math.cos(_TWO_PI * y)
    if sid == ACKLEY:
        r = math.sqrt(0.5 * (x * x + y * y))
        c = 0.5 * (math.cos(_TWO_PI * x) + math.cos(_TWO_PI * y))
        return -20.0 * math.exp(-0.2 * r) - math.exp(c) + math.e + 20.0
    if sid == BOOTH:
        a = x + 2.0 * y - 7.0
        b = 2.0 * x + y - 5.0
        return a * a + b * b
    if sid == MATYAS:
        return 0.26 * (x * x + y * y) - 0.48 * x * y
    if sid == GOLDSTEIN_PRICE:
        s = x + y + 1.0
        p = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
        d = 2.0 * x - 3.0 * y
        q = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
        return (1.0 + s * s * p) * (30.0 + d * d * q)
    if sid == THREE_HUMP_CAMEL:
        x2 = x * x
        return 2.0 * x2 - 1.05 * x2 * x2 + x2 * x2 * x2 / 6.0 + x * y + y * y
    if sid == SIX_HUMP_CAMEL:
        x2 = x * x
        y2 = y * y
        return (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (-4.0 + 4.0 * y2) * y2
    if sid == STYBLINSKI_TANG:
        x2 = x * x
        y2 = y * y
        return 0.5 * (x2 * x2 - 16.0 * x2 + 5.0 * x + y2 * y2 - 16.0 * y2 + 5.0 * y)
    if sid == LEVI:
        sx = math.sin(3.0 * math.pi * x)
        sy3 = math.sin(3.0 * math.pi * y)
        sy2 = math.sin(_TWO_PI * y)
        a = x - 1.0
        b = y - 1.0
        return sx * sx + a * a * (1.0 + sy3 * sy3) + b * b * (1.0 + sy2 * sy2)
    if sid == QUADRATIC:
        return 0.5 * (params[0] * x * x + 2.0 * params[1] * x * y + params[2] * y * y)
    if sid == SADDLE:
        return x * x - y * y
    if sid == MONKEY_SADDLE:
        return x * x * x - 3.0 * x * y * y
    if sid == EXPRESSION:
        return run_program(params, x, y)[0]
    return math.nan


@jit
def grad(sid, x, y, params):
    """The analytic gradient (df/dx, df/dy) of surface ``sid``."""
    if sid == ROSENBROCK:
        return -2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)
    if sid == BEALE:
        y2 = y * y
        y3 = y2 * y
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y2
        t3 = 2.625 - x + x * y3
        gx = 2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0))
        gy = 2.0 * x * (t1 + 2.0 * y * t2 + 3.0 * y2 * t3)
        return gx, gy
    if sid == HIMMELBLAU:
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        return 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b
    if sid == RASTRIGIN:
        return (
            2.0 * x + 10.0 * _TWO_PI * math.sin(_TWO_PI * x),
            2.0 * y + 10.0 * _TWO_PI * math.sin(_TWO_PI * y),
        )
    if sid == ACKLEY:
        r = math.sqrt(0.5 * (x * x + y * y))
        ec = math.exp(0.5 * (math.cos(_TWO_PI * x) + math.cos(_TWO_PI * y)))
        # d/dx of -20 exp(-0.2 r) is 2 x exp(-0.2 r) / r: 0/0 at the origin, where the
        # cone's subgradient 0 is used (it is the minimum).
        k = 0.0 if r == 0.0 else 2.0 * math.exp(-0.2 * r) / r
        return (
            k * x + math.pi * math.sin(_TWO_PI * x) * ec,
            k * y + math.pi * math.sin(_TWO_PI * y) * ec,
        )
    if sid == BOOTH:
        a = x + 2.0 * y - 7.0
        b = 2.0 * x + y - 5.0
        return 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b
    if sid == MATYAS:
        return 0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x
    if sid == GOLDSTEIN_PRICE:
        s = x + y + 1.0
        p = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
        dp = -14.0 + 6.0 * x + 6.0 * y  # dp/dx == dp/dy
        d = 2.0 * x - 3.0 * y
        q = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
        a = 1.0 + s * s * p
        b = 30.0 + d * d * q
        da = 2.0 * s * p + s * s * dp
        dbx = 4.0 * d * q + d * d * (-32.0 + 24.0 * x - 36.0 * y)
        dby = -6.0 * d * q + d * d * (48.0 - 36.0 * x + 54.0 * y)
        return da * b + a * dbx, da * b + a * dby
    if sid == THREE_HUMP_CAMEL:
        x2 = x * x
        return 4.0 * x - 4.2 * x2 * x + x2 * x2 * x + y, x + 2.0 * y
    if sid == SIX_HUMP_CAMEL:
        x2 = x * x
        return 8.0 * x - 8.4 * x2 * x + 2.0 * x2 * x2 * x + y, x - 8.0 * y + 16.0 * y * y * y
    if sid == STYBLINSKI_TANG:
        return 2.0 * (x * x * x) - 16.0 * x + 2.5, 2.0 * (y * y * y) - 16.0 * y + 2.5
    if sid == LEVI:
        sy3 = math.sin(3.0 * math.pi * y)
        sy2 = math.sin(_TWO_PI * y)
        gx = 3.0 * math.pi * math.sin(6.0 * math.pi * x) + 2.0 * (x - 1.0) * (1.0 + sy3 * sy3)
        gy = (
            3.0 * math.pi * ((x - 1.0) * (x - 1.0)) * math.sin(6.0 * math.pi * y)
            + 2.0 * (y - 1.0) * (1.0 + sy2 * sy2)
            + 2.0 * math.pi * ((y - 1.0) * (y - 1.0)) * math.sin(4.0 * math.pi * y)
        )
        return gx, gy
    if sid == QUADRATIC:
        return params[0] * x + params[1] * y, params[1] * x + params[2] * y
    if sid == SADDLE:
        return 2.0 * x, -2.0 * y
    if sid == MONKEY_SADDLE:
        return 3.0 * x * x - 3.0 * y * y, -6.0 * x * y
    if sid == EXPRESSION:
        _, gx, gy = run_program(params, x, y)
        return gx, gy
    return math.nan, math.nan


@jit
def run_program(params, x, y):
    """A typed function's (f, df/dx, df/dy) at (x, y): its program (``surfaces._expr.compile_program``: length,
    stack size, ops, then the scratch its stack lives in) run forward, each value with its two partial
    derivatives (forward-mode), in the operations and order ``surfaces._expr.evaluate`` uses."""
    n = int(params[0])
    size = int(params[1])
    base = 2 + n
    v = params[base: base + size]
    dx = params[base + size: base + 2 * size]
    dy = params[base + 2 * size: base + 3 * size]
    top = -1
    i = 2
    end = 2 + n
    while i < end:
        op = int(params[i])
        i += 1
        if op == 0:  # CONST
            top += 1
            v[top] = params[i]
            dx[top] = 0.0
            dy[top] = 0.0
            i += 1
        elif op == 1:  # X
            top += 1
            v[top] = x
            dx[top] = 1.0
            dy[top] = 0.0
        elif op == 2:  # Y
            top += 1
            v[top] = y
            dx[top] = 0.0
            dy[top] = 1.0
        elif op == 3:  # NEG
            v[top] = -v[top]
            dx[top] = -dx[top]
            dy[top] = -dy[top]
        elif op <= 8:  # binary: a (below), b (top)
            b, bx, by = v[top], dx[top], dy[top]
            top -= 1
            a, ax, ay = v[top], dx[top], dy[top]
            if op == 4:
                v[top], dx[top], dy[top] = a + b, ax + bx, ay + by
            elif op == 5:
                v[top], dx[top], dy[top] = a - b, ax - bx, ay - by
            elif op == 6:
                v[top], dx[top], dy[top] = a * b, ax * b + a * bx, ay * b + a * by
            elif op == 7:
                if b == 0.0:
                    v[top], dx[top], dy[top] = math.nan, math.nan, math.nan
                else:
                    q = a / b
                    v[top], dx[top], dy[top] = q, (ax - q * bx) / b, (ay - q * by) / b
            else:  # POW
                if (a < 0.0 and b != math.floor(b)) or (a == 0.0 and b < 0.0):
                    v[top], dx[top], dy[top] = math.nan, math.nan, math.nan
                else:
                    p = a ** b
                    if bx == 0.0 and by == 0.0:
                        k = b * a ** (b - 1.0)
                        v[top], dx[top], dy[top] = p, k * ax, k * ay
                    else:
                        la = math.log(a) if a > 0.0 else math.nan
                        v[top], dx[top], dy[top] = p, p * (bx * la + b * ax / a), p * (by * la + b * ay / a)
        elif op == 9:  # SQR
            a = v[top]
            v[top], dx[top], dy[top] = a * a, 2.0 * a * dx[top], 2.0 * a * dy[top]
        elif op >= 21:  # MIN, MAX
            b, bx, by = v[top], dx[top], dy[top]
            top -= 1
            if (op == 21 and b < v[top]) or (op == 22 and b > v[top]):
                v[top], dx[top], dy[top] = b, bx, by
        else:  # one argument
            a = v[top]
            if op == 10:
                k = math.cos(a)
                f = math.sin(a)
            elif op == 11:
                k = -math.sin(a)
                f = math.cos(a)
            elif op == 12:
                f = math.tan(a)
                k = 1.0 + f * f
            elif op == 13:
                f = math.exp(a)
                k = f
            elif op == 14:  # LOG
                if a < 0.0:
                    f, k = math.nan, math.nan
                elif a == 0.0:
                    f, k = -math.inf, math.nan
                else:
                    f = math.log(a)
                    k = 1.0 / a
            elif op == 15:  # SQRT
                if a < 0.0:
                    f, k = math.nan, math.nan
                else:
                    f = math.sqrt(a)
                    k = math.nan if f == 0.0 else 1.0 / (2.0 * f)
            elif op == 16:
                f = abs(a)
                k = 1.0 if a > 0.0 else -1.0 if a < 0.0 else 0.0
            elif op == 17:
                f = math.tanh(a)
                k = 1.0 - f * f
            elif op == 18:
                f = math.sinh(a)
                k = math.cosh(a)
            elif op == 19:
                f = math.cosh(a)
                k = math.sinh(a)
            else:  # ATAN
                f = math.atan(a)
                k = 1.0 / (1.0 + a * a)
            v[top], dx[top], dy[top] = f, k * dx[top], k * dy[top]
    return v[0], dx[0], dy[0]


@jit
def value_grid(sid, xs, ys, params, out):
    """Fill ``out[i, j] = f(xs[j], ys[i])`` (rows are y, as a contour plot wants them)."""
    for i in range(ys.shape[0]):
        for j in range(xs.shape[0]):
            out[i, j] = value(sid, xs[j], ys[i], params)


def empty_params() -> np.ndarray:
    return np.zeros(3, dtype=np.float64)
