"""Serialising a :class:`~optiviz.Simulation`: JSON and CSV with every recorded array, a standalone
HTML page with the animated chart, and a torch.optim script that reproduces the runs."""

from __future__ import annotations

import ast
import csv
import inspect
import io
import json
import math
import shlex
import textwrap
from collections.abc import Sequence
from html import escape
from typing import Any

from surfaces import Surface
from surfaces import _kernels as K

from ._engine import Run, RunSpec, Simulation
from .schedules import Schedule


def settings(sim: Simulation) -> dict[str, Any]:
    """The scenario that produced ``sim``, as plain JSON-ready values."""
    sc = sim.scenario
    return {
        "surface": sc.surface.name,
        "surface_params": dict(sc.surface.parameters),
        **({"expression": sc.surface.expression, "domain": [list(r) for r in sc.surface.domain],
            "minimum": list(sc.surface.minima[0]) if sc.surface.minima else None} if sc.surface.expression else {}),
        "start": list(sc.start),
        "steps": sc.steps,
        "noise": sc.noise,
        "seed": sc.seed,
        "runs": [{"optimizer": r.optimizer, **_jsonable(r.hyper),
                  **({"schedule": schedule_dict(r.schedule)} if r.schedule is not None else {})} for r in sc.runs],
    }


def _jsonable(hyper: dict[str, Any]) -> dict[str, Any]:
    """Tuples as lists; an infinite value (Prodigy's growth_rate=inf), which JSON cannot hold, as the string
    ``"inf"`` (``float("inf")`` reads it back); None (a reference default of None) as null."""
    def plain(v: Any) -> Any:
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, float) and math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v

    return {k: plain(v) for k, v in hyper.items()}


def schedule_dict(schedule: Schedule) -> dict[str, Any]:
    """``{"name": "CosineAnnealingLR", "T_max": 500, "eta_min": 0.0}``: every keyword (SequentialLR's
    schedulers as such dicts too)."""
    def plain(value):
        if isinstance(value, Schedule):
            return schedule_dict(value)
        return [plain(v) for v in value] if isinstance(value, tuple) else value

    return {"name": schedule.name, **{k: plain(v) for k, v in schedule.kwargs.items()}}


def to_dict(sim: Simulation) -> dict[str, Any]:
    """Settings plus, per run, positions, losses, gradients and every state buffer per step."""
    return {
        "settings": settings(sim),
        "runs": [
            {
                "optimizer": run.optimizer,
                "hyper": _jsonable(run.spec.hyper),
                "schedule": None if run.spec.schedule is None else schedule_dict(run.spec.schedule),
                "lr": run.lr.tolist(),
                "momentum": None if run.momentum is None else run.momentum.tolist(),
                "steps_done": run.steps_done,
                "diverged_at": run.diverged_at,
                "diverged_reason": run.diverged_reason,
                "path": run.path.tolist(),
                "loss": run.loss.tolist(),
                "grad": run.grad.tolist(),
                "state": {name: arr.tolist() for name, arr in run.state.items()},
            }
            for run in sim.runs
        ],
    }


def to_json(sim: Simulation) -> str:
    return json.dumps(to_dict(sim), allow_nan=False)


def _run_numbers(sim: Simulation, numbers: Sequence[int] | None) -> list[int]:
    """Each run's number as the app shows it: 1, 2, ... unless ``numbers`` gives them."""
    numbers = list(range(1, len(sim.runs) + 1)) if numbers is None else [int(k) for k in numbers]
    if len(numbers) != len(sim.runs):
        raise ValueError(f"numbers: expected {len(sim.runs)}, got {len(numbers)}")
    return numbers


def to_csv(sim: Simulation, numbers: Sequence[int] | None = None) -> str:
    """One header row, then one row per run and step (0..n): ``run``, ``optimizer``, ``settings``, ``step``, the
    position ``x, y``, ``loss``, the gradient ``grad_x, grad_y`` step t+1 received and the learning rate ``lr``
    it was taken with (a schedule's; and ``momentum``, its momentum or β₁, where a schedule cycles it in some
    run), and each state buffer after step t (``exp_avg_x, exp_avg_y``, ...; a scalar buffer such as NAdam's
    ``mu_product`` in one column). Cells a run does not have (another optimizer's state, the gradient and lr
    after its last step) are empty.

    ``run`` numbers the runs as the app's sidebar does: 1, 2, ... in order, or ``numbers`` (one per run; the app
    passes its own when a refused run leaves a gap). ``settings`` is the run's hyperparameters that differ from
    torch.optim's defaults, as the command line and links write a run (``adam:lr=0.05,betas=0.8/0.9``). The file
    is plain ASCII with no comment line, so ``pandas.read_csv``, Python's ``csv`` module and spreadsheets open it
    as it is; the scenario (surface, start, steps, noise, seed) is in :func:`to_json`'s ``settings``."""
    from ._text import format_run

    numbers = _run_numbers(sim, numbers)
    state_names: list[str] = []
    widths: dict[str, int] = {}  # 2 for a vector buffer (name_x, name_y), 1 for a scalar (name)
    for run in sim.runs:
        state_names += [n for n in run.state if n not in state_names]
        widths.update({n: 2 if a.ndim == 2 else 1 for n, a in run.state.items()})
    cycled = any(run.momentum is not None for run in sim.runs)
    header = ["run", "optimizer", "settings", "step", "x", "y", "loss", "grad_x", "grad_y", "lr"]
    header += ["momentum"] * cycled
    header += [h for n in state_names for h in ([f"{n}_{c}" for c in "xy"] if widths[n] == 2 else [n])]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for number, run in zip(numbers, sim.runs, strict=True):
        n = run.steps_done
        path, loss, grad, lrs = run.path.tolist(), run.loss.tolist(), run.grad.tolist(), run.lr.tolist()
        moms = run.momentum.tolist() if run.momentum is not None else None
        states = [run.state[name].tolist() if name in run.state else None for name in state_names]
        head = [number, run.optimizer, format_run(run.spec)]
        for t in range(n + 1):
            row: list[Any] = [*head, t, *path[t], loss[t]]
            row += [*grad[t], lrs[t]] if t < n else ["", "", ""]
            if cycled:
                row += [moms[t] if moms is not None and t < n else ""]
            for name, arr in zip(state_names, states, strict=True):
                row += [""] * widths[name] if arr is None else arr[t] if widths[name] == 2 else [arr[t]]
            w.writerow(row)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# The command that reproduces a simulation


def _command(sim: Simulation) -> str:
    """The ``python -m optiviz simulate ...`` command line that reproduces ``sim``."""
    from ._text import format_run

    sc = sim.scenario
    surface = sc.surface.name
    if sc.surface.parameters:
        surface += ":" + ",".join(f"{k}={v!r}" for k, v in sc.surface.parameters.items())
    parts = ["python", "-m", "optiviz", "simulate", "--surface", surface]
    if sc.surface.expression:
        (x0, x1), (y0, y1) = sc.surface.domain
        parts[-1] = f"{surface}:{sc.surface.expression}"
        parts.append(f"--domain={x0!r},{x1!r},{y0!r},{y1!r}")
        if sc.surface.minima:
            parts.append(f"--minimum={sc.surface.minima[0][0]!r},{sc.surface.minima[0][1]!r}")
    for spec in sc.runs:
        parts += ["--run", format_run(spec)]
    parts += [f"--start={sc.start[0]!r},{sc.start[1]!r}", "--steps", str(sc.steps), "--noise", repr(sc.noise),
              "--seed", str(sc.seed)]
    return shlex.join(parts)


def _describe_hyper(spec: RunSpec) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, tuple):
            return "(" + ", ".join(f"{x:g}" for x in v) + ")"
        return str(v) if v is None or isinstance(v, bool) else f"{v:g}"

    # optiviz's own options (eps_inside_sqrt, bias_correction) only when set away from torch's behaviour:
    # torch.optim's names otherwise.
    shown = {**spec.torch_hyper, **spec.extensions}
    return ", ".join(f"{k}={fmt(v)}" for k, v in shown.items())


def _outcome(run: Run) -> str:
    if run.diverged_at is None:
        x, y = run.path[-1]
        return f"after {run.steps_done} steps at ({x:.6g}, {y:.6g}), loss {run.loss[-1]:.6g}"
    return f"stopped at step {run.diverged_at}: {run.stop_reason}"


# ---------------------------------------------------------------------------------------------
# HTML

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: Inter, system-ui, sans-serif; margin: 1.2rem 1.6rem; color: #0f172a; }}
h1 {{ font-size: 1.35rem; margin: 0 0 .4rem 0; }}
.settings {{ font-size: .9rem; line-height: 1.45; margin: 0 0 .6rem 0; }}
.settings ul {{ margin: .2rem 0; padding-left: 1.2rem; }}
.swatch {{ display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .35em;
           vertical-align: -.05em; }}
code {{ font-size: .82rem; background: #f1f5f9; padding: .1em .3em; border-radius: 3px; }}
</style>
</head>
<body>
<h1>{title}</h1>
<div class="settings" id="optiviz-settings">
<div><b>Surface</b> {surface} &middot; <b>start</b> {start} &middot; <b>steps</b> {steps} &middot;
<b>noise</b> {noise}</div>
<ul>
{runs}
</ul>
<div>Reproduce: <code>{command}</code></div>
</div>
<script type="application/json" id="optiviz-settings-json">{settings_json}</script>
{chart}
</body>
</html>
"""

_HTML_DIV_ID = "optiviz-trajectory"


def to_html(
    sim: Simulation,
    *,
    labels: Sequence[str] | None = None,
    colors: Sequence[str] | None = None,
    arrows: bool = False,
    moments: bool = True,
) -> str:
    """The trajectory chart as one standalone HTML page (plotly.js inlined: it plays offline).

    Above the chart, a title and the settings that produced it: the surface, start, steps, noise and
    seed, each run's hyperparameters and outcome, and the ``python -m optiviz`` command that reproduces
    it; the settings are also embedded as JSON (``<script id="optiviz-settings-json">``). The chart is drawn
    by the app's own chart code, with the same playback controls (every step, any speed, the keys);
    its figure is embedded as JSON (``<script id="optiviz-figure-json">``). ``labels``, ``colors``,
    ``arrows`` and ``moments`` are :func:`~optiviz.figures.create_trajectory_figure`'s.
    """
    from ._assets import CHART_CSS, CHART_JS
    from ._plotly import plotly
    from .figures import create_trajectory_figure, default_labels, run_colors

    fig = create_trajectory_figure(sim, labels=labels, colors=colors, arrows=arrows, moments=moments)
    labels = list(labels) if labels is not None else default_labels(sim)
    colors = list(colors) if colors is not None else run_colors([run.spec.optimizer for run in sim.runs])
    for trace in fig.to_dict()["data"]:  # nothing to click in a static page (in the app, a click sets the start)
        if trace.get("name") == "surface":
            trace["hovertemplate"] = trace["hovertemplate"].replace("<br><i>click to start here</i>", "")
    from ._plotly import pio

    figure_json = pio.to_json(fig, validate=False).replace("</", "<\\/")
    config = json.dumps({"displaylogo": False, "responsive": True})
    chart = (
        f"<style>{CHART_CSS}</style>\n"
        f"<script>{plotly.offline.get_plotlyjs()}</script>\n"
        f'<div id="{_HTML_DIV_ID}"></div>\n'
        f'<script type="application/json" id="optiviz-figure-json">{figure_json}</script>\n'
        f'<script type="module">\n{CHART_JS}\n'
        f'mountStandalone(document.getElementById("{_HTML_DIV_ID}"), '
        f'document.getElementById("optiviz-figure-json").textContent, {config});\n</script>'
    )
    sc = sim.scenario
    surf = sc.surface
    surface = surf.title + "".join(f", {k} = {v:g}" for k, v in surf.parameters.items())
    noise = f"σ = {sc.noise:g}, seed {sc.seed}" if sc.noise else "none"
    runs = "\n".join(
        f'<li><span class="swatch" style="background:{escape(c)}"></span><b>{escape(label)}</b> '
        f"({escape(run.optimizer)}: {escape(_describe_hyper(run.spec))}) &mdash; {escape(_outcome(run))}</li>"
        for run, label, c in zip(sim.runs, labels, colors, strict=True)
    )
    settings_json = json.dumps(settings(sim), allow_nan=False).replace("</", "<\\/")
    return _PAGE.format(
        title=escape(f"optiviz: {len(sim.runs)} optimizer{'s' if len(sim.runs) != 1 else ''} on {surf.title}"),
        surface=escape(surface), start=escape(f"({sc.start[0]:g}, {sc.start[1]:g})"), steps=f"{sc.steps:,}",
        noise=escape(noise), runs=runs, command=escape(_command(sim)), settings_json=settings_json, chart=chart,
    )


# ---------------------------------------------------------------------------------------------
# A torch.optim script

def _branch_source(kernel, sid: int) -> str:
    """The body of ``kernel``'s ``if sid == NAME:`` branch for surface ``sid`` as plain Python: the
    module constant ``_TWO_PI`` becomes ``TWO_PI`` and the quadratic's ``params[i]`` its Hessian entries
    ``H11, H12, H22``. The kernels use no ``**`` (see ``surfaces._kernels``), so this source evaluates
    to the same bits in CPython as the compiled kernel."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(kernel.py_func)))
    hessian = ("H11", "H12", "H22")

    class _Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return ast.copy_location(ast.Name("TWO_PI", node.ctx), node) if node.id == "_TWO_PI" else node

        def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
            if isinstance(node.value, ast.Name) and node.value.id == "params":
                return ast.copy_location(ast.Name(hessian[node.slice.value], ast.Load()), node)
            return self.generic_visit(node)

    for stmt in tree.body[0].body:
        test = getattr(stmt, "test", None)
        if (isinstance(stmt, ast.If) and isinstance(test, ast.Compare) and isinstance(test.comparators[0], ast.Name)
                and getattr(K, test.comparators[0].id) == sid):
            body = [_Rename().visit(node) for node in stmt.body]
            return textwrap.indent("\n".join(ast.unparse(node) for node in body), "    ")
    raise ValueError(f"no branch for surface id {sid} in {kernel.__name__}")


def _typed_source(surface: Surface) -> str:
    """A typed function in torch operations, its gradient by autograd (optiviz's forward-mode derivatives are
    the same to rounding)."""
    from surfaces import _expr

    body = _expr.to_torch(_expr.parse(surface.expression))
    return (
        "def f(x, y):\n"
        f'    """Your function, typed as: {surface.expression}"""\n'
        f"    return {body} + 0.0 * x + 0.0 * y  # (a tensor even where the text leaves out x or y)\n\n\n"
        "def value(x, y):\n"
        "    with torch.no_grad():\n"
        "        return float(f(torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)))\n\n\n"
        "def grad(x, y):\n"
        '    """(df/dx, df/dy) by autograd."""\n'
        "    px = torch.tensor(x, dtype=torch.float64, requires_grad=True)\n"
        "    py = torch.tensor(y, dtype=torch.float64, requires_grad=True)\n"
        "    gx, gy = torch.autograd.grad(f(px, py), (px, py))\n"
        "    return float(gx), float(gy)\n"
    )


def surface_source(surface: Surface) -> str:
    """``value(x, y)`` and ``grad(x, y)`` of ``surface`` as plain Python source (uses ``math``), with the
    constants they need (``TWO_PI``; the quadratic's Hessian ``H11, H12, H22``): the branches of
    optiviz's compiled kernels for this surface, taken from their source."""
    if surface.expression:
        return _typed_source(surface)
    value_src, grad_src = _branch_source(K.value, surface.sid), _branch_source(K.grad, surface.sid)
    consts = []
    if "TWO_PI" in value_src + grad_src:
        consts.append("TWO_PI = 2.0 * math.pi")
    if surface.sid == K.QUADRATIC:
        h11, h12, h22 = surface.params
        consts.append(f"H11, H12, H22 = {h11!r}, {h12!r}, {h22!r}  # the Hessian [[H11, H12], [H12, H22]]")
    head = "\n".join(consts) + "\n\n\n" if consts else ""
    return (
        f"{head}def value(x, y):\n    \"\"\"f(x, y) of {surface.title}.\"\"\"\n{value_src}\n\n\n"
        f"def grad(x, y):\n    \"\"\"The analytic gradient (df/dx, df/dy), as optiviz computes it.\"\"\"\n{grad_src}\n"
    )


def _literal(value) -> str:
    """``value`` as Python source: ``repr``, except that infinity and NaN (Prodigy's growth_rate=inf) are written
    ``float('inf')``, as their repr ``inf`` is not a name the script defines."""
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)


def _torch_kwargs(spec: RunSpec) -> str:
    """The reference class's keywords: the hyperparameters it takes, then its options (``foreach=False``)."""
    items = {**spec.torch_hyper, **spec.spec.reference_options}
    return ", ".join(f"{k}={_literal(v)}" for k, v in items.items())


def scheduler_source(schedule: Schedule, optimizer: str = "opt") -> str:
    """The torch scheduler as Python: ``torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)``."""
    def source(value):
        if isinstance(value, Schedule):
            return scheduler_source(value, optimizer)
        return f"[{', '.join(source(v) for v in value)}]" if isinstance(value, tuple) else repr(value)

    args = "".join(f", {k}={source(v)}" for k, v in schedule.changed().items())
    return f"torch.optim.lr_scheduler.{schedule.name}({optimizer}{args})"


def _reference_class(spec: RunSpec) -> str:
    module, name = spec.spec.reference
    return f"{module}.{name}"


_SCRIPT = '''\
"""Reproduce an optiviz simulation with torch.optim.

Surface: {title}{params}; start {start}; {steps} steps; {noise_text}.
optiviz: {command}

Each step assigns the surface's analytic gradient (optiviz's formula, below), plus the noise, to p.grad
(float64, shape (2,)) and calls torch.optim's step (foreach=False). As in optiviz, a run stops at the
first step whose gradient, position, optimizer state or loss is not finite ("non-finite"), or whose
position runs far off the plot ("escaped": out of ESCAPE_BOX, the plotted region made 100 times wider
and taller about its centre). Positions agree with optiviz's to rounding: torch's CPU kernels fuse some
multiply-adds, so they can differ in the last bit, and on a chaotic path (big steps across ripples, Adam
oscillating about a minimum at a large lr) such differences can grow.

Prints one line per run (I: the run's number, as optiviz's sidebar numbers it):
  run I NAME final (x, y) = (X, Y)
  run I NAME stopped at step T (REASON); last (x, y) = (X, Y)
"""

import contextlib
import io
import math

import numpy as np
import torch
{imports}
START = ({x0!r}, {y0!r})
STEPS = {steps}
SIGMA = {sigma!r}  # gradient noise: step t receives grad + SIGMA * xi[t - 1]
SEED = {seed}
ESCAPE_BOX = {box!r}  # (x_min, x_max, y_min, y_max): the plotted region, 100 times wider and taller

{surface}


# xi ~ N(0, I), drawn once from default_rng(SEED) and shared by every run; SIGMA * xi computed first.
if SIGMA != 0.0:
    with np.errstate(over="ignore"):
        NOISE = SIGMA * np.random.default_rng(SEED).standard_normal((STEPS, 2))
else:
    NOISE = None


def finite(*values):
    return all(math.isfinite(v) for v in values)


def run(index, name, optimizer_class, train_mode=False, schedule=None, **hyper):
    p = torch.tensor(START, dtype=torch.float64)
    with contextlib.redirect_stdout(io.StringIO()):  # one line per run: prodigyopt announces its weight decay
        opt = optimizer_class([p], **hyper)
    scheduler = schedule(opt) if schedule is not None else None  # stepped after every optimizer step
    if train_mode:  # Schedule-Free steps only in train mode, where p holds y (where gradients are taken)
        with contextlib.redirect_stdout(io.StringIO()):  # AdamWScheduleFreeReference prints as it switches
            opt.train()
    x, y = START
    for t in range(1, STEPS + 1):
        try:
            gx, gy = grad(x, y)
        except (OverflowError, ValueError):  # Python's math raises where the compiled kernel gives inf/NaN
            gx = gy = math.nan
        if NOISE is not None:
            gx += float(NOISE[t - 1, 0])
            gy += float(NOISE[t - 1, 1])
        reason = None
        if not finite(gx, gy):
            reason = "non-finite"
        else:
            p.grad = torch.tensor([gx, gy], dtype=torch.float64)
            opt.step()
            nx, ny = p.tolist()
            state = [v for v in opt.state[p].values() if torch.is_tensor(v)]
            if not (finite(nx, ny) and all(bool(torch.isfinite(v).all()) for v in state)):
                reason = "non-finite"
            elif not (ESCAPE_BOX[0] <= nx <= ESCAPE_BOX[1] and ESCAPE_BOX[2] <= ny <= ESCAPE_BOX[3]):
                reason = "escaped"
            else:
                try:
                    loss = value(nx, ny)
                except (OverflowError, ValueError):
                    loss = math.nan
                if not finite(loss):
                    reason = "non-finite"
                elif isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    scheduler.step(loss)  # it reads the loss at the new position
                elif scheduler is not None:
                    scheduler.step()
        if reason is not None:
            print(f"run {{index}} {{name}} stopped at step {{t}} ({{reason}}); last (x, y) = ({{x!r}}, {{y!r}})")
            return
        x, y = nx, ny
    print(f"run {{index}} {{name}} final (x, y) = ({{x!r}}, {{y!r}})")


{runs}
'''


#: Why a run with one of optiviz's extensions set cannot be handed to torch.optim (a comment in the script).
_NOT_IN_TORCH = {
    "eps_inside_sqrt": "it puts eps inside the square root (sqrt(v + eps), as Keras and optax do); torch adds it "
                       "outside\n# (sqrt(v) + eps) and has no option to change that.",
    "bias_correction": "it drops Adam's bias corrections (as apex's FusedAdam(bias_correction=False) does); "
                       "torch.optim.Adam\n# always applies them.",
}


def to_torch_script(sim: Simulation, numbers: Sequence[int] | None = None) -> str:
    """A standalone Python script that reproduces ``sim``'s runs with ``torch.optim`` and prints each run's
    final position (or the step where it stopped, and why), after its number: 1, 2, ... as the app's sidebar
    numbers runs, or ``numbers`` (as :func:`to_csv`'s).

    The script carries the surface's value and analytic gradient as plain Python (:func:`surface_source`),
    the start, steps, noise (``sigma * default_rng(seed).standard_normal((steps, 2))``) and escape box, and
    one ``torch.optim`` optimizer per run with its hyperparameters. The gradient is assigned to ``p.grad``
    (float64, ``foreach=False``), not computed by autograd, so torch sees the gradients optiviz uses; positions
    agree to rounding (torch's CPU kernels fuse some multiply-adds). Runs with ``eps_inside_sqrt=True`` or
    ``bias_correction=False`` (optiviz's extensions, not torch.optim options) are left out, with a comment and
    a ``skipped`` line.
    """
    sc = sim.scenario
    surf = sc.surface
    blocks = []
    for i, spec in zip(_run_numbers(sim, numbers), sc.runs, strict=True):
        if spec.extensions:
            options = ", ".join(f"{k}={v}" for k, v in spec.extensions.items())
            why = "".join(f"# {_NOT_IN_TORCH[k]}\n" for k in spec.extensions)
            not_torch = "not a torch.optim option" if len(spec.extensions) == 1 else "not torch.optim options"
            blocks.append(
                f"# run {i} ({spec.optimizer}, {options}) cannot be reproduced with torch.optim:\n{why}"
                f'print("run {i} {spec.optimizer} skipped ({options}: {not_torch})")'
            )
        else:
            call = f'run({i}, "{spec.optimizer}", {_reference_class(spec)},' + (
                " train_mode=True," if spec.spec.train_mode else "")
            kwargs = _torch_kwargs(spec)
            if spec.schedule is not None:
                kwargs += f",\n    schedule=lambda opt: {scheduler_source(spec.schedule)}"
            blocks.append(f"{call} {kwargs})" if len(call) + len(kwargs) < 100 else f"{call}\n    {kwargs})")
    params = "".join(f", {k}={v!r}" for k, v in surf.parameters.items())
    noise_text = f"gradient noise sigma={sc.noise!r}, seed={sc.seed}" if sc.noise else "no gradient noise"
    return _SCRIPT.format(
        title=surf.title, params=f" ({surf.name}{params})", start=f"({sc.start[0]!r}, {sc.start[1]!r})",
        steps=sc.steps, noise_text=noise_text, command=_command(sim), x0=sc.start[0], y0=sc.start[1],
        sigma=sc.noise, seed=sc.seed, box=tuple(surf.escape_box), surface=surface_source(surf).rstrip("\n"),
        runs="\n".join(blocks), imports=_imports(sim),
    )


def _imports(sim: Simulation) -> str:
    """Import lines of the reference packages the runs need besides torch (``import lion_pytorch``), each with
    the pip package that provides it."""
    lines = {}
    for spec in sim.scenario.runs:
        module, _ = spec.spec.reference
        if module != "torch.optim" and not spec.extensions:
            lines[module] = f"import {module}  # pip install {spec.spec.package}"
    return "".join(line + "\n" for line in lines.values())
