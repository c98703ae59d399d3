"""``python -m optiviz``: simulate from the command line and write the records to stdout."""

from __future__ import annotations

import argparse
import sys

import surfaces

from . import export
from ._engine import MAX_STEPS, simulate, warmup
from ._text import parse_run, parse_surface
from .optimizers import OPTIMIZERS
from .schedules import KEYWORDS

_RUN_HELP = (
    "a run, as OPTIMIZER:KEY=VALUE,...; repeat for several runs (the same optimizer twice is fine). "
    f"Optimizers: {', '.join(OPTIMIZERS)}. Keys are torch.optim's: "
    + "; ".join(f"{name}: {', '.join(spec.defaults)}" for name, spec in OPTIMIZERS.items())
    + ". Pairs use '/', booleans true/false: "
    + '"adam:lr=0.01,betas=0.9/0.999", "sgd:lr=1e-4,momentum=0.9,nesterov=true". A learning-rate schedule '
    "comes last, as torch.optim.lr_scheduler's class with its keywords: "
    '"adam:lr=0.1,schedule=CosineAnnealingLR(T_max=500)", "adam:lr=0.1,schedule=SequentialLR(schedulers=['
    'LinearLR(start_factor=0.1,total_iters=50),CosineAnnealingLR(T_max=450)],milestones=[50])"; schedules: '
    + ", ".join(KEYWORDS)
)


FORMATS = ("json", "csv", "html", "torch")
_FORMAT_HELP = (
    "output format (default json). json: the settings and, per run, every position, loss, gradient and "
    "state buffer; csv: a header row, then one row per run (numbered from 1) and step: the run's settings, "
    "position, loss, gradient and state buffers (the surface, start and noise are in json's settings); "
    "html: a standalone page with the animated trajectory chart and the settings (plotly.js inlined, plays "
    "offline); torch: a Python script that reproduces the runs with torch.optim (the same analytic gradient "
    "assigned to p.grad) and prints each run's final position; runs with eps_inside_sqrt=true or "
    "bias_correction=false (optiviz's own options) are skipped"
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2
        self.exit(2, f"optiviz: error: {message}\n")


def _pair(text: str) -> tuple[float, float]:
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected X,Y (two numbers), got {text!r}")
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y (two numbers), got {text!r}") from None


def _domain(text: str) -> tuple[tuple[float, float], tuple[float, float]]:
    parts = text.split(",")
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"expected X0,X1,Y0,Y1 (four numbers), got {text!r}")
    try:
        x0, x1, y0, y1 = (float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X0,X1,Y0,Y1 (four numbers), got {text!r}") from None
    return (x0, x1), (y0, y1)


def surface_from_args(text: str, domain, minimum) -> surfaces.Surface:
    """``--surface`` (with ``--domain`` and ``--minimum`` for an ``expr:`` one) as a Surface."""
    if text.strip().lower().startswith(surfaces.EXPRESSION_NAME + ":"):
        return surfaces.from_expression(text.strip()[len(surfaces.EXPRESSION_NAME) + 1:],
                                        domain=domain or ((-2.0, 2.0), (-2.0, 2.0)), minimum=minimum)
    if domain is not None or minimum is not None:
        raise ValueError("--domain and --minimum are for a typed function (--surface expr:...)")
    name, params = parse_surface(text)
    return surfaces.get(name, **params)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m optiviz", description="Optimizer trajectories on 2-D loss surfaces.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sim = sub.add_parser(
        "simulate",
        help="run optimizers side by side and write paths, losses, gradients and states",
        description="Run optimizers side by side from the same start and write every recorded array to stdout.",
        epilog='example: python -m optiviz simulate --surface rosenbrock --run "adam:lr=0.01,betas=0.9/0.999" '
        '--run "sgd:lr=1e-4,momentum=0.9" --start=-1.5,2 --steps 500 --format csv',
    )
    sim.add_argument("--surface", required=True, metavar="NAME",
                     help=f"the loss surface: {', '.join(surfaces.names())}; quadratic takes parameters, "
                     "e.g. quadratic:kappa=50,angle=30; or your own function as expr:TEXT, e.g. "
                     '"expr:(1-x)^2 + 100*(y-x^2)^2" (x, y, numbers, + - * / ^ or **, parentheses, pi, e, '
                     "sin cos tan exp log sqrt abs tanh sinh cosh arctan atan, min max), with --domain")
    sim.add_argument("--domain", type=_domain, metavar="X0,X1,Y0,Y1", default=None,
                     help="the domain of an expr: surface (default -2,2,-2,2); write --domain=-3,3,-1,2")
    sim.add_argument("--minimum", type=_pair, metavar="X,Y", default=None,
                     help="a known global minimum of an expr: surface (optional; the loss chart then shows f - f*)")
    sim.add_argument("--run", action="append", required=True, metavar="SPEC", help=_RUN_HELP)
    sim.add_argument("--start", type=_pair, metavar="X,Y",
                     help="start point (default: the surface's); write --start=-1.5,2 when X is negative")
    sim.add_argument("--steps", type=int, default=500, help=f"optimizer steps, 1..{MAX_STEPS:,} (default 500)")
    sim.add_argument("--noise", type=float, default=None, metavar="SIGMA",
                     help="gradient noise sigma (default: the surface's, 0 except noisy_saddle)")
    sim.add_argument("--seed", type=int, default=0, help="seed of the noise generator (default 0)")
    sim.add_argument("--format", choices=FORMATS, default="json", help=_FORMAT_HELP)
    sub.add_parser("warmup", help="compile (or load from Numba's cache) every kernel the app uses",
                   description="Compile every kernel signature the app uses into Numba's cache.")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "warmup":
        warmup()
        return 0
    try:
        sim = simulate(
            surface_from_args(args.surface, args.domain, args.minimum), [parse_run(r) for r in args.run],
            start=args.start, steps=args.steps, noise=args.noise, seed=args.seed,
        )
    except ValueError as exc:
        parser.error(str(exc))
    writers = {"json": export.to_json, "csv": export.to_csv, "html": export.to_html, "torch": export.to_torch_script}
    out = writers[args.format](sim)
    out = out if out.endswith("\n") else out + "\n"
    # UTF-8 whatever the locale: the page and the script hold non-ASCII text (plotly.js, "▶ Play", titles).
    sys.stdout.flush()
    sys.stdout.buffer.write(out.encode("utf-8"))
    sys.stdout.buffer.flush()
    return 0
