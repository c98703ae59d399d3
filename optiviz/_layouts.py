"""The subplot grids of optiviz's figures, for wide and for narrow screens: axes, domains and titles.

Built once with plotly's ``make_subplots`` and cached; ``figures`` fills them with data. A narrow-screen
layout is not a second figure but a *patch* (new domains, title positions, height...) that the chart
component (``_plotly_chart.js``) merges into the layout when its container is narrower than
:data:`NARROW_BELOW`: objects key by key, lists item by item.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import lru_cache

from ._plotly import make_subplots

#: Below this width (CSS pixels) the chart component draws a figure's narrow-screen layout.
NARROW_BELOW = 760
#: Room for the moment panels' line-style key (three lines), which the figures put right above the first row of
#: panels: the top of the panel columns in the wide grid (a fraction of the plot's height: ~59 px of the default
#: 720 px figure, under the band at the top where Plotly's toolbar appears), and pixels added between the
#: contour and the panels in the narrow one.
KEY_BAND = 0.1
NARROW_KEY_PX = 56
NARROW_HEIGHT = 1180 + NARROW_KEY_PX
#: The trajectory figure's top and bottom margins together (figures sets them), to turn pixels into fractions.
_MARGINS_PX = 134
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
        _lower_panels(layout, KEY_BAND, contour_too=False)
    for ann in layout.get("annotations", []):
        ann["font"] = {"size": 11}
    return layout, refs


def _lower_panels(layout: dict, band: float, *, contour_too: bool) -> None:
    """Free the top ``band`` of the grid above the moment panels (axes 2 to 7) for their key: their domains
    and titles are squeezed into the rest. With ``contour_too`` the contour keeps its pixels at the top of a
    figure made taller by that band, so the band opens between the contour and the panels."""
    def lower(y: float) -> float:
        return y * (1 - band)

    for key, axis in layout.items():
        if key.startswith("yaxis"):
            if key == "yaxis":
                if contour_too:
                    axis["domain"] = [band + y * (1 - band) for y in axis["domain"]]
            else:
                axis["domain"] = [lower(y) for y in axis["domain"]]
    for ann in layout.get("annotations", []):
        if ann["text"] in PANEL_TITLES:
            ann["y"] = lower(ann["y"])


@lru_cache(maxsize=2)
def loss_grid(has_min: bool) -> dict:
    """Layout of the loss chart: loss, and (``has_min``) distance to the nearest minimum beside it."""
    return _layout(make_subplots(rows=1, cols=2 if has_min else 1, horizontal_spacing=0.1,
                                 subplot_titles=LOSS_TITLES[has_min]))


def _restacked(stacked: dict, titles: Sequence[str]) -> dict:
    """The patch that gives every axis its domain in the ``stacked`` grid and moves each title (``titles``:
    the wide layout's, in its order) to where ``stacked`` has it."""
    patch: dict = {k: {"domain": v["domain"]} for k, v in stacked.items() if k.startswith(("xaxis", "yaxis"))}
    at = {a["text"]: a for a in stacked["annotations"]}
    patch["annotations"] = [{"x": at[t]["x"], "y": at[t]["y"]} for t in titles]
    return patch


@lru_cache(maxsize=1)
def narrow_trajectory_patch() -> dict:
    """For narrow screens: the contour across the full width on top, the six panels in three rows of two
    below it."""
    stacked = _layout(make_subplots(
        rows=4, cols=2, row_heights=[0.46, 0.18, 0.18, 0.18], horizontal_spacing=0.14, vertical_spacing=0.07,
        specs=[[{"colspan": 2}, None], [{}, {}], [{}, {}], [{}, {}]], subplot_titles=("", *PANEL_TITLES),
    ))
    _lower_panels(stacked, NARROW_KEY_PX / (NARROW_HEIGHT - _MARGINS_PX), contour_too=True)
    wide, _ = trajectory_grid(True)
    return {**_restacked(stacked, [a["text"] for a in wide["annotations"]]), "height": NARROW_HEIGHT}


@lru_cache(maxsize=1)
def narrow_loss_patch() -> dict:
    """For narrow screens: the loss chart's two panels one above the other, titles a little smaller."""
    stacked = _layout(make_subplots(rows=2, cols=1, vertical_spacing=0.2, subplot_titles=LOSS_TITLES[True]))
    patch = {**_restacked(stacked, LOSS_TITLES[True]), "height": 600, "legend": {"y": -0.18}}
    for ann in patch["annotations"]:
        ann["font"] = {"size": 13}
    return patch


def narrow_meta(patch: dict) -> dict:
    """A figure's ``layout.meta`` naming its narrow-screen patch, as the chart component reads it."""
    return {"optivizNarrow": {"below": NARROW_BELOW, "patch": copy.deepcopy(patch)}}
