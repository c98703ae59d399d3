"""The compiled simulation loop: one kernel for every surface and optimizer.

The surface and the optimizer are selected by integer id, and all arguments have
fixed types (int64 ids, float64 scalars and arrays), so a single compiled
signature serves every mix and the on-disk cache (``cache=True``) stays valid.
"""

from __future__ import annotations

import math

import numpy as np

from surfaces import _kernels as surface_kernels
from surfaces._numba import jit

from . import _optimizers as O

#: How a run ended: every step done; a step made the position or the state non-finite; a step left the escape
#: box; the gradient at the position was not finite; f at the new position was not finite.
OK, NON_FINITE, ESCAPED, NON_FINITE_GRAD, NON_FINITE_LOSS = 0, 1, 2, 3, 4


@jit
def _lerp(a, b, w):
    # ATen's scalar lerp: the formula changes at |w| = 0.5 (torch's exp_avg.lerp_).
    if abs(w) < 0.5:
        return a + w * (b - a)
    return b - (b - a) * (1.0 - w)


@jit
def simulate_kernel(sid, sparams, oid, hp, x0, y0, noise, steps, box, path, loss, grads, state):
    """Run ``steps`` optimizer steps from (x0, y0), filling the output arrays in place.

    ``noise`` is ``(steps, 2)`` (already scaled by sigma) or ``(0, 2)`` for none;
    ``box`` is the escape box (x_min, x_max, y_min, y_max). Outputs: ``path`` and
    ``state`` rows 0..n, ``loss`` 0..n, ``grads`` 0..n-1. Returns ``(n, status)``
    where n is the number of completed steps and status is OK, or why step n + 1 failed:
    NON_FINITE_GRAD (the gradient it received), NON_FINITE (the position or state it made),
    ESCAPED (it left the box) or NON_FINITE_LOSS (f at its new position). Row n of ``grads``
    holds the failed step's gradient, except after NON_FINITE_GRAD; other rows past n are left
    unspecified.
    """
    p = np.empty(2)
    g = np.empty(2)
    st = np.zeros((3, 2))
    p[0] = x0
    p[1] = y0
    lr = hp[0]
    eps_inside = hp[O.EPS_INSIDE] != 0.0
    if oid == O.ADAGRAD:
        st[0, 0] = hp[3]
        st[0, 1] = hp[3]
    path[0, 0] = x0
    path[0, 1] = y0
    loss[0] = surface_kernels.value(sid, x0, y0, sparams)
    for k in range(3):
        state[k, 0, 0] = st[k, 0]
        state[k, 0, 1] = st[k, 1]
    has_noise = noise.shape[0] > 0

    for t in range(1, steps + 1):
        gx, gy = surface_kernels.grad(sid, p[0], p[1], sparams)
        if has_noise:
            gx += noise[t - 1, 0]
            gy += noise[t - 1, 1]
        if not (math.isfinite(gx) and math.isfinite(gy)):
            return t - 1, NON_FINITE_GRAD
        grads[t - 1, 0] = gx
        grads[t - 1, 1] = gy
        g[0] = gx
        g[1] = gy
        tf = float(t)

        if oid == O.SGD:
            momentum, dampening, wd, nesterov = hp[1], hp[2], hp[3], hp[4] != 0.0
            for k in range(2):
                d = g[k]
                if wd != 0.0:
                    d = d + wd * p[k]
                if momentum != 0.0:
                    if t == 1:
                        st[0, k] = d
                    else:
                        st[0, k] = st[0, k] * momentum + (1.0 - dampening) * d
                    d = d + momentum * st[0, k] if nesterov else st[0, k]
                p[k] = p[k] + (-lr) * d
        elif oid == O.ADAGRAD:
            lr_decay, wd, eps = hp[1], hp[2], hp[4]
            clr = lr / (1.0 + (tf - 1.0) * lr_decay)
            for k in range(2):
                d = g[k]
                if wd != 0.0:
                    d = d + wd * p[k]
                st[0, k] = st[0, k] + d * d
                std = math.sqrt(st[0, k] + eps) if eps_inside else math.sqrt(st[0, k]) + eps
                p[k] = p[k] + ((-clr) * d) / std
        elif oid == O.RMSPROP:
            alpha, eps, wd, momentum, centered = hp[1], hp[2], hp[3], hp[4], hp[5] != 0.0
            for k in range(2):
                d = g[k]
                if wd != 0.0:
                    d = d + wd * p[k]
                st[0, k] = st[0, k] * alpha + ((1.0 - alpha) * d) * d
                var = st[0, k]
                if centered:
                    st[1, k] = _lerp(st[1, k], d, 1.0 - alpha)
                    var = st[0, k] + (-st[1, k]) * st[1, k]
                avg = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
                if momentum > 0.0:
                    st[2, k] = st[2, k] * momentum + d / avg
                    p[k] = p[k] + (-lr) * st[2, k]
                else:
                    p[k] = p[k] + ((-lr) * d) / avg
        else:  # ADAM / ADAMW
            beta1, beta2, eps, wd = hp[1], hp[2], hp[3], hp[4]
            amsgrad, decoupled = hp[5] != 0.0, hp[6] != 0.0
            if hp[O.BIAS_CORRECTION] != 0.0:
                bc1 = 1.0 - beta1**tf
                bc2 = 1.0 - beta2**tf
            else:  # bias_correction=False: m_hat = m, v_hat = v (1.0 ** 0.5 and x / 1.0 are exact)
                bc1 = 1.0
                bc2 = 1.0
            step_size = lr / bc1
            bc2_sqrt = bc2 ** hp[7]  # hp[7] == 0.5, see _optimizers._adam_pack
            for k in range(2):
                d = g[k]
                if wd != 0.0:
                    if decoupled:
                        p[k] = p[k] * (1.0 - lr * wd)
                    else:
                        d = d + wd * p[k]
                st[0, k] = _lerp(st[0, k], d, 1.0 - beta1)
                st[1, k] = st[1, k] * beta2 + ((1.0 - beta2) * d) * d
                if amsgrad:
                    if not st[2, k] >= st[1, k]:  # torch.maximum, NaN-propagating
                        st[2, k] = st[1, k]
                    v = st[2, k]
                else:
                    v = st[1, k]
                denom = math.sqrt(v / bc2 + eps) if eps_inside else math.sqrt(v) / bc2_sqrt + eps
                p[k] = p[k] + ((-step_size) * st[0, k]) / denom

        finite = math.isfinite(p[0]) and math.isfinite(p[1])
        for k in range(3):
            finite = finite and math.isfinite(st[k, 0]) and math.isfinite(st[k, 1])
        if not finite:
            return t - 1, NON_FINITE
        if not (box[0] <= p[0] <= box[1] and box[2] <= p[1] <= box[3]):
            return t - 1, ESCAPED
        f = surface_kernels.value(sid, p[0], p[1], sparams)
        if not math.isfinite(f):
            return t - 1, NON_FINITE_LOSS
        loss[t] = f
        path[t, 0] = p[0]
        path[t, 1] = p[1]
        for k in range(3):
            state[k, t, 0] = st[k, 0]
            state[k, t, 1] = st[k, 1]
    return steps, OK
