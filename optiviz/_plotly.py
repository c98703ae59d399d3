"""plotly as optiviz uses it, with what plotly loads on first use loaded at import.

plotly finds its optional libraries in two ways: ``get_module(name)`` imports one (importlib's module
locks make another thread wait for it), and ``get_module(name, should_load=False)`` takes whatever
``sys.modules`` holds, which includes a module another thread is half-way through importing. Its array
encoder (``convert_to_base64``) and its JSON encoder peek at pandas that way. In the app every session runs
its script on a thread of its own and Streamlit imports pandas on first use (``st.table``), so a session
encoding a figure while another imported pandas failed with "partially initialized module 'pandas' has no
attribute 'Series'". Every module plotly's encoders look for is imported here, completely, while this module
is imported: a thread that imports optiviz's figures waits for that under Python's import lock, so no session
can reach plotly's encoders before they are all there.
"""

from __future__ import annotations

import importlib
import importlib.util

#: What plotly's encoders (``_plotly_utils.utils.convert_to_base64``, ``plotly.io.to_json``) look up, with
#: ``should_load=False`` or on first use: each is imported here when it is installed.
OPTIONAL_MODULES = ("numpy", "pandas", "PIL.Image", "orjson")


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # the parent package of a dotted name is missing
        return False


for _name in OPTIONAL_MODULES:
    if _installed(_name):
        importlib.import_module(_name)

import plotly  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import plotly.io as pio  # noqa: E402
from _plotly_utils.utils import convert_to_base64  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402

__all__ = ["OPTIONAL_MODULES", "convert_to_base64", "go", "make_subplots", "pio", "plotly"]
