"""The whole view as URL query parameters, both ways (no Streamlit here).

Parameters (every one optional; what is missing takes its default)::

    lesson=bias-correction                  a lesson (optiviz.lessons): its view, and its text beside the chart;
                                            the other parameters, where given, change that view
    surface=rosenbrock                      a name, or quadratic:kappa=50,angle=30
    start=-1.5,2                            x,y inside the surface's domain
    steps=1000                              10 .. 10,000
    noise=0.1                               gradient-noise sigma, 0 .. 2
    seed=0                                  0 .. 2**31 - 1
    run=adam:lr=0.05,betas=0.9/0.999        one per run, in order (1 .. 8 runs), as the CLI writes them
    show=moments,arrows,3d,focus            the chart options that are on (focus: the classroom layout)
    step=25                                 the step the chart shows (0 .. steps), paused there

:func:`parse_view` never raises: a malformed or out-of-range parameter is reported, by name,
in the returned messages, and only that parameter falls back to its default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import surfaces

from ._engine import RunSpec, default_runs
from ._text import format_run, parse_run, parse_surface
from .schedules import check_run

MIN_STEPS, MAX_STEPS = 10, 10_000
MAX_NOISE = 2.0
MAX_SEED = 2**31 - 1
MAX_RUNS = 8
SHOW_OPTIONS = ("moments", "arrows", "3d", "focus")
#: Slider ranges of the app: a value outside them cannot be shown, so a link may not set it.
_KNOWN = ("lesson", "surface", "domain", "minimum", "start", "steps", "noise", "seed", "run", "show", "step")
#: A typed function's domain when a link gives none.
DEFAULT_DOMAIN = ((-2.0, 2.0), (-2.0, 2.0))
_MAX_TEXT = 500


@dataclass(frozen=True)
class View:
    """Everything a link reproduces."""

    surface: str = "rosenbrock"
    surface_params: tuple[tuple[str, float], ...] = ()
    start: tuple[float, float] | None = None  # None: the surface's default start
    steps: int = 1000
    noise: float | None = None  # None: the surface's default
    seed: int = 0
    runs: tuple[RunSpec, ...] = ()  # empty: the surface's default runs
    show: frozenset[str] = field(default_factory=lambda: frozenset({"moments"}))
    step: int = 0  # the step the chart shows, 0 .. steps
    lesson: str | None = None  # the id of the lesson whose text is shown with the view (optiviz.lessons)
    #: A typed function (``surface == "expr"``): its text, its domain and its known minimum (None: none given).
    expression: str = ""
    domain: tuple[tuple[float, float], tuple[float, float]] = DEFAULT_DOMAIN
    minimum: tuple[float, float] | None = None

    def surface_object(self) -> surfaces.Surface:
        if self.surface == surfaces.EXPRESSION_NAME:
            return typed_surface(self.expression, self.domain, self.minimum)
        return surfaces.get(self.surface, **dict(self.surface_params))

    def resolved(self) -> View:
        """Defaults that depend on the surface filled in."""
        surf = self.surface_object()
        return replace(
            self,
            start=self.start if self.start is not None else surf.start,
            noise=self.noise if self.noise is not None else surf.noise,
            runs=self.runs or default_runs(surf),
        )


@lru_cache(maxsize=64)
def typed_surface(expression: str, domain, minimum) -> surfaces.Surface:
    """``surfaces.from_expression``, remembered: a view asks for its surface often."""
    return surfaces.from_expression(expression, domain=domain, minimum=minimum)


def view_to_query(view: View) -> dict[str, str | list[str]]:
    """The view as query parameters (``run`` is a list: one entry per run)."""
    v = view.resolved()
    query: dict[str, str | list[str]] = {"lesson": v.lesson} if v.lesson else {}
    surface = v.surface
    if v.surface_params:
        surface += ":" + ",".join(f"{k}={_num(x)}" for k, x in v.surface_params)
    typed = {}
    if v.surface == surfaces.EXPRESSION_NAME:
        surface += ":" + v.expression
        (x0, x1), (y0, y1) = v.domain
        typed["domain"] = ",".join(_num(c) for c in (x0, x1, y0, y1))
        if v.minimum is not None:
            typed["minimum"] = f"{_num(v.minimum[0])},{_num(v.minimum[1])}"
    query |= {
        "surface": surface,
        **typed,
        "start": f"{_num(v.start[0])},{_num(v.start[1])}",
        "steps": str(v.steps),
        "noise": _num(v.noise),
        "seed": str(v.seed),
        "run": [format_run(r) for r in v.runs],
        "show": ",".join(s for s in SHOW_OPTIONS if s in v.show),
    }
    if v.step:
        query["step"] = str(v.step)
    return query


def _num(x: float) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _last(values: Sequence[str] | str) -> str:
    return values if isinstance(values, str) else values[-1]


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _whole(text: str, lo: int, hi: int) -> int:
    value = _finite(text)
    if value != int(value) or not lo <= value <= hi:
        raise ValueError(f"{text!r} is not a whole number from {lo:,} to {hi:,}")
    return int(value)


def _check_ranges(spec: RunSpec) -> None:
    """Each value within the range its optimizer's metadata gives the app's widgets."""
    for param in spec.spec.params:
        value = spec.hyper[param.name]
        for part, v in zip(param.parts, value, strict=True) if param.parts else ((param, value),):
            if part.range is None or v is None:  # a flag, or None where the reference's default is None
                continue
            lo, hi = part.range
            if not lo <= v <= hi:
                name = param.name if part is param else f"{param.name} ({part.name})"
                raise ValueError(f"{name}={v:g} is outside the app's range, {lo:g} to {hi:g}")


def parse_view(params: Mapping[str, Any]) -> tuple[View, list[str]]:
    """Query parameters (values: a string or a list of strings) -> (View, messages). Never raises."""
    messages: list[str] = []
    view = View()

    def problem(name: str, text: str, why: str, fallback: str) -> None:
        shown = "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in text)
        shown = (shown if len(shown) <= 60 else shown[:57] + "...").replace("`", "'")
        messages.append(f"`{name}={shown}`: {why}; using {fallback}.")

    for key in params:
        if key not in _KNOWN:
            messages.append(f"`{str(key)[:40]}`: not a parameter optiviz knows; ignored.")

    def get(name: str) -> str | None:
        values = params.get(name)
        if values is None or (not isinstance(values, str) and len(values) == 0):
            return None
        text = str(_last(values))
        if len(text) > _MAX_TEXT:
            problem(name, text, "too long", "the default")
            return None
        return text

    if (text := get("lesson")) is not None:
        from . import lessons  # they are made of Views

        try:
            lesson = lessons.get(text.strip())
            view = replace(lesson.view, lesson=lesson.id)  # the base the other parameters change
        except ValueError as exc:
            others = any(params.get(k) is not None for k in _KNOWN if k != "lesson")
            problem("lesson", text, str(exc), "the link's other settings" if others else "the default view")
    domain, minimum = DEFAULT_DOMAIN, None
    if (text := get("domain")) is not None:
        try:
            parts = [_finite(p) for p in text.split(",")]
            if len(parts) != 4:
                raise ValueError("expected four numbers x_min,x_max,y_min,y_max")
            domain = ((parts[0], parts[1]), (parts[2], parts[3]))
        except ValueError as exc:
            problem("domain", text, str(exc), "-2 to 2 in x and y")
    if (text := get("minimum")) is not None:
        try:
            parts = [_finite(p) for p in text.split(",")]
            if len(parts) != 2:
                raise ValueError("expected two numbers x,y")
            minimum = (parts[0], parts[1])
        except ValueError as exc:
            problem("minimum", text, str(exc), "no known minimum")
    if (text := get("surface")) is not None and text.strip().lower().startswith(surfaces.EXPRESSION_NAME + ":"):
        expression = text.strip()[len(surfaces.EXPRESSION_NAME) + 1:].strip()
        try:
            typed_surface(expression, domain, minimum)
            view = replace(view, surface=surfaces.EXPRESSION_NAME, surface_params=(), expression=expression,
                           domain=domain, minimum=minimum, start=None, noise=None)
        except ValueError as exc:
            problem("surface", text, str(exc), view.surface_object().title)
    elif text is not None:
        try:
            name, sp = parse_surface(text)
            surfaces.get(name, **sp)
            chosen = (name, tuple(sorted((k, float(x)) for k, x in sp.items())))
            if chosen != (view.surface, view.surface_params):
                # a lesson's start and noise were chosen for its own surface
                view = replace(view, surface=chosen[0], surface_params=chosen[1], start=None, noise=None)
        except (ValueError, TypeError) as exc:
            problem("surface", text, str(exc), view.surface_object().title)
    surf = view.surface_object()
    (x0, x1), (y0, y1) = surf.domain

    if (text := get("start")) is not None:
        try:
            parts = text.split(",")
            if len(parts) != 2:
                raise ValueError("expected two numbers x,y")
            x, y = _finite(parts[0]), _finite(parts[1])
            if not (x0 <= x <= x1 and y0 <= y <= y1):
                raise ValueError(f"outside the surface's domain [{x0:g}, {x1:g}] x [{y0:g}, {y1:g}]")
            view = replace(view, start=(x, y))
        except ValueError as exc:
            problem("start", text, str(exc), f"the surface's start {surf.start}" if view.start is None
                    else f"the lesson's start {view.start}")
    if (text := get("steps")) is not None:
        try:
            view = replace(view, steps=_whole(text, MIN_STEPS, MAX_STEPS))
        except ValueError as exc:
            problem("steps", text, str(exc), str(view.steps))
    if (text := get("noise")) is not None:
        try:
            noise = _finite(text)
            if not 0.0 <= noise <= MAX_NOISE:
                raise ValueError(f"must be from 0 to {MAX_NOISE:g}")
            view = replace(view, noise=noise)
        except ValueError as exc:
            problem("noise", text, str(exc), f"the surface's {surf.noise:g}" if view.noise is None
                    else f"the lesson's {view.noise:g}")
    if (text := get("seed")) is not None:
        try:
            view = replace(view, seed=_whole(text, 0, MAX_SEED))
        except ValueError as exc:
            problem("seed", text, str(exc), str(view.seed))
    if (text := get("step")) is not None:
        try:
            step = _finite(text)
            if step != int(step) or step < 0:
                raise ValueError(f"{text!r} is not a step: steps are whole numbers from 0 to {view.steps:,}")
            if step > view.steps:
                raise ValueError(f"{text!r} is past the last step, {view.steps:,}")
            view = replace(view, step=int(step))
        except ValueError as exc:
            problem("step", text, str(exc), str(min(view.step, view.steps)))
    if (text := get("show")) is not None:
        wanted = {s.strip().lower() for s in text.split(",") if s.strip()}
        unknown = sorted(wanted - set(SHOW_OPTIONS))
        if unknown:
            problem("show", text, f"unknown option(s) {', '.join(unknown)[:60]} (valid: {', '.join(SHOW_OPTIONS)})",
                    "the known ones")
        view = replace(view, show=frozenset(wanted & set(SHOW_OPTIONS)))

    raw_runs = params.get("run")
    if raw_runs is not None:
        texts = [raw_runs] if isinstance(raw_runs, str) else list(raw_runs)
        if len(texts) > MAX_RUNS:
            messages.append(f"`run`: {len(texts)} runs given, at most {MAX_RUNS}; using the first {MAX_RUNS}.")
            texts = texts[:MAX_RUNS]
        runs = []
        for i, text in enumerate(texts, 1):
            text = str(text)
            try:
                if len(text) > _MAX_TEXT:
                    raise ValueError("too long")
                spec = parse_run(text)
                _check_ranges(spec)
                if spec.schedule is not None:  # what torch refuses only over the link's steps
                    check_run(spec.schedule, spec.hyper, view.steps)
                runs.append(spec)
            except (ValueError, TypeError) as exc:
                problem(f"run #{i}", text, str(exc), "no run in its place")
        if not runs:
            messages.append("`run`: no valid run given; using the default four runs.")
        view = replace(view, runs=tuple(runs))
    if view.step > view.steps:  # a lesson's step, past the steps the link asks for
        view = replace(view, step=view.steps)
    return view, messages
