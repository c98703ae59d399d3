"""A Plotly chart for Streamlit that stays on the page, is updated in place, and plays its runs back.

``st.plotly_chart`` keys a chart by its figure, so every change of a slider mounts a new chart, which then
draws twice; for the trajectory figure (seven panels, ~50 traces) that would take most of the time a slider
needs to answer. :func:`plotly_chart` is an ``st.components.v2`` component (``_plotly_chart.js``) that keeps one
chart per key and, when only data changed, redraws just the changed traces (see the JavaScript for the
rules; anything else goes through ``Plotly.react``). It unpacks the figure's packed arrays
(:mod:`optiviz._codec`) and, for a figure with a playback (the trajectory figure), draws any step from every
step's position, with its own play, step and speed controls; a paused step is reported as the state value
``step``. :func:`sync` is the page's side of that conversation: it asks the charts for a step.

plotly.js is the copy that ships with the ``plotly`` package, served by Streamlit's component file route
(``components.declare_component`` with the package's own ``package_data`` folder), so it works offline and
behind any ``server.baseUrlPath``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st
import streamlit.components.v1 as components_v1

from ._assets import CHART_CSS, CHART_JS, PREVIEWS_JS, SYNC_JS
from ._plotly import pio, plotly

_PLOTLY_DIR = Path(plotly.__file__).parent / "package_data"

_component = st.components.v2.component("optiviz.plotly_chart", js=CHART_JS, css=CHART_CSS, isolate_styles=False)


def missing_plotly_js() -> str | None:
    """Why no chart can be drawn, when plotly.js is not where the plotly package keeps it (a trimmed install);
    None when it is there."""
    path = _PLOTLY_DIR / "plotly.min.js"
    if path.is_file():
        return None
    return (f"The charts cannot be drawn: plotly.js is missing from the plotly package on this server "
            f"(expected at {path}). Reinstall it: pip install --force-reinstall plotly=={plotly.__version__}")


def plotly_js_url() -> str:
    """Where the browser loads plotly.js from (registers the file route; call it during a script run)."""
    served = components_v1.declare_component("plotlyjs", path=str(_PLOTLY_DIR))
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{'/' + base if base else ''}/component/{served.name}/plotly.min.js"


def figure_json(figure: Any) -> str:
    """The figure as the JSON text the component sends (plotly's own encoder, no validation)."""
    return pio.to_json(figure, validate=False)


def plotly_chart(figure_text: str, *, key: str, config: dict | None = None,
                 on_click: Callable[[], None] | None = None, on_step: Callable[[], None] | None = None) -> Any:
    """Draw ``figure_text`` (from :func:`figure_json`) in the chart kept under ``key``.

    With ``on_click``, a click on the main panel stores ``{"x": ..., "y": ...}`` as
    ``st.session_state[key]["click"]`` and calls ``on_click``. With ``on_step``, the step the user stops on
    (pausing, stepping, releasing the scrubber) is stored as ``st.session_state[key]["step"]`` and
    ``on_step`` is called. The step to show comes from :func:`sync`, not from here: the figure's message
    stays the same when only the step changes (Streamlit then does not send it again). Without plotly.js
    (:func:`missing_plotly_js`) the chart's place says so instead."""
    problem = missing_plotly_js()
    if problem is not None:
        return st.error(problem, icon=":material/error:")
    data = {"figure": figure_text, "plotly_url": plotly_js_url(), "config": config or {},
            "clickable": on_click is not None}
    callbacks = {"on_click_change": on_click} if on_click is not None else {}
    if on_step is not None:
        callbacks["on_step_change"] = on_step
    return _component(data=data, key=key, **callbacks)


_sync_component = st.components.v2.component("optiviz.sync", js=SYNC_JS, isolate_styles=False)


_previews_component = st.components.v2.component("optiviz.previews", js=PREVIEWS_JS, isolate_styles=False)


def previews(data: dict | None, *, key: str = "optiviz_previews") -> Any:
    """The edited run's previews (``optiviz.previews.previews``' dict, plus the run's ``color``), held by an
    element that draws nothing: while one of that run's grid sliders is dragged, the charts draw the path and
    the loss curve for the value under the pointer. None: no run is edited."""
    return _previews_component(data=data, key=key, height=0)


def sync(*, step: int, echo: bool = False, key: str = "optiviz_sync") -> Any:
    """The page's requests to its charts (an element that draws nothing): show ``step`` (each time it
    changes: the Explain picker moved, a link's ``step=``). ``echo``: ``step`` is the one the chart itself
    reported; it is not sent back (the user may have stepped on since, and would be pulled back)."""
    return _sync_component(data={"step": int(step), "echo": bool(echo)}, key=key, height=0)
