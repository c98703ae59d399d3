"""A Plotly chart for Streamlit that stays on the page and is updated in place.

``st.plotly_chart`` keys a chart by its figure, so every change of a slider mounts a new chart, which then
draws twice; for the animated figure (seven panels, ~50 traces, 200 frames) that took most of the time a
slider needs to answer. :func:`plotly_chart` is an ``st.components.v2`` component (``_plotly_chart.js``)
that keeps one chart per key and, when only data changed, redraws just the changed traces the way the
animation does (see the JavaScript for the rules; anything else goes through ``Plotly.react``).

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

from ._plotly import pio, plotly

_JS = (Path(__file__).with_name("_plotly_chart.js")).read_text(encoding="utf-8")
_CSS = ".optiviz-plotly { width: 100%; }"
_PLOTLY_DIR = Path(plotly.__file__).parent / "package_data"

_component = st.components.v2.component("optiviz.plotly_chart", js=_JS, css=_CSS, isolate_styles=False)


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
                 on_click: Callable[[], None] | None = None) -> Any:
    """Draw ``figure_text`` (from :func:`figure_json`) in the chart kept under ``key``.

    With ``on_click``, a click on the main panel stores ``{"x": ..., "y": ...}`` as
    ``st.session_state[key]["click"]`` and calls ``on_click``. Without plotly.js (:func:`missing_plotly_js`)
    the chart's place says so instead."""
    problem = missing_plotly_js()
    if problem is not None:
        return st.error(problem, icon=":material/error:")
    data = {"figure": figure_text, "plotly_url": plotly_js_url(), "config": config or {},
            "clickable": on_click is not None}
    callbacks = {"on_click_change": on_click} if on_click is not None else {}
    return _component(data=data, key=key, **callbacks)
