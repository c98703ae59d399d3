"""Lessons: ready-made views, each with two or three sentences on what to look at and what it shows.

Each :class:`Lesson` is a complete :class:`~optiviz.share.View` (surface, start, steps, noise, runs, the
step the chart opens paused at) plus its text. A lesson opens from the app's Lessons menu or from a link,
``?lesson=<id>`` (``share.parse_view`` reads it); every number a text states is checked against the engine
by ``tests/test_lessons.py``, as the surfaces' descriptions are by ``tests/test_surfaces.py``.

To add one: append a :func:`_lesson` to ``LESSONS`` (a new id, its view, its text), add a test of its claims
to ``tests/test_lessons.py``, and list it in ``docs/lessons.md`` (a test keeps that list in step).

No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ._engine import RunSpec, Scenario, Simulation, run_scenario
from .schedules import Schedule
from .share import View, view_to_query

__all__ = ["LESSONS", "Lesson", "get", "ids"]


@dataclass(frozen=True)
class Lesson:
    """A ready-made view and what to look at in it.

    ``id``: the name in links (``?lesson=<id>``); ``title``: the menu's entry; ``text``: two or three
    sentences (Markdown) on what to look at and what it shows; ``view``: the whole view it opens, resolved
    (every field set), with ``view.step`` the step the chart opens paused at.
    """

    id: str
    title: str
    text: str
    view: View

    @property
    def query(self) -> dict[str, str | list[str]]:
        """The lesson's full link as query parameters: ``lesson=<id>`` and every setting of its view."""
        return view_to_query(replace(self.view, lesson=self.id))

    def link(self, base: str = "") -> str:
        """The short link, ``<base>?lesson=<id>``."""
        return f"{base}?lesson={self.id}"

    def scenario(self) -> Scenario:
        """What the lesson's view simulates."""
        v = self.view
        return Scenario.create(v.surface_object(), v.runs, start=v.start, steps=v.steps, noise=v.noise, seed=v.seed)

    def simulate(self) -> Simulation:
        return run_scenario(self.scenario())

    def matches(self, view: View) -> bool:
        """Whether ``view`` still simulates what the lesson does: surface, start, steps, noise, seed and runs
        (the step shown and the chart options may differ: playing the chart is not changing the lesson)."""
        return _settings(view) == _settings(self.view)


def _settings(view: View) -> tuple:
    v = view.resolved()
    return (v.surface, tuple(sorted(v.surface_params)), v.expression, v.domain, v.minimum, tuple(map(float, v.start)),
            v.steps, float(v.noise), v.seed, v.runs)


def _lesson(id: str, title: str, text: str, *, surface: str, runs: tuple[RunSpec, ...], start: tuple[float, float],
            steps: int, step: int, noise: float = 0.0, seed: int = 0, show: tuple[str, ...] = ("moments",),
            **surface_params: Any) -> Lesson:
    view = View(surface=surface, surface_params=tuple(sorted((k, float(x)) for k, x in surface_params.items())),
                start=(float(start[0]), float(start[1])), steps=steps, noise=float(noise), seed=seed, runs=runs,
                show=frozenset(show), step=step)
    return Lesson(id, title, " ".join(text.split()), view)


LESSONS: tuple[Lesson, ...] = (
    _lesson(
        "bias-correction", "Bias correction in the first ten steps",
        """Look at the first ten steps (the chart opens at step 10): with torch's bias correction every step moves
        each coordinate by η = 0.2, while without it mₜ is only about (1 − 0.9ᵗ) of the gradient and √vₜ only
        about √(1 − 0.999ᵗ) of its size, so the steps are 3.2η at step 1 and grow to 5.7η. Play on: the uncorrected run
        flies past the minimum (1, 3) after step 10 and swings 5 units beyond it before it comes back, while the
        corrected one closes in steadily. The first-moment panels show the corrected run's mₜ (solid) and m̂ₜ
        (dotted); the uncorrected run has no m̂ₜ: it steps with mₜ itself.""",
        surface="booth", start=(-8.0, -8.0), steps=200, step=10,
        runs=(RunSpec("adam", lr=0.2), RunSpec("adam", lr=0.2, bias_correction=False)),
    ),
    _lesson(
        "eps-inside-sqrt", "ε inside or outside the square root",
        """Both runs use ε = 0.001 and start a hair off the saddle's ridge (y = 0.00001), where the sideways
        gradient is only 0.00002. With ε outside the root (PyTorch, the Adam paper) only gradients below ε are
        damped, so within ten steps the run moves sideways by nearly η a step and leaves the ridge (|y| > 0.1) at
        step 14; with ε inside, as Keras, optax and many tutorials write it, √(v̂ + ε) ≥ √ε ≈ 0.03 damps every
        gradient below 0.03, a threshold thirty times higher, so at step 10 its sideways step is over 100 times
        smaller and it slides on along the ridge until step 39. At the default ε = 1e-8 the same happens, to
        gradients below 1e-4 instead of 1e-8.""",
        surface="saddle", start=(-1.8, 1e-5), steps=150, step=20,
        runs=(RunSpec("adam", lr=0.01, eps=1e-3), RunSpec("adam", lr=0.01, eps=1e-3, eps_inside_sqrt=True)),
    ),
    _lesson(
        "beta2", "β₂ = 0.9 or 0.999 with noisy gradients",
        """Every gradient here carries noise (σ = 0.3). With β₂ = 0.9, v̂ averages only the last ten or so squared
        gradients, so each noisy gradient moves it: the effective step size (its panels) jumps by about 5% from one
        step to the next, and near the minimum the run jitters with steps some 40 times longer and over ten times
        higher in f. With torch's β₂ = 0.999, v̂ averages about a thousand steps and still remembers the steep
        start, so its steps near the minimum are small and steady.""",
        surface="booth", start=(-8.0, -8.0), steps=1000, step=500, noise=0.3, seed=0,
        runs=(RunSpec("adam", lr=0.2, betas=(0.9, 0.9)), RunSpec("adam", lr=0.2)),
    ),
    _lesson(
        "ill-conditioned", "Momentum, RMSProp and Adam in a narrow bowl (κ = 50)",
        """The bowl is 50 times more curved in y than in x, and the gradient points mostly across it: SGD with
        momentum follows it and swings back and forth in y (15 crossings of y = 0 in its first 100 steps) while
        its momentum builds up along x. RMSProp and Adam divide each coordinate by its own gradient scale, so
        their first ten steps are as long in x as in y (a diagonal) and they hardly cross y = 0; all three get
        within 0.1 of the minimum by step 100. Turn the bowl by 45° (rotation) and the per-coordinate scaling no
        longer lines up with it: RMSProp and Adam then take 4 to 6 times as many steps, momentum just as many.""",
        surface="quadratic", kappa=50.0, angle=0.0, start=(-5.0, -2.0), steps=300, step=25,
        runs=(RunSpec("sgd", lr=0.02, momentum=0.9), RunSpec("rmsprop", lr=0.05), RunSpec("adam", lr=0.1)),
    ),
    _lesson(
        "sgd-zigzag", "SGD's zig-zag, with and without momentum",
        """Plain SGD at η = 0.15, near its limit 2/(κλ) = 0.2, overshoots the steep direction at every step: its
        path crosses the valley floor at every one of its first 50 steps while it creeps along the valley. With
        momentum μ = 0.9 and η ten times smaller, the buffer sums the gradients: across the valley they alternate
        in sign and cancel, along it they add up, so the path crosses the floor only about every eight steps (6
        times in 50) and reaches the minimum sooner (within 0.1 at step 92, plain SGD at step 131).""",
        surface="quadratic", kappa=50.0, angle=30.0, start=(-5.0, -2.0), steps=300, step=20,
        runs=(RunSpec("sgd", lr=0.15), RunSpec("sgd", lr=0.015, momentum=0.9)), show=("moments", "arrows"),
    ),
    _lesson(
        "adagrad-shrinks", "AdaGrad's step only shrinks",
        """Watch the effective step size (its panels): on Rosenbrock's steep wall AdaGrad's sum of squared gradients
        fills up and its effective step falls 7 to 13 times within ten steps; the sum never forgets, so its
        step only shrinks, stays that small on the flat valley floor, and after 2,000 steps AdaGrad is still 0.57
        from the minimum (1, 1). RMSProp divides by a running average instead, which forgets the wall: its
        effective step grows back 3 to 8 times (from step 10 to step 500), and it ends 0.12 from (1, 1).""",
        surface="rosenbrock", start=(-1.5, 2.0), steps=2000, step=500,
        runs=(RunSpec("adagrad", lr=1.0), RunSpec("rmsprop", lr=5e-3)),
    ),
    _lesson(
        "amsgrad", "AMSGrad keeps the largest vₜ",
        """Both start high on Rosenbrock's wall, where the gradients are in the hundreds. AMSGrad's max_exp_avg_sq
        (dashed, second-moment panels) keeps the largest vₜ it has seen: it is set in the first 40 steps and never
        changes after, so its effective step grows only by the bias correction (3 times from step 100 to 3,000),
        and it is still 0.18 from the minimum (1, 1) at the end. Adam's vₜ forgets the wall over about
        1/(1 − β₂) = 1,000 steps: its effective step grows 13 times, and it gets within 0.01 of (1, 1).""",
        surface="rosenbrock", start=(-2.0, 3.0), steps=3000, step=1500,
        runs=(RunSpec("adam", lr=0.05), RunSpec("adam", lr=0.05, amsgrad=True)),
    ),
    _lesson(
        "adamw-vs-l2", "AdamW or Adam with L2 weight decay",
        """Adam's weight_decay = 0.3 (L2) adds 0.3·θ to the gradient before Adam divides by √v̂, so it minimises
        f + 0.15‖θ‖² and comes to rest exactly at that function's minimum, (1.10, 2.84), near Booth's own (1, 3).
        AdamW with the same 0.3 shrinks θ by the factor 1 − 0.3η outside Adam's scaling, against gradient steps
        that Adam has normalised to at most about η: on a surface with gradients this large the same 0.3 pulls much
        harder, and AdamW stays nearer the origin, around (1.45, 2.1), trembling and still creeping outwards
        after 3,000 steps (the chart opens at the end).""",
        surface="booth", start=(-8.0, -8.0), steps=3000, step=3000,
        runs=(RunSpec("adam", lr=0.2, weight_decay=0.3), RunSpec("adamw", lr=0.2, weight_decay=0.3)),
    ),
    _lesson(
        "saddle-noise", "Escaping a saddle with gradient noise",
        """Both runs start exactly on the saddle's ridge, y = 0, where the gradient has no y part: without noise
        (set σ to 0) both slide into the saddle point (0, 0) and stay there for ever. With σ = 0.1 the noise nudges
        y off 0, and since f curves down in y each nudge grows: plain SGD leaves the ridge (|y| > 1) at step 54,
        and Adam, which scales the tiny y gradient up to η-sized steps, already at step 20.""",
        surface="noisy_saddle", start=(-1.8, 0.0), steps=200, step=40, noise=0.1, seed=0,
        runs=(RunSpec("sgd", lr=0.05), RunSpec("adam", lr=0.05)),
    ),
    _lesson(
        "warmup", "Warm-up rescues Adam at a large η",
        """Both runs use Adam at η = 0.5 from (−1.5, −1.5) on Goldstein-Price. Adam's first steps are η-sized
        whatever the gradient, so the run without warm-up jumps 0.5 in each coordinate at step 1, carries its
        momentum across the global minimum's basin and settles in the local minimum (1.2, 0.8), where f = 840
        (within 0.01 of it at step 31). With LinearLR warming η up from 0.005 to 0.5 over the first 100 steps (the
        chart under the contour), the first steps are a hundred times shorter, m̂ₜ and v̂ₜ learn the slope first,
        and the run reaches the global minimum (0, −1), where f = 3 (within 0.1 at step 90).""",
        surface="goldstein_price", start=(-1.5, -1.5), steps=300, step=10,
        runs=(RunSpec("adam", lr=0.5),
              RunSpec("adam", lr=0.5, schedule=Schedule("LinearLR", start_factor=0.01, total_iters=100))),
    ),
    _lesson(
        "cosine-vs-constant", "Cosine annealing or a constant η at the end of a run",
        """Every gradient carries noise (σ = 1) on Booth, and both Adam runs start at η = 0.2. With η constant the
        run reaches the minimum's neighbourhood and then keeps jumping about it: over the last 100 steps it stays
        a median 0.08 away, and it ends with f − f* = 0.0063. CosineAnnealingLR lowers η along half a cosine to
        almost 0 at step 1000 (the chart under the contour), and its steps shrink with η: it ends 0.0093 from
        the minimum with f − f* = 0.00016, about 40 times lower, though over steps 400 to 500, with η still at
        least 0.1, it was no closer than the constant run.""",
        surface="booth", start=(-8.0, -8.0), steps=1000, step=900, noise=1.0, seed=0,
        runs=(RunSpec("adam", lr=0.2), RunSpec("adam", lr=0.2, schedule=Schedule("CosineAnnealingLR", T_max=1000))),
    ),
    _lesson(
        "onecycle-beta1", "OneCycleLR cycles β₁ too, and m̂ₜ with it",
        """Both Adam runs follow OneCycleLR on a noisy Booth (σ = 1): η rises from 0.008 to 0.2 at step 300 and
        falls to almost 0 by step 1000. By torch's default (cycle_momentum) β₁ moves against η, from 0.95 down
        to 0.85 at the peak and back to 0.95 (the chart under the contour), so m̂ₜ averages about 7 gradients
        where the steps are longest and about 20 at the ends; torch corrects it with the step's own β₁, as
        1 − β₁ᵗ. In the moment panels its m̂ₜ jitters about 30% more from step to step around the peak than
        that of the run with β₁ fixed at 0.9 (cycle_momentum=False), and about half as much over the last 100
        steps.""",
        surface="booth", start=(-8.0, -8.0), steps=1000, step=300, noise=1.0, seed=0,
        runs=(RunSpec("adam", lr=0.2, schedule=Schedule("OneCycleLR", max_lr=0.2, total_steps=1000)),
              RunSpec("adam", lr=0.2, schedule=Schedule("OneCycleLR", max_lr=0.2, total_steps=1000,
                                                        cycle_momentum=False))),
    ),
)

_BY_ID = {lesson.id: lesson for lesson in LESSONS}


def ids() -> list[str]:
    """The lessons' ids, in menu order."""
    return list(_BY_ID)


def get(lesson_id: str) -> Lesson:
    """The lesson called ``lesson_id``; ``ValueError`` naming the valid ones otherwise."""
    lesson = _BY_ID.get(lesson_id) if isinstance(lesson_id, str) else None
    if lesson is None:
        raise ValueError(f"Unknown lesson {lesson_id!r}; valid lessons: {', '.join(_BY_ID)}")
    return lesson
