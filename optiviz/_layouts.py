"""The subplot grids of optiviz's figures, for wide and for narrow screens: axes, domains and titles.

Built once with plotly's ``make_subplots`` and cached; ``figures`` fills them with data. A narrow-screen
layout is not a second figure but a *patch* (new domains, title positions, height...) that the chart
component (``_plotly_chart.js``) merges into the layout when its container is narrower than
:data:`NARROW_BELOW`: objects key by key, lists item by item.

The narrow and the focus (classroom) layouts are *stacks*: the contour on top, its legend right under it,
the moment panels in rows below. They are laid out in pixels for a contour of a reference size, and the
chart component sizes the contour in the browser (:func:`square_spec`): as wide as the chart on a narrow
screen, as tall as the screen leaves room for in the focus layout; everything under the contour moves down
or up with it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import lru_cache

from ._plotly import make_subplots

#: Below this width (CSS pixels) the chart component draws a figure's narrow-screen layout.
NARROW_BELOW = 760
#: The focus layout's panels, three in a row under the contour, still fit a chart this wide (a lesson's text
#: beside the chart leaves it ~570 px at 1280 px with the sidebar open): below it, the narrow layout.
FOCUS_NARROW_BELOW = 520
#: Room for the moment panels' line-style key (three lines), which the figures put right above the first row of
#: panels: the top of the panel columns in the wide grid (a fraction of the plot's height: ~59 px of the default
#: 720 px figure, under the band at the top where Plotly's toolbar appears), and pixels above the first row of
#: panels in the stacked layouts.
KEY_BAND = 0.1
STACK_KEY_PX = 56
_ROW_TITLES = ("first moment m_t", "second moment v_t", "effective step size η_t")
#: The moment panels' titles, row by row (x, then y): the same text in the wide and the narrow grid.
PANEL_TITLES = tuple(f"{t} · {c}" for t in _ROW_TITLES for c in ("x", "y"))
LOSS_TITLES = {True: ("f(x_t) − f* against step (log)", "distance to the nearest global minimum (log)"),
               False: ("f(x_t) against step",)}


def _layout(fig) -> dict:
    layout = fig.to_dict()["layout"]
    layout.pop("template", None)  # Streamlit's theme (or plotly's default) styles the figure
    return layout


@lru_cache(maxsize=4)
def trajectory_grid(moments: bool) -> tuple[dict, tuple]:
    """Layout of the animated figure's grid (the contour, and with ``moments`` the six panels beside it),
    and each panel's axis references."""
    if moments:
        fig = make_subplots(
            rows=3, cols=3, column_widths=[0.6, 0.2, 0.2], horizontal_spacing=0.07, vertical_spacing=0.09,
            specs=[[{"rowspan": 3}, {}, {}], [None, {}, {}], [None, {}, {}]], subplot_titles=("", *PANEL_TITLES),
        )
        refs = tuple(tuple(fig._grid_ref[r][c][0].trace_kwargs for c in (1, 2)) for r in range(3))
    else:
        fig = make_subplots(rows=1, cols=1)
        refs = ()
    layout = _layout(fig)
    if moments:
        _lower_panels(layout, KEY_BAND)
    for ann in layout.get("annotations", []):
        ann["font"] = {"size": 11}
    return layout, refs


def _lower_panels(layout: dict, band: float) -> None:
    """Free the top ``band`` of the grid above the moment panels (axes 2 to 7) for their key: their domains
    and titles are squeezed into the rest; the contour keeps its place."""
    for key, axis in layout.items():
        if key.startswith("yaxis") and key != "yaxis":
            axis["domain"] = [y * (1 - band) for y in axis["domain"]]
    for ann in layout.get("annotations", []):
        if ann["text"] in PANEL_TITLES:
            ann["y"] *= 1 - band


@lru_cache(maxsize=2)
def _side_by_side(titles: Sequence[str]) -> dict:
    """One row of panels over the steps, one per title."""
    return _layout(make_subplots(rows=1, cols=len(titles), horizontal_spacing=0.1, subplot_titles=titles))


def _stacked_patch(titles: Sequence[str], spacing: float, height: int, legend_y: float) -> dict:
    """For narrow screens: the two panels of a side-by-side chart one above the other, titles a little smaller."""
    stacked = _layout(make_subplots(rows=2, cols=1, vertical_spacing=spacing, subplot_titles=titles))
    patch = {**_restacked(stacked, titles), "height": height, "legend": {"y": legend_y}}
    for ann in patch["annotations"]:
        ann["font"] = {"size": 13}
    return patch


def loss_grid(has_min: bool) -> dict:
    """Layout of the loss chart: loss, and (``has_min``) distance to the nearest minimum beside it."""
    return _side_by_side(LOSS_TITLES[has_min])


#: The schedule chart's panels: the learning rate of each step, and (where a schedule cycles it) the momentum or β₁.
SCHEDULE_TITLES = {True: ("learning rate η_t of each step (log)", "momentum or β₁ of each step"),
                   False: ("learning rate η_t of each step (log)",)}


def schedule_grid(cycled: bool) -> dict:
    """Layout of the schedule chart: η_t, and (``cycled``) the momentum or β₁ beside it."""
    return _side_by_side(SCHEDULE_TITLES[cycled])


@lru_cache(maxsize=1)
def narrow_schedule_patch() -> dict:
    """For narrow screens: the schedule chart's two panels one above the other."""
    return _stacked_patch(SCHEDULE_TITLES[True], 0.25, 480, -0.2)


def _restacked(stacked: dict, titles: Sequence[str]) -> dict:
    """The patch that gives every axis its domain in the ``stacked`` grid and moves each title (``titles``:
    the wide layout's, in its order) to where ``stacked`` has it."""
    patch: dict = {k: {"domain": v["domain"]} for k, v in stacked.items() if k.startswith(("xaxis", "yaxis"))}
    at = {a["text"]: a for a in stacked["annotations"]}
    patch["annotations"] = [{"x": at[t]["x"], "y": at[t]["y"]} for t in titles]
    return patch


@lru_cache(maxsize=1)
def narrow_loss_patch() -> dict:
    """For narrow screens: the loss chart's two panels one above the other, titles a little smaller."""
    return _stacked_patch(LOSS_TITLES[True], 0.2, 600, -0.18)


def narrow_meta(patch: dict, square: dict | None = None, below: int = NARROW_BELOW) -> dict:
    """A figure's ``layout.meta`` naming its narrow-screen patch, the width ``below`` which it applies, and how
    the chart sizes its contour there (``square``), as the chart component reads it."""
    narrow = {"below": below, "patch": copy.deepcopy(patch)}
    if square is not None:
        narrow["square"] = dict(square)
    return {"optivizNarrow": narrow}


# ---------------------------------------------------------------- stacked layouts: narrow screens, focus

#: Margins (px) of the stacked layouts: room for the y tick labels at the left, Plotly's toolbar at the top.
STACK_MARGIN = {"l": 50, "r": 20, "t": 30, "b": 10}
FOCUS_MARGIN = {"l": 50, "r": 20, "t": 16, "b": 10}
#: Under the contour: its x tick labels and axis title, before the legend starts.
_AXIS_BELOW = 46
#: Above each panel: its title (11 px text), lifted clear of the panel's top tick label (see ``_TITLE_LIFT``).
_TITLE_ZONE = 30
_TITLE_LIFT = 11
#: The moment key's lift above the first row of panels in the stacks: over the lifted titles, in its own band.
STACK_KEY_SHIFT = _TITLE_ZONE + 2
_PANEL_GAP = 12  # under a panel without tick labels
_STEP_AXIS = 48  # under the last row of panels: tick labels and the "step" title
_LEGEND_LINE = 30  # a legend line (12 px text and its symbol), with room to spare
_LEGEND_PAD = 8
#: The reference sizes the stacks are laid out for (px): the chart's width, and the contour's side. The chart
#: component then sizes the contour for the width it has (narrow) or the screen's height (focus).
NARROW_WIDTH, NARROW_SIDE = 358, 288
FOCUS_WIDTH, FOCUS_SIDE = 820, 460
#: The smallest contour the focus layout draws, however little of the screen is left (px).
FOCUS_MIN_SIDE = 300
#: What the focus layout keeps on the screen under the contour: its x tick labels.
FOCUS_KEEP_BELOW = 28


def legend_lines(entries: Sequence[str], width: float) -> int:
    """How many lines a horizontal legend of ``entries`` takes in ``width`` px (an estimate on the safe side:
    Plotly's legend font at 12 px averages under 6.4 px a character; each entry adds its 40 px symbol and
    gaps)."""
    lines, used = 1, 0.0
    for text in entries:
        item = 56 + 6.4 * len(text)
        if used and used + item > width:
            lines, used = lines + 1, 0.0
        used += item
    return lines


def _stack(*, width: int, side: int, margin: dict, panels: Sequence[tuple[int, int]], cols: int,
           panel_height: int, lines: int, gap: int) -> tuple[dict, dict]:
    """A stacked layout for a chart ``width`` px wide: the contour (``side`` px square, full width), the legend
    (``lines`` lines) centred under it, and the six moment panels, ``panels[2 * r + j]`` = (row, column) of the
    panel of quantity r and coordinate j (none: ``panels`` empty), in rows of ``cols`` with ``gap`` px between
    columns. Returns (patch for the wide layout, square spec for the chart component)."""
    w = width - margin["l"] - margin["r"]
    y = side + _AXIS_BELOW
    legend_top = y
    y += lines * _LEGEND_LINE + 2 * _LEGEND_PAD
    rows = 1 + max((row for row, _ in panels), default=-1)
    if panels:
        y += STACK_KEY_PX  # the moment key, right above the first row of panels
    row_top = []
    for k in range(rows):
        y += _TITLE_ZONE
        row_top.append(y)
        y += panel_height + (_STEP_AXIS if k == rows - 1 else _PANEL_GAP)
    plot = y
    frac = lambda px: 1 - px / plot  # noqa: E731  (px from the plot area's top -> paper fraction)
    pw = (w - (cols - 1) * gap) / cols
    patch: dict = {
        "height": plot + margin["t"] + margin["b"], "margin": dict(margin),
        "xaxis": {"domain": [0.0, 1.0]}, "yaxis": {"domain": [frac(side), 1.0]},
        "legend": {"orientation": "h", "xref": "paper", "x": 0.5, "xanchor": "center", "yref": "paper",
                   "y": frac(legend_top + _LEGEND_PAD), "yanchor": "top"},
    }
    if panels:
        _, refs = trajectory_grid(True)
        patch["annotations"] = []
        for r in range(3):
            for j in range(2):
                row, col = panels[2 * r + j]
                x0 = col * (pw + gap) / w
                x1 = (col * (pw + gap) + pw) / w
                top = row_top[row]
                last = row == rows - 1
                patch["xaxis" + refs[r][j]["xaxis"][1:]] = {
                    "domain": [x0, x1], "showticklabels": last, "title": {"text": "step" if last else ""}}
                patch["yaxis" + refs[r][j]["yaxis"][1:]] = {"domain": [frac(top + panel_height), frac(top)]}
                # the titles in the wide layout's order (PANEL_TITLES: row by row, x then y)
                patch["annotations"].append({"x": (x0 + x1) / 2, "y": frac(top), "yanchor": "bottom",
                                             "yshift": _TITLE_LIFT})
    square = {"plot": plot, "side": side, "l": margin["l"], "r": margin["r"], "t": margin["t"]}
    return patch, square


@lru_cache(maxsize=16)
def narrow_stack(moments: bool, lines: int) -> tuple[dict, dict]:
    """For narrow screens: the contour across the full width on top, its legend (``lines`` lines) under it,
    and with ``moments`` the six panels in three rows of two below: (patch, square spec; the chart component
    makes the contour as wide as the chart)."""
    panels = [(r, j) for r in range(3) for j in range(2)] if moments else []
    patch, square = _stack(width=NARROW_WIDTH, side=NARROW_SIDE, margin=STACK_MARGIN, panels=panels, cols=2,
                           panel_height=150, lines=lines, gap=50)
    return patch, {**square, "fit": "width"}


@lru_cache(maxsize=16)
def focus_stack(moments: bool, lines: int) -> tuple[dict, dict]:
    """The focus (classroom) layout: a large contour with its legend under it and, with ``moments``, the six
    panels below in two rows of three (x, then y): (patch, square spec; the chart component makes the contour
    as large as the screen's height leaves room for, under the play controls)."""
    panels = [(j, r) for r in range(3) for j in range(2)] if moments else []
    patch, square = _stack(width=FOCUS_WIDTH, side=FOCUS_SIDE, margin=FOCUS_MARGIN, panels=panels, cols=3,
                           panel_height=170, lines=lines, gap=62)
    return patch, {**square, "fit": "screen", "min": FOCUS_MIN_SIDE, "keep": FOCUS_KEEP_BELOW}
