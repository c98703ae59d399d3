"""The app's Streamlit layer: session state, sidebar controls, cached computations.

``app.py`` calls these and places the figures; everything below ``optiviz.ui`` is
Streamlit-free. Settings live in ``st.session_state`` under stable keys (``surface``,
``start_x``, ``r<id>.<hyperparameter>`` ...), so no interaction loses them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from urllib.parse import quote, urlencode

import numpy as np
import streamlit as st

import surfaces

from . import _text, chart, export, figures, lessons, previews, schedules, share
from . import controls as C
from ._engine import MAX_STEPS, RunSpec, Scenario, Simulation, default_runs, run_scenario, warmup
from .explain import explain
from .optimizers import OPTIMIZERS
from .summary import markdown_text, summary_cards

MAX_RUNS = share.MAX_RUNS


# ---------------------------------------------------------------- the server process


def _tune_allocator() -> None:
    """Keep the server's memory from creeping up under many sessions (glibc only; elsewhere nothing).

    glibc gives every thread that allocates its own arena (up to 8 per core), and raises its threshold for
    serving a large block with mmap each time such a block is freed, after which the charts' large strings
    and arrays come from the arenas and leave them fragmented. Rendering 800 random views on four threads
    grows the process to ~480 MB, and it keeps creeping; with two arenas and a fixed threshold (large blocks
    always mmap'd, returned to the system when freed) it stays at ~375 MB."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_mmap_threshold, m_arena_max = -3, -8  # from malloc.h
    mallopt(m_arena_max, 2)
    mallopt(m_mmap_threshold, 128 * 1024)


_tune_allocator()


# ---------------------------------------------------------------- cached computations

@st.cache_resource(show_spinner="Compiling the optimizer kernels (once per server start, a few seconds)…")
def ensure_compiled() -> bool:
    """Do, once per process and before any session goes on, what the first reruns would otherwise each
    start at the same moment: compile or load Numba's kernels, and build the default view's figures (the
    surface image, the subplot grids, the JSON), which is what a class opening the app together asks for
    first. Every session calls this first; ``st.cache_resource`` makes the others wait for the one that
    runs it, and they then find the default view in the caches.

    Then freeze the garbage collector's view of what exists by now (modules, Numba's and plotly's
    machinery: ~170,000 objects that live as long as the process). Streamlit runs a full collection after
    every script run (``runner.postScriptGC``); over this heap that takes ~60 ms of each slider move, and
    after ``gc.freeze()`` it scans only what later runs allocate."""
    warmup()
    surface = surfaces.get(share.View().surface)
    scenario = Scenario.create(surface, default_runs(surface), steps=share.View().steps)
    labels = tuple(run_label(spec) for spec in scenario.runs)
    colors = tuple(figures.run_colors([spec.optimizer for spec in scenario.runs]))
    dashes = tuple(figures.run_dashes([spec.optimizer for spec in scenario.runs]))
    figure_texts(scenario, labels, colors, False, True, dashes, False)  # as app.py asks for it
    _previews_of(scenario, 0)  # run 1 is the one edited at first
    gc.freeze()
    return True


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs={Scenario: lambda s: s.key})
def simulate_cached(scenario: Scenario) -> Simulation:
    """A few recent simulations (up to ~6 MB each at 10,000 steps): they cost milliseconds to redo, and the
    figures made from them, which cost more, have their own cache."""
    return run_scenario(scenario)


@st.cache_data(max_entries=32, show_spinner=False,
               hash_funcs={surfaces.Surface: lambda s: (s.name, s.params)})
def surface_grid_cached(surface: surfaces.Surface) -> figures.SurfaceGrid:
    return figures.surface_grid(surface)


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs={Scenario: lambda s: s.key})
def figure_texts(scenario: Scenario, labels: tuple[str, ...], colors: tuple[str, ...], arrows: bool,
                 moments: bool, dashes: tuple[str, ...] | None = None, focus: bool = False) -> tuple[str, str]:
    """The animated chart's and the loss chart's figures as JSON text, ready for ``chart.plotly_chart``
    (``dashes``: each run's line pattern; ``focus``: the classroom layout). Cached: scrubbing a slider back to a
    value seen before redraws from the cache (and Streamlit's message cache spares resending it)."""
    sim = simulate_cached(scenario)
    grid = surface_grid_cached(sim.surface)
    traj = figures.create_trajectory_figure(sim, labels=labels, colors=colors, grid=grid, arrows=arrows,
                                            moments=moments, dashes=dashes, focus=focus)
    loss = figures.create_loss_figure(sim, labels=labels, colors=colors, dashes=dashes)
    return chart.figure_json(traj), chart.figure_json(loss)


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs={Scenario: lambda s: s.key})
def schedule_text(scenario: Scenario, labels: tuple[str, ...], colors: tuple[str, ...],
                  dashes: tuple[str, ...] | None = None) -> str | None:
    """The schedule chart's figure as JSON text (η_t, and the cycled momentum or β₁, per step), or None where
    no run has a schedule."""
    fig = figures.create_schedule_figure(simulate_cached(scenario), labels=labels, colors=colors, dashes=dashes)
    return None if fig is None else chart.figure_json(fig)


@st.cache_data(max_entries=32, show_spinner=False)
def _preview_family(key: tuple, _scenario: Scenario, _spec: RunSpec, name: str) -> dict:
    """One slider's previews: a few hundred runs, packed to ~30 KB. Keyed by ``previews.family_key``, the
    scenario without its runs and the edited run without that slider's value: moving another run, or
    releasing this slider, leaves the families that do not depend on it in the cache (after η is released,
    η's own family is the same)."""
    return previews.family(_scenario, _spec, name)


def preview_data(settings: Settings) -> dict | None:
    """The previews of the run whose controls the sidebar shows, for ``chart.previews``; None if that run is
    not in the scenario (its settings are refused) or there is none."""
    rid = st.session_state.get("edit_run")
    if settings.scenario is None or rid not in settings.run_ids:
        return None
    k = settings.run_ids.index(rid)
    return {**_previews_of(settings.scenario, k), "color": settings.colors[k]}


def _previews_of(scenario: Scenario, k: int) -> dict:
    return previews.previews(scenario, k, families=lambda sc, spec, name: _preview_family(
        previews.family_key(sc, spec, name), sc, spec, name))


@st.cache_data(max_entries=8, show_spinner=False, hash_funcs={Scenario: lambda s: s.key})
def surface3d_text(scenario: Scenario, labels: tuple[str, ...], colors: tuple[str, ...]) -> str:
    """The 3D view's figure as JSON text (cached like :func:`figure_texts`: reruns that change nothing
    in the runs, a toggle or the Explain panel say, do not rebuild it)."""
    sim = simulate_cached(scenario)
    figure = figures.create_surface3d_figure(sim, labels=list(labels), colors=list(colors),
                                             grid=surface_grid_cached(sim.surface))
    return chart.figure_json(figure)


# ---------------------------------------------------------------- session state

def current_surface() -> surfaces.Surface:
    """The surface the sidebar has selected (with the quadratic's parameters; a typed function as last accepted)."""
    name = st.session_state["surface"]
    if name == "quadratic":
        return surfaces.get(name, kappa=st.session_state["kappa"], angle=st.session_state["angle"])
    if name == surfaces.EXPRESSION_NAME:
        _ensure_typed_state()
        return share.typed_surface(*st.session_state["typed_good"])
    return surfaces.get(name)


# ---------------------------------------------------------------- your function

#: Functions to start from: (label, text, domain, minimum, start).
TYPED_EXAMPLES = (
    ("A cliff: a drop of 6 across x = 0", "3*tanh(10*x) + 0.1*(x^2 + y^2)", ((-3.0, 3.0), (-3.0, 3.0)), None,
     (1.5, 1.5)),
    ("An absolute-value valley: Adam's sign-like steps", "abs(x - y) + 0.05*(x + y)^2", ((-3.0, 3.0), (-3.0, 3.0)),
     (0.0, 0.0), (-2.0, 0.5)),
    ("A narrow tilted valley", "50*(x - y)^2 + 0.5*(x + y - 1)^2", ((-2.0, 2.0), (-2.0, 2.0)), (0.5, 0.5),
     (-1.5, 1.0)),
    ("A plateau around a well: SGD crawls", "1 - exp(-(x^2 + y^2))", ((-3.0, 3.0), (-3.0, 3.0)), (0.0, 0.0),
     (2.5, 2.0)),
    ("Rosenbrock, typed", "(1-x)^2 + 100*(y-x^2)^2", ((-2.0, 2.0), (-1.0, 3.0)), (1.0, 1.0), (-1.5, 2.0)),
)
_TYPED_KEYS = ("typed_x0", "typed_x1", "typed_y0", "typed_y1", "typed_min_x", "typed_min_y")


def _store_typed(text: str, domain, minimum) -> None:
    """A typed function into the sidebar's boxes, and as the one drawn."""
    ss = st.session_state
    (x0, x1), (y0, y1) = domain
    ss["typed_text"] = text
    ss["typed_x0"], ss["typed_x1"], ss["typed_y0"], ss["typed_y1"] = float(x0), float(x1), float(y0), float(y1)
    ss["typed_min_x"], ss["typed_min_y"] = (None, None) if minimum is None else (float(minimum[0]), float(minimum[1]))
    ss["typed_good"] = (text, ((float(x0), float(x1)), (float(y0), float(y1))),
                        None if minimum is None else (float(minimum[0]), float(minimum[1])))
    ss.pop("typed_error", None)


def _ensure_typed_state() -> None:
    if "typed_good" not in st.session_state:
        _, text, domain, minimum, _ = TYPED_EXAMPLES[0]
        _store_typed(text, domain, minimum)


def _on_typed_change() -> None:
    """The function's text, domain or minimum edited: drawn if it is a function, else the message under the box
    and the last good one stays (with everything else)."""
    ss = st.session_state
    mx, my = ss.get("typed_min_x"), ss.get("typed_min_y")
    minimum = None if mx is None and my is None else (mx, my)
    domain = ((ss.get("typed_x0"), ss.get("typed_x1")), (ss.get("typed_y0"), ss.get("typed_y1")))
    text = ss.get("typed_text") or ""
    try:
        if minimum is not None and None in minimum:
            raise surfaces.ExpressionError("the minimum needs both x and y (or neither)")
        if None in domain[0] or None in domain[1]:
            raise surfaces.ExpressionError("the domain needs all four numbers")
        surf = share.typed_surface(text, domain, minimum)
    except ValueError as exc:
        ss["typed_error"] = str(exc)
        return
    ss["typed_good"] = (text, surf.domain, surf.minima[0] if surf.minima else None)
    ss.pop("typed_error", None)
    (x0, x1), (y0, y1) = surf.domain
    if not (x0 <= ss["start_x"] <= x1 and y0 <= ss["start_y"] <= y1):
        ss["start_x"], ss["start_y"] = float(surf.start[0]), float(surf.start[1])
        ss["notice"] = "The start was outside the new domain: moved to its default."


def _on_typed_example() -> None:
    ss = st.session_state
    label = ss.get("typed_example")
    for name, text, domain, minimum, start in TYPED_EXAMPLES:
        if name == label:
            _store_typed(text, domain, minimum)
            _on_surface_change()  # the recommended learning rates
            ss["start_x"], ss["start_y"] = start
    ss["typed_example"] = None


def _typed_controls() -> None:
    """The typed function's box (its message under it), its domain and its optional minimum."""
    ss = st.session_state
    _ensure_typed_state()
    st.selectbox("start from an example", [name for name, *_ in TYPED_EXAMPLES], index=None, key="typed_example",
                 on_change=_on_typed_example, placeholder="an example…",
                 help="Fills in the function, its domain and its minimum (and the runs' recommended rates).")
    st.text_area("f(x, y) =", key="typed_text", on_change=_on_typed_change, max_chars=_expr_limit(), height=80,
                 help="x, y, numbers, + − * /, ^ or ** (powers), parentheses, pi, e, and sin cos tan exp log sqrt "
                      "abs tanh sinh cosh arctan (one argument), min max (two). Ctrl+Enter or a click outside "
                      "applies it. The formula at the top of the page shows how it was read.")
    if ss.get("typed_error"):
        st.caption(f":red[{markdown_text(ss['typed_error'])}. The last function that worked stays drawn.]")
    cx0, cx1 = st.columns(2)
    cx0.number_input("x from", key="typed_x0", format="%g", on_change=_on_typed_change)
    cx1.number_input("x to", key="typed_x1", format="%g", on_change=_on_typed_change)
    cy0, cy1 = st.columns(2)
    cy0.number_input("y from", key="typed_y0", format="%g", on_change=_on_typed_change)
    cy1.number_input("y to", key="typed_y1", format="%g", on_change=_on_typed_change)
    mx, my = st.columns(2)
    mx.number_input("minimum x", key="typed_min_x", value=None, format="%g", on_change=_on_typed_change,
                    placeholder="optional", help="A known global minimum (optional): the loss chart then shows "
                                                 "f − f* and the distance to it.")
    my.number_input("minimum y", key="typed_min_y", value=None, format="%g", on_change=_on_typed_change,
                    placeholder="optional")


def _expr_limit() -> int:
    from surfaces import _expr

    return _expr.MAX_LENGTH


def _run_key(rid: int, name: str) -> str:
    return f"r{rid}.{name}"


def _store_run(rid: int, spec: RunSpec) -> None:
    """Write a RunSpec's values into the widget keys of run ``rid``."""
    ss = st.session_state
    for key in [k for k in ss if isinstance(k, str) and k.startswith(f"r{rid}.")]:
        del ss[key]
    ss[_run_key(rid, "optimizer")] = spec.optimizer
    for param in spec.spec.params:
        value = spec.hyper[param.name]
        if param.parts:
            for part, v in zip(param.parts, value, strict=True):
                ss[_run_key(rid, part.name)] = v
        else:  # a blank param's default (None, inf) is an empty box
            ss[_run_key(rid, param.name)] = None if param.blank and value == param.default else value
    _store_schedule(rid, spec.schedule)


def _store_schedule(rid: int, schedule: schedules.Schedule | None) -> None:
    """Write a schedule's name and keywords into run ``rid``'s schedule widgets ("none": no schedule)."""
    ss = st.session_state
    for key in [k for k in ss if isinstance(k, str) and k.startswith(f"r{rid}.sched.")]:
        del ss[key]
    ss[_run_key(rid, "schedule")] = "none" if schedule is None else schedule.name
    if schedule is None:
        return
    for key, value in schedule.kwargs.items():
        kind = schedules.FIELDS[key][2]
        if kind == "list":
            value = ", ".join(str(v) for v in value)
        elif kind == "schedules":
            value = ",\n".join(schedules.format_schedule(s) for s in value)
        ss[_run_key(rid, f"sched.{key}")] = value


def _schedule_from_state(rid: int) -> schedules.Schedule | None:
    """The run's schedule from its widgets (None: "none"); ``ValueError`` with the message otherwise."""
    ss = st.session_state
    name = ss.get(_run_key(rid, "schedule"), "none")
    if name == "none":
        return None
    kwargs = {}
    for key in schedules.KEYWORDS[name]:
        wkey = _run_key(rid, f"sched.{key}")
        if wkey not in ss:
            continue
        value, kind = ss[wkey], schedules.FIELDS[key][2]
        if kind == "list":
            value = [_whole_number(key, part) for part in str(value).split(",") if part.strip()]
        elif kind == "schedules":
            text = str(value).strip()
            value = [schedules.parse_schedule(part) for part in _text.split_top_level(text)] if text else []
        kwargs[key] = value
    return schedules.Schedule(name, **kwargs)


def _whole_number(key: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{key}: {text.strip()!r} is not a whole number (write them as 300, 600)") from None


def _add_run(spec: RunSpec, *, edit: bool = True) -> None:
    """Append a run with ``spec``'s settings; the sidebar then shows its controls (unless ``edit=False``)."""
    ss = st.session_state
    if len(ss["run_ids"]) >= MAX_RUNS:
        return
    rid = ss["next_run_id"]
    ss["next_run_id"] = rid + 1
    ss["run_ids"] = [*ss["run_ids"], rid]
    _store_run(rid, spec)
    if edit:
        ss["edit_run"] = rid


def reset_runs() -> None:
    ss = st.session_state
    for rid in ss.get("run_ids", []):
        for key in [k for k in ss if isinstance(k, str) and k.startswith(f"r{rid}.")]:
            del ss[key]
    ss["run_ids"] = []
    for spec in default_runs(current_surface()):
        _add_run(spec, edit=False)


def init_state() -> None:
    """A new session starts from the link it was opened with (``st.query_params``), and from the
    defaults (Rosenbrock, its start, the four default runs) for whatever the link does not set.
    Problems with the link are kept in ``link_messages`` for the page to show once."""
    ss = st.session_state
    if "run_ids" in ss:
        return
    view, messages = share.parse_view({k: st.query_params.get_all(k) for k in st.query_params})
    ss["tolerance"] = 1e-2
    ss["next_run_id"] = 0
    apply_view(view)
    if messages:
        ss["link_messages"] = messages


def apply_view(view: share.View) -> None:
    """Set the whole view into the session, as a link sets it: surface, start, steps, noise, seed, runs (new
    ones in place of the old), what the chart shows, the step it opens at, and the lesson whose text goes with
    it (None: no lesson)."""
    ss = st.session_state
    view = view.resolved()
    params = dict(view.surface_params)
    ss["surface"] = view.surface
    if view.surface == surfaces.EXPRESSION_NAME:
        _store_typed(view.expression, view.domain, view.minimum)
    ss["kappa"] = float(params.get("kappa", surfaces.QUADRATIC_DEFAULTS["kappa"]))
    ss["angle"] = float(params.get("angle", surfaces.QUADRATIC_DEFAULTS["angle"]))
    ss["start_x"], ss["start_y"] = float(view.start[0]), float(view.start[1])
    ss["steps"] = view.steps
    ss["noise"] = float(view.noise)
    ss["seed"] = view.seed
    ss["view_step"] = view.step
    ss.pop("_chart_step", None)  # a step from the link, not the chart's
    ss["show_moments"] = "moments" in view.show
    ss["show_arrows"] = "arrows" in view.show
    ss["show_3d"] = "3d" in view.show
    ss["show_focus"] = "focus" in view.show
    for rid in ss.get("run_ids", []):
        for key in [k for k in ss if isinstance(k, str) and k.startswith(f"r{rid}.")]:
            del ss[key]
    ss["run_ids"] = []
    for spec in view.runs:
        _add_run(spec, edit=False)
    ss["edit_run"] = ss["run_ids"][0]
    ss.pop("explain_run", None)  # the runs are new: Explain starts on the first, with no "run gone" note
    ss["lesson"] = ss["lesson_pick"] = view.lesson


def current_view(settings: Settings) -> share.View:
    ss = st.session_state
    surf = current_surface()
    return share.View(
        surface=surf.name, surface_params=tuple(sorted(surf.parameters.items())),
        start=(float(ss["start_x"]), float(ss["start_y"])), steps=int(ss["steps"]), noise=float(ss["noise"]),
        seed=int(ss["seed"]), runs=settings.scenario.runs if settings.scenario else (),
        show=frozenset(name for name, key in (("moments", "show_moments"), ("arrows", "show_arrows"),
                                              ("3d", "show_3d"), ("focus", "show_focus")) if ss.get(key)),
        step=int(ss["view_step"]), lesson=ss.get("lesson"),
        **({"expression": surf.expression, "domain": surf.domain, "minimum": surf.minima[0] if surf.minima else None}
           if surf.expression else {}),
    )


# ---------------------------------------------------------------- lessons

def lesson_menu(parent=st, *, compact: bool = False) -> None:
    """The Lessons menu: choosing a lesson sets the whole view, as opening its link does. ``compact``: without
    its label above it (the focus layout's one line of controls)."""
    parent.selectbox("Lessons", lessons.ids(), index=None, key="lesson_pick", on_change=_open_picked_lesson,
                     format_func=lambda i: lessons.get(i).title, placeholder="Open a lesson: a ready-made view…",
                     help="Ready-made views of what introductions to Adam teach, each with what to look at. "
                     "Opening one replaces the surface, the start and the runs.", width=320 if compact else 420,
                     label_visibility="collapsed" if compact else "visible")


def _open_picked_lesson() -> None:
    picked = st.session_state.get("lesson_pick")
    if picked is not None:
        _open_lesson(picked)


def _open_lesson(lesson_id: str) -> None:
    lesson = lessons.get(lesson_id)
    apply_view(replace(lesson.view, lesson=lesson.id))
    st.session_state["notice"] = f"Lesson opened: {lesson.title}."


def _close_lesson() -> None:
    st.session_state["lesson"] = st.session_state["lesson_pick"] = None


def lesson_box(view: share.View) -> None:
    """The open lesson's text, kept while its settings are unchanged; after a change, with a note saying so,
    a button back to the lesson's own view, and one to close the text. Nothing without an open lesson."""
    lesson_id = st.session_state.get("lesson")
    if lesson_id is None:
        return
    lesson = lessons.get(lesson_id)
    with st.container(border=True, key="lesson_box"):
        st.markdown(f"**Lesson: {markdown_text(lesson.title)}**")
        st.markdown(markdown_text(lesson.text))
        if not lesson.matches(view):
            st.caption(":orange[You changed the lesson's settings: the text describes the lesson's own view.]")
        row = st.container(horizontal=True, gap="small", vertical_alignment="center")
        if not lesson.matches(view):
            row.button("Back to the lesson's view", key="lesson_reopen", on_click=_open_lesson, args=(lesson.id,),
                       icon=":material/undo:")
        row.button("Close the lesson", key="lesson_close", on_click=_close_lesson, icon=":material/close:")
        base = (st.context.url or "").split("?")[0]
        row.markdown(f"[Link to this lesson]({lesson.link(base)})")


def view_step(steps: int) -> int:
    """The step the chart shows (the URL's ``step=``), kept within the runs' ``steps``."""
    ss = st.session_state
    ss["view_step"] = max(0, min(int(ss.get("view_step", 0)), steps))
    return ss["view_step"]


def set_step_from_chart() -> None:
    """The chart stopped on a step (paused, stepped, scrubbed): Explain and the address follow it."""
    ss = st.session_state
    step = (ss.get("trajectory_chart") or {}).get("step")
    if isinstance(step, (int, float)) and not isinstance(step, bool) and math.isfinite(step):
        ss["view_step"] = ss["_chart_step"] = max(0, int(step))


def step_is_charts_own() -> bool:
    """Whether the step the page shows is the one the chart reported (not the Explain picker's or a link's)."""
    ss = st.session_state
    return ss.get("_chart_step") == ss.get("view_step")


def _set_step_from_explain() -> None:
    st.session_state["view_step"] = int(st.session_state["explain_step"])
    st.session_state.pop("_chart_step", None)


def sync_url(view: share.View) -> str:
    """Keep the address bar equal to the view (so copying it shares the view); return the link."""
    query = share.view_to_query(view) if view.runs else {}
    if st.session_state.get("_url_query") != query:
        st.query_params.from_dict(query)
        st.session_state["_url_query"] = query
    base = (st.context.url or "").split("?")[0]
    return base + "?" + urlencode(query, doseq=True, quote_via=quote, safe=":,/=") if query else base


def _on_surface_change() -> None:
    """A new surface: its start, its noise default, and its recommended learning rate for every run. (The
    quadratic's κ and rotation change none of these: how the same runs fare on another bowl is the point.)"""
    ss = st.session_state
    surf = current_surface()
    ss["start_x"], ss["start_y"] = float(surf.start[0]), float(surf.start[1])
    noise_changed = float(ss["noise"]) != float(surf.noise)
    ss["noise"] = float(surf.noise)
    for rid in ss["run_ids"]:
        opt = ss[_run_key(rid, "optimizer")]
        ss[_run_key(rid, "lr")] = OPTIMIZERS[opt].recommended_lr(surf)
    what = f"Start point, learning rates and gradient noise (σ = {surf.noise:g})" if noise_changed else \
        "Start point and learning rates"
    ss["notice"] = f"{what} set to the recommended values for {surf.title}."


def _on_optimizer_change(rid: int) -> None:
    ss = st.session_state
    opt = ss[_run_key(rid, "optimizer")]
    _store_run(rid, RunSpec(opt, lr=OPTIMIZERS[opt].recommended_lr(current_surface())))


def _duplicate_run(rid: int) -> None:
    spec = _spec_from_state(rid)[0]
    _add_run(spec if spec is not None else RunSpec(st.session_state[_run_key(rid, "optimizer")]))


def _remove_run(rid: int) -> None:
    ss = st.session_state
    ss["run_ids"] = [r for r in ss["run_ids"] if r != rid]
    for key in [k for k in ss if isinstance(k, str) and k.startswith(f"r{rid}.")]:
        del ss[key]


def start_from_click(point: object, domain: tuple[tuple[float, float], tuple[float, float]]
                     ) -> tuple[float, float] | None:
    """Where a click on the contour puts the start: the clicked grid point, clipped to the domain, with
    the digits float32 holds (the chart sends -0.800000011920929 for -0.8); None for anything else."""
    try:
        x, y = float(point["x"]), float(point["y"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    if not (np.isfinite(x) and np.isfinite(y)):
        return None
    (x0, x1), (y0, y1) = domain
    return float(np.clip(float(f"{x:.6g}"), x0, x1)), float(np.clip(float(f"{y:.6g}"), y0, y1))


def set_start_from_click() -> None:
    """Click callback of the main chart: a click on the contour moves the start point there."""
    ss = st.session_state
    start = start_from_click((ss.get("trajectory_chart") or {}).get("click"), current_surface().domain)
    if start is None:
        return
    ss["start_x"], ss["start_y"] = start
    ss["notice"] = f"Start moved to ({ss['start_x']:.3g}, {ss['start_y']:.3g})."


# ---------------------------------------------------------------- sidebar

def _spec_from_state(rid: int) -> tuple[RunSpec | None, str | None]:
    """The run's RunSpec from its widgets, or (None, torch's error message)."""
    ss = st.session_state
    opt = ss[_run_key(rid, "optimizer")]
    hyper = {}
    for param in OPTIMIZERS[opt].params:
        if param.parts:
            if all(_run_key(rid, part.name) in ss for part in param.parts):
                hyper[param.name] = tuple(ss[_run_key(rid, part.name)] for part in param.parts)
        elif _run_key(rid, param.name) in ss:
            value = ss[_run_key(rid, param.name)]
            hyper[param.name] = param.default if value is None and param.blank else value
    try:
        schedule = _schedule_from_state(rid)
        spec = RunSpec(opt, schedule=schedule, **hyper)
        if schedule is not None:  # what torch refuses only over the run's steps (OneCycleLR's total_steps)
            schedules.check_run(schedule, spec.hyper, int(ss.get("steps", 1)))
        return spec, None
    except ValueError as exc:
        message = str(exc)
        if message.startswith("Tried to step"):  # OneCycleLR's cycle is shorter than the run
            message += f": set total_steps to at least the run's {int(ss.get('steps', 1)):,} steps"
        return None, message


def run_label(spec: RunSpec) -> str:
    schedule = spec.schedule
    if schedule is not None and schedule.name in ("OneCycleLR", "CyclicLR"):  # they set the lr themselves
        parts = [f"{schedule.name} max_lr {C.fmt_number(schedule.kwargs['max_lr'])}"]
    else:
        parts = [f"lr {C.fmt_number(spec.lr)}" + ("" if schedule is None else f" {schedule.name}")]
    for name, value in spec.changed().items():
        if name == "lr":
            continue
        short = spec.spec.param(name).short or name
        if isinstance(value, bool):
            parts.append(short)
        elif isinstance(value, tuple):
            parts.append(f"{short} {'/'.join(C.fmt_number(v) for v in value)}")
        else:
            parts.append(f"{short} {C.fmt_number(value)}")
    return f"{spec.spec.title} ({', '.join(parts)})"


def _options(grid: tuple[float, ...], key: str) -> tuple[float, ...]:
    """The slider's grid, plus the current value where a link or a default put it between grid values."""
    value = st.session_state.get(key)
    if isinstance(value, float) and value not in grid:
        return tuple(sorted((*grid, value)))
    return grid


#: SVG stroke patterns of the runs' line patterns (figures.RUN_DASHES), as Plotly draws them at this width.
_DASH_ARRAYS = {"solid": "", "dash": "5,3", "dot": "1.5,2.5", "dashdot": "5,2.5,1.5,2.5", "longdash": "9,3",
                "longdashdot": "9,2.5,1.5,2.5"}


def _dot(color: str, dash: str | None = None) -> str:
    """A run's mark in text: a dot of its colour and, with ``dash``, a short sample of its line pattern (as the
    legend shows it)."""
    dot = f"<span style='color:{color};font-size:1.2em'>●</span>"
    if dash is None:
        return dot
    pattern = _DASH_ARRAYS.get(dash, "")
    line = (f"<svg width='22' height='8' viewBox='0 0 22 8' aria-label='{dash} line' role='img' "
            f"style='vertical-align:middle'><line x1='1' y1='4' x2='21' y2='4' stroke='{color}' stroke-width='2.5'"
            + (f" stroke-dasharray='{pattern}'" if pattern else "") + "/></svg>")
    return f"{dot}{line}"


#: The page's own CSS (``page_style``). Every number box is range-checked by :func:`number_input`, which
#: refuses an empty box, so the clear button Streamlit adds to a box that may be empty is hidden.
#: The formula and the summary table each come in two forms, and the width of their container picks one: on
#: a narrow screen the formula as inline math, which KaTeX breaks into lines at its + and − (display math is
#: never broken, and the longer formulas were cut off), and the table as one short paragraph per run (seven
#: columns do not fit a phone). On a phone, Explain's equations (the page's only expander) are set smaller, so that
#: the lines with the run's numbers fit; a longer one scrolls sideways (KaTeX's display box), never cut off.
_PAGE_CSS = """
[data-testid=stNumberInputClearButton] { display: none; }
.st-key-formula, .st-key-summary { container-type: inline-size; }
.st-key-formula_wide { overflow-x: auto; }
.st-key-formula_narrow, .st-key-summary_cards { display: none; }
.st-key-formula_narrow .katex { font-size: 1.12em; }
@container (max-width: 759px) {
  .st-key-formula_wide, .st-key-summary_table { display: none; }
  .st-key-formula_narrow, .st-key-summary_cards { display: flex; }
}
@media (max-width: 640px) {
  [data-testid=stMain] [data-testid=stExpanderDetails] .katex-display { font-size: 0.7em; }
}
"""
#: The focus (classroom) layout: less space above the page's first line, and the lesson's text beside the chart
#: a little smaller.
_FOCUS_CSS = """
[data-testid=stMainBlockContainer] { padding-top: 4rem; }  /* just under the header bar */
.st-key-lesson_box p { font-size: 0.92rem; line-height: 1.45; }
"""


def page_style(focus: bool = False) -> None:
    """optiviz's CSS for the page (style only: Streamlit puts it where it takes no space); ``focus``: the
    classroom layout's."""
    st.html(f"<style>{_PAGE_CSS}{_FOCUS_CSS if focus else ''}</style>")


def breakable_latex(latex: str) -> str:
    """A surface's formula as one line that KaTeX may break at its top-level operators: no ``aligned`` rows, and
    no ``\\left``/``\\right`` (which make what they enclose one unbreakable box)."""
    text = re.sub(r"\\(begin|end)\{aligned\}", "", latex).replace("&", "").replace("\\\\", " ")
    for size in ("left", "right"):
        text = re.sub(rf"\\{size}\s*([()\[\]])", r"\1", text)
    return " ".join(text.split())


def formula(parent=st) -> None:
    """The current surface's formula: as display math on wide screens, as inline math broken into lines on
    narrow ones (see ``_PAGE_CSS``)."""
    latex = current_surface().latex
    with parent.container(key="formula", gap=None):
        with st.container(key="formula_wide"):
            st.latex(latex, width="content")
        with st.container(key="formula_narrow"):
            st.markdown(f"$\\displaystyle {breakable_latex(latex)}$")


def summary_table(rows: Sequence[dict]) -> None:
    """The summary: a table on wide screens, a short paragraph per run on narrow ones (see ``_PAGE_CSS``).
    ``rows``: ``summary.display_rows``'."""
    with st.container(key="summary", gap=None):
        with st.container(key="summary_table"):
            # A static table: the interactive grid (st.dataframe) costs ~70 ms of every redraw for four rows.
            st.table(rows, hide_index=True, border="horizontal")
        with st.container(key="summary_cards"):
            st.markdown(summary_cards(rows))


def number_input(parent, label: str, key: str, lo: float, hi: float, none_ok: bool = False, **options) -> None:
    """``st.number_input`` whose range optiviz checks: a value outside [lo, hi], or a box left empty, keeps the
    value it had and says the range under the box. (With Streamlit's own bounds, such a value would silently
    become the box's minimum, and the range would show only on hover.) ``none_ok``: an empty box is a value,
    None (a hyperparameter whose reference default is None)."""
    ss = st.session_state
    valid = ss.setdefault("_valid_numbers", {})
    if _in_range(ss.get(key), lo, hi) or (none_ok and ss.get(key) is None):
        valid[key] = ss.get(key)
    parent.number_input(label, value=None, key=key, on_change=_check_number, args=(key, label, lo, hi, none_ok),
                        **options)
    problem = ss.get("_number_problems", {}).pop(key, None)
    if problem:
        parent.caption(f":red[{problem}]")


def _in_range(value, lo: float, hi: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and lo <= value <= hi


def _check_number(key: str, label: str, lo: float, hi: float, none_ok: bool = False) -> None:
    ss = st.session_state
    value = ss.get(key)
    if _in_range(value, lo, hi) or (none_ok and value is None):
        return
    kept = ss["_valid_numbers"][key]
    ss[key] = kept
    fmt = (lambda x: f"{x:,}") if isinstance(lo, int) and isinstance(hi, int) else C.fmt_number
    wanted = f"{label} takes a number from {fmt(lo)} to {fmt(hi)}"
    ss.setdefault("_number_problems", {})[key] = (
        f"{wanted}; it stays {fmt(kept)}." if value is None else f"{wanted}, not {fmt(value)}; it stays {fmt(kept)}.")


#: The slider grids named by ``Param.grid``.
_GRIDS = {"lr": C.LR_GRID, "beta": C.BETA_GRID, "eps": C.EPS_GRID}


def _param_widget(param, k, select_slider, checkbox, number) -> None:
    """The widget(s) of one hyperparameter, from its metadata (``optiviz.optimizers.Param``): a slider on its
    grid, a checkbox for a flag, a range-checked number box otherwise; one per component of a tuple."""
    for part in param.parts or (param,):
        if part.flag:
            checkbox(part.label, key=k(part.name), help=part.help)
        elif part.grid:
            select_slider(part.label, _options(_GRIDS[part.grid], k(part.name)), key=k(part.name),
                          format_func=C.fmt_number, help=part.help)
        elif part.blank:  # a default of None or inf: an empty box means it (the help says what it does)
            lo, hi = part.range
            number(part.label, k(part.name), lo, hi, none_ok=True, step=part.step, format="%g",
                   placeholder=str(part.default), help=part.help)
        else:
            lo, hi = part.range
            number(part.label, k(part.name), lo, hi, step=part.step, format="%g", help=part.help)


def _on_schedule_change(rid: int) -> None:
    """A schedule picked from the menu starts from settings that suit the run: spread over its steps, at its lr."""
    ss = st.session_state
    name = ss[_run_key(rid, "schedule")]
    if name == "none":
        _store_schedule(rid, None)
        return
    lr = ss.get(_run_key(rid, "lr"))
    lr = lr if isinstance(lr, (int, float)) and lr > 0 else OPTIMIZERS[ss[_run_key(rid, "optimizer")]].defaults["lr"]
    _store_schedule(rid, schedules.suggested(name, float(lr), int(ss.get("steps", 1000))))


#: The choices of a word keyword, per schedule.
_WORD_CHOICES = {("ReduceLROnPlateau", "mode"): ("min", "max"),
                 ("CyclicLR", "mode"): ("triangular", "triangular2", "exp_range")}


def _schedule_controls(rid: int, k, selectbox, checkbox, number) -> None:
    """The run's learning-rate schedule: a menu of torch's schedulers and the chosen one's keywords."""
    ss = st.session_state
    names = ("none", *schedules.KEYWORDS)
    if ss.get(k("schedule")) not in names:
        ss[k("schedule")] = "none"
    name = selectbox("lr schedule", names, key=k("schedule"), on_change=_on_schedule_change, args=(rid,),
                     format_func=lambda n: "none (constant lr)" if n == "none" else n,
                     help="A torch.optim.lr_scheduler, stepped after every optimizer step, as in a training "
                          "loop. Picking one fills in settings for this run's steps and lr.")
    if name == "none":
        return
    st.caption(schedules.SUMMARIES[name] + ".")
    text = partial(st.text_input, persist_state="page")
    area = partial(st.text_area, persist_state="page", height=130)
    for key, default in schedules.KEYWORDS[name].items():
        label, help, kind, spec = schedules.FIELDS[key]
        wkey = k(f"sched.{key}")
        if kind == "flag":
            checkbox(label, key=wkey, help=help)
        elif kind == "word":
            choices = _WORD_CHOICES.get((name, key), spec)
            if ss.get(wkey) not in choices:
                ss[wkey] = choices[0]
            selectbox(label, choices, key=wkey, help=help)
        elif kind == "schedules":  # SequentialLR's: whole calls, one after another
            area(label, key=wkey, help=help)
        elif kind == "list":
            text(label, key=wkey, help=help)
        else:
            lo, hi = spec
            number(label, wkey, lo, hi, none_ok=default is None, step=1 if kind == "int" else None,
                   format="%d" if kind == "int" else "%g",
                   help=help + (" Empty: torch's default, None." if default is None else ""))


def _run_controls(i: int, rid: int, color: str, error: str | None) -> None:
    """The controls of one run (the one being edited, marked in ``color``), and ``error`` (torch's message) if
    its settings are refused. Every value widget keeps its value while another run is edited
    (``persist_state``), so the runs not shown keep their settings."""
    ss = st.session_state
    k = lambda name: _run_key(rid, name)  # noqa: E731
    selectbox, select_slider, checkbox = (partial(widget, persist_state="page") for widget in (
        st.selectbox, st.select_slider, st.checkbox))
    number = partial(number_input, st, persist_state="page")
    st.markdown(f"{_dot(color)} **Run {i + 1}**", unsafe_allow_html=True)
    opt = selectbox("optimizer", list(OPTIMIZERS), key=k("optimizer"),
                    format_func=lambda o: OPTIMIZERS[o].title,
                    on_change=_on_optimizer_change, args=(rid,),
                    help="The torch.optim algorithm this run uses; changing it resets the run's settings.")
    look_for = OPTIMIZERS[opt].look_for
    st.caption(OPTIMIZERS[opt].summary + (f". Look for: {look_for}." if look_for else ""))
    params = OPTIMIZERS[opt].params
    for param in (p for p in params if not p.advanced):
        _param_widget(param, k, select_slider, checkbox, number)
    with st.expander("More options"):
        for param in (p for p in params if p.advanced):
            _param_widget(param, k, select_slider, checkbox, number)
    _schedule_controls(rid, k, selectbox, checkbox, number)
    dup, rem = st.columns(2)
    dup.button("Duplicate", key=k("dup"), help="Add a copy of this run (same optimizer and settings).",
               on_click=_duplicate_run, args=(rid,), disabled=len(ss["run_ids"]) >= MAX_RUNS, width="stretch")
    rem.button("Remove", key=k("del"), help="Remove this run.", on_click=_remove_run, args=(rid,), width="stretch")
    if error:
        st.error(f"This run is skipped: {error}", icon="⚠️")


@dataclass(frozen=True)
class Settings:
    scenario: Scenario | None
    labels: tuple[str, ...]
    colors: tuple[str, ...]  # each run's colour (its optimizer's; shades for a second, third...)
    dashes: tuple[str, ...]  # each run's line pattern (solid for an optimizer's first run, dashed for a second...)
    skipped: tuple[str, ...]
    run_ids: tuple[int, ...]  # the id of each run in the scenario (what keys its widgets)
    numbers: tuple[int, ...]  # each run's number in the sidebar (1, 2, ...; a refused run leaves a gap)


def sidebar() -> Settings:
    """Draw every control in the sidebar and return the validated scenario."""
    ss = st.session_state
    with st.sidebar:
        st.markdown("## optiviz")
        st.caption("Adam, RMSProp, AdaGrad, SGD and eleven more side by side, with the numbers torch.optim (or the "
                   "optimizer's reference) computes.")
        names = [*surfaces.names(), surfaces.EXPRESSION_NAME]
        st.selectbox("Surface", names, key="surface",
                     format_func=lambda n: "Your function…" if n == surfaces.EXPRESSION_NAME else surfaces.get(n).title,
                     on_change=_on_surface_change,
                     help="The loss surface f(x, y) the optimizers minimise; or type your own (the last entry).")
        if ss["surface"] == surfaces.EXPRESSION_NAME:
            _typed_controls()
        if ss["surface"] == "quadratic":
            st.select_slider("condition number κ", _options(C.KAPPA_GRID, "kappa"), key="kappa",
                             format_func=C.fmt_number,
                             help="Ratio of the largest to the smallest curvature; the runs keep their settings.")
            st.slider("rotation (degrees)", -90.0, 90.0, step=5.0, key="angle",
                      help="Rotate the bowl: axis-aligned bowls flatter per-coordinate methods.")
        surf = current_surface()
        if surf.description:
            st.caption(surf.description)
        (x0, x1), (y0, y1) = surf.domain
        cx, cy = st.columns(2)
        number_input(cx, "start x", "start_x", x0, x1, step=0.1, format="%g",
                     help=f"Where every run starts, from {x0:g} to {x1:g} (or click on the chart).")
        number_input(cy, "start y", "start_y", y0, y1, step=0.1, format="%g",
                     help=f"Where every run starts, from {y0:g} to {y1:g} (or click on the chart).")
        st.slider("steps", 10, 10_000, step=10, key="steps", help="Optimizer steps per run (10 to 10,000).")
        cn, cs = st.columns([3, 2])
        cn.slider("gradient noise σ", 0.0, 2.0, step=0.01, key="noise",
                  help="Adds σ·ξ, ξ ~ N(0, I), to every gradient; all runs see the same noise.")
        number_input(cs, "seed", "seed", 0, 2**31 - 1, step=1,
                        help="Seed of the noise generator: the same seed gives the same runs.")

        st.markdown("### Runs")
        run_ids = list(ss["run_ids"])
        optimizers = [ss.get(_run_key(rid, "optimizer"), "adam") for rid in run_ids]
        palette, patterns = figures.run_colors(optimizers), figures.run_dashes(optimizers)
        specs, labels, indices, skipped, listed, errors = [], [], [], [], [], {}
        for i, rid in enumerate(run_ids):
            spec, errors[rid] = _spec_from_state(rid)
            if spec is not None:
                specs.append(spec)
                labels.append(run_label(spec))
                indices.append(i)
            else:
                skipped.append(f"Run {i + 1}: {errors[rid]}")
            text = markdown_text(labels[-1]) if spec is not None else "⚠️ skipped (see its message)"
            listed.append(f"{_dot(palette[i], patterns[i])} **{i + 1}** {text}")
        if run_ids:
            # One run's controls at a time: the list shows every run; the controls, the one picked below.
            if ss.get("edit_run") not in run_ids:
                ss["edit_run"] = run_ids[0]
            st.markdown("<br>".join(listed), unsafe_allow_html=True)
            st.radio("Edit run", run_ids, key="edit_run", horizontal=True,
                     format_func=lambda rid: str(run_ids.index(rid) + 1),
                     help="Which run's settings the controls below show. Every run keeps its settings.")
            rid = ss["edit_run"]
            with st.container(border=True):
                _run_controls(run_ids.index(rid), rid, palette[run_ids.index(rid)], errors[rid])
        ca, cr = st.columns(2)
        ca.button("Add run", on_click=_add_run, args=(RunSpec("adam", lr=OPTIMIZERS["adam"].recommended_lr(surf)),),
                  disabled=len(ss["run_ids"]) >= MAX_RUNS, help=f"Add an Adam run (at most {MAX_RUNS}).",
                  width="stretch")
        cr.button("Default runs", on_click=reset_runs, help="Back to Adam, RMSProp, AdaGrad and SGD.",
                  width="stretch")

    labels = figures.unique_labels(labels, numbers=[i + 1 for i in indices])  # as the sidebar numbers them
    scenario = scenario_from_state(surf, specs) if specs else None
    return Settings(scenario, tuple(labels), tuple(palette[i] for i in indices), tuple(patterns[i] for i in indices),
                    tuple(skipped), tuple(run_ids[i] for i in indices), tuple(i + 1 for i in indices))


def scenario_from_state(surf: surfaces.Surface, specs: Sequence[RunSpec]) -> Scenario:
    """``specs`` run on ``surf`` from the session's start, steps, noise and seed."""
    ss = st.session_state
    steps = int(min(max(int(ss["steps"]), 1), MAX_STEPS))
    return Scenario.create(surf, specs, start=(ss["start_x"], ss["start_y"]), steps=steps, noise=float(ss["noise"]),
                           seed=int(ss["seed"]))


# ---------------------------------------------------------------- explain and export

def explain_panel(sim: Simulation, labels: list[str], colors: list[str], run_ids: Sequence[int]) -> None:
    """Pick a run and a step; show its update equations with that step's numbers substituted.
    Built only while the expander is open, so it costs nothing on other reruns. The picker holds the run's
    id (``run_ids[k]`` is ``sim.runs[k]``'s), so it stays on that run when another is removed."""
    panel = st.expander("Explain: the update equations with this run's numbers", key="explain_open",
                        on_change="rerun")
    if not panel.open:
        return
    with panel:
        position = {rid: k for k, rid in enumerate(run_ids)}
        runs = [rid for rid, run in zip(run_ids, sim.runs, strict=True) if run.steps_done > 0]
        if not runs:
            st.info("No run completed a step, so there is nothing to explain yet.")
            return
        ss = st.session_state
        gone = "explain_run" in ss and ss["explain_run"] not in runs
        if gone:
            ss["explain_run"] = runs[0]
        shown = [labels[position[rid]] for rid in runs]
        if ss.get("explain_run") in runs and ss.get("explain_labels", shown) != shown:
            # The selected run is the same but its label changed (its lr moved, say): Streamlit would keep
            # showing the old text (streamlit/streamlit#13788) unless the value is set again, which resends it.
            ss["explain_run"] = ss["explain_run"]
        ss["explain_labels"] = shown
        c1, c2 = st.columns([2, 3])
        rid = c1.selectbox("run", runs, format_func=lambda r: labels[position[r]], key="explain_run",
                           help="The run whose step to take apart.")
        if gone:
            c1.caption("The run picked before is gone (removed, or its settings refused).")
        i = position[rid]
        run = sim.runs[i]
        n = run.steps_done
        # The step the chart shows (the first step at the start), within this run's steps.
        ss["explain_step"] = max(1, min(int(ss.get("view_step", 0)), n))
        t = c2.slider("step t", 1, max(n, 2), key="explain_step", disabled=n < 2, on_change=_set_step_from_explain,
                      help="Which step's numbers to substitute (1 is the first step); the chart goes there too. "
                      "Pause the chart, or step it, to explain the step it shows.")
        ex = explain(run, min(int(t), n), noisy=sim.scenario.noise > 0)
        st.markdown(f"{_dot(colors[i])} **{ex.title}**", unsafe_allow_html=True)
        st.latex(ex.hyper)
        for line in ex.lines:
            st.caption(line.label)
            st.latex(line.latex())
        st.info(f"{ex.step_note}\n\n{ex.note}", icon=":material/lightbulb:")  # this step's numbers, then the rest


@st.cache_data(max_entries=2, ttl=120, show_spinner=False, hash_funcs={Scenario: lambda s: s.key})
def _export_text(scenario: Scenario, fmt: str, labels: tuple[str, ...], colors: tuple[str, ...], arrows: bool,
                 moments: bool, numbers: tuple[int, ...]) -> str:
    """A download, built when its button is pressed. One JSON of eight 10,000-step runs is ~40 MB: only the
    last two are kept, for two minutes (a second press of the same button)."""
    sim = simulate_cached(scenario)
    if fmt == "csv":
        return export.to_csv(sim, numbers=numbers)
    if fmt == "json":
        return export.to_json(sim)
    if fmt == "html":
        return export.to_html(sim, labels=list(labels), colors=list(colors), arrows=arrows, moments=moments)
    return export.to_torch_script(sim, numbers=numbers)


def downloads(sim: Simulation, labels: list[str], colors: list[str], arrows: bool, moments: bool,
              numbers: Sequence[int]) -> None:
    """CSV, JSON, a standalone animated HTML page, and a PyTorch script that reproduces the runs.
    Each is built only when its button is pressed (``data`` as a callable). ``numbers``: each run's number in
    the sidebar (the CSV and the PyTorch script number the runs so)."""
    key = (sim.scenario, tuple(labels), tuple(colors), arrows, moments, tuple(numbers))
    name = f"optiviz-{sim.surface.name}"
    st.markdown("**Download**")
    row = st.container(horizontal=True, gap="small")
    files = (
        ("csv", "Runs (CSV)", "text/csv", "one row per run and step: the run's number (as in the sidebar) and "
         "settings, position, loss, gradient and every state buffer; opens as it is in a spreadsheet or pandas"),
        ("json", "Runs (JSON)", "application/json", "the settings (surface, start, steps, noise, seed, every run's "
         "hyperparameters) and, per run, every recorded array"),
        ("html", "Animated chart (HTML)", "text/html", "the animated chart as one file that plays offline"),
        ("py", "PyTorch script", "text/x-python", "reproduces these runs with torch.optim and prints the final "
         "positions, to check optiviz against PyTorch"),
    )
    for ext, label, mime, help_text in files:
        fmt = "torch" if ext == "py" else ext
        row.download_button(label, data=lambda fmt=fmt: _export_text(key[0], fmt, *key[1:]), file_name=f"{name}.{ext}",
                            mime=mime, help=help_text, key=f"download_{ext}", width="content",
                            on_click="ignore")
