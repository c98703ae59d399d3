"""The compiled simulation loop: one kernel for every surface and optimizer.

The surface and the optimizer are selected by integer id (the optimizer's step through
``optimizers._dispatch``), and all arguments have fixed types (int64 ids, float64 scalars
and arrays), so a single compiled signature serves every mix and the on-disk cache
(``cache=True``) stays valid.
"""

from __future__ import annotations

import math

import numpy as np

from surfaces import _kernels as surface_kernels
from surfaces._numba import jit

from .optimizers import _dispatch as dispatch

#: How a run ended: every step done; a step made the position or the state non-finite; a step left the escape
#: box; the gradient at the position was not finite; f at the new position was not finite.
OK, NON_FINITE, ESCAPED, NON_FINITE_GRAD, NON_FINITE_LOSS = 0, 1, 2, 3, 4


@jit
def simulate_kernel(sid, sparams, oid, hp, x0, y0, noise, lrs, moms, mslot, plateau, steps, box, path, loss, grads,
                    state):
    """Run ``steps`` optimizer steps from (x0, y0), filling the output arrays in place.

    ``oid`` and ``hp``: the optimizer's id and hyperparameter vector (``optiviz.optimizers``); ``lrs``
    ``(steps,)``: the learning rate of each step (a schedule's; with ReduceLROnPlateau, ``plateau`` its settings
    (``optiviz.schedules.plateau_array``), the kernel lowers the rates after ``lrs[0]`` by torch's rule from the
    loss after each step and writes each step's rate into ``lrs``; ``(0,)`` for none). ``moms`` ``(steps,)``:
    the momentum or β₁ of each step, written into ``hp[mslot]`` before it (OneCycleLR, CyclicLR), or ``(0,)``.
    ``hp`` is changed in place then. ``noise`` is ``(steps, 2)`` (already scaled by sigma) or
    ``(0, 2)`` for none; ``box`` is the escape box (x_min, x_max, y_min, y_max). Outputs: ``path`` and
    ``state`` rows 0..n (``state`` row t is the flat state vector after step t), ``loss`` 0..n, ``grads``
    0..n-1. Returns ``(n, status)`` where n is the number of completed steps and status is OK, or why step
    n + 1 failed: NON_FINITE_GRAD (the gradient it received), NON_FINITE (the position or state it made),
    ESCAPED (it left the box) or NON_FINITE_LOSS (f at its new position). Row n of ``grads`` holds the failed
    step's gradient, except after NON_FINITE_GRAD; other rows past n are left unspecified.
    """
    p = np.empty(2)
    g = np.empty(2)
    size = state.shape[1]
    st = np.zeros(size)
    p[0] = x0
    p[1] = y0
    dispatch.init(oid, hp, p, st)
    path[0, 0] = x0
    path[0, 1] = y0
    loss[0] = surface_kernels.value(sid, x0, y0, sparams)
    for k in range(size):
        state[0, k] = st[k]
    has_noise = noise.shape[0] > 0
    has_moms = moms.shape[0] > 0
    has_plateau = plateau.shape[0] > 0
    lr = lrs[0]
    # ReduceLROnPlateau's state, as torch's _reset leaves it
    best = -math.inf if has_plateau and plateau[0] != 0.0 else math.inf
    num_bad = 0
    cooldown_counter = 0

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
        if has_plateau:
            lrs[t - 1] = lr
        else:
            lr = lrs[t - 1]
        if has_moms:
            hp[mslot] = moms[t - 1]
        dispatch.step(oid, t, lr, hp, g, p, st)

        finite = math.isfinite(p[0]) and math.isfinite(p[1])
        for k in range(size):
            finite = finite and math.isfinite(st[k])
        if not finite:
            return t - 1, NON_FINITE
        if not (box[0] <= p[0] <= box[1] and box[2] <= p[1] <= box[3]):
            return t - 1, ESCAPED
        f = surface_kernels.value(sid, p[0], p[1], sparams)
        if not math.isfinite(f):
            path[t, 0] = p[0]  # where f is not finite (past the run's record: what its message names)
            path[t, 1] = p[1]
            return t - 1, NON_FINITE_LOSS
        loss[t] = f
        path[t, 0] = p[0]
        path[t, 1] = p[1]
        for k in range(size):
            state[t, k] = st[k]
        if has_plateau:
            if _plateau_better(plateau, f, best):
                best = f
                num_bad = 0
            else:
                num_bad += 1
            if cooldown_counter > 0:
                cooldown_counter -= 1
                num_bad = 0
            if num_bad > plateau[3]:
                new_lr = max(lr * plateau[2], plateau[6])
                if lr - new_lr > plateau[7]:
                    lr = new_lr
                cooldown_counter = int(plateau[5])
                num_bad = 0
    return steps, OK


@jit
def _plateau_better(plateau, a, best):
    """torch's ReduceLROnPlateau._is_better (plateau[0]: mode max; plateau[1]: threshold_mode abs)."""
    threshold = plateau[4]
    if plateau[0] == 0.0 and plateau[1] == 0.0:
        rel_epsilon = 1.0 - threshold
        return a < best * rel_epsilon
    if plateau[0] == 0.0:
        return a < best - threshold
    if plateau[1] == 0.0:
        rel_epsilon = threshold + 1.0
        return a > best * rel_epsilon
    return a > best + threshold
