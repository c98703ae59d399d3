"""optiviz: PyTorch-exact optimizer trajectories on 2-D loss surfaces, with every moment recorded.

>>> import optiviz
>>> sim = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adam", lr=0.05)], steps=100)
>>> sim.runs[0].path.shape
(101, 2)
"""

from ._engine import MAX_STEPS, Run, RunSpec, Scenario, Simulation, default_runs, run_scenario, simulate, warmup
from .optimizers import OPTIMIZERS
from .schedules import Schedule

__all__ = [
    "MAX_STEPS",
    "OPTIMIZERS",
    "Run",
    "RunSpec",
    "Scenario",
    "Schedule",
    "Simulation",
    "default_runs",
    "run_scenario",
    "simulate",
    "warmup",
]
