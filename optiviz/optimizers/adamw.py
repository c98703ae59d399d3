"""AdamW (torch.optim.AdamW): Adam with decoupled weight decay, ``p *= 1 - lr weight_decay`` before the step.

Everything but the defaults (weight_decay 1e-2), the packed flag and the notes is Adam's (adam.py).
"""

from __future__ import annotations

from dataclasses import replace

from . import _common as C
from . import adam
from ._base import Optimizer

PARAMS = tuple(replace(p, default=1e-2) if p.name == "weight_decay" else p for p in adam.PARAMS)

NOTES = (
        "AdamW shrinks the parameters first, θ ← θ(1 − lr·λ), then takes a plain Adam step on the raw gradient. "
        "Adam's weight_decay instead adds λθ to the gradient, which is then divided by √v̂ like the rest: "
        "coordinates with large gradients are barely regularised. AdamW's pull toward the origin is the same "
        "relative shrink for every coordinate, so with λ > 0 a run does not come to rest exactly on a minimum "
        "away from the origin. Otherwise it behaves like Adam: lr-sized first steps, and |m̂/√v̂| ≈ 1 while the "
        "gradient keeps its sign."
)


def listed(key: str, value) -> bool:
    return True  # AdamW's weight decay is part of the method, listed even at 0


SPEC = Optimizer(
    "adamw", "AdamW", "Adam with weight decay applied to the parameters directly (decoupled), not to the gradient",
    PARAMS, adam.STATE, adam.check, adam.packer(True), adam.init, adam.step, ("torch.optim", "AdamW"),
    recommended_lr=C.surface_lr("adamw"), kept=adam.kept, bias_corrected=adam.bias_corrected,
    divisor_moment=adam.divisor_moment, effective_lr=adam.effective_lr, momentum=adam.momentum, panels=adam.panels,
    explain=adam.explain, notes=NOTES, step_note=adam.step_note, title_options=adam.title_options,
    option_notes=adam.option_notes, listed=listed, decoupled=lambda h: True, momentum_slot=0,
    look_for="a steady pull toward the origin (θ shrinks by lr·λ each step) on top of Adam's steps",
)
