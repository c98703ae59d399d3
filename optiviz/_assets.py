"""The chart component's JavaScript and CSS, read once: used by the app's component (``chart``) and by the
standalone HTML page (``export.to_html``), which draw with the same code. No Streamlit here."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).parent

# Shared by the scripts below, put in front of each: the page's bus, and the packed arrays' decoder.
_BUS_JS = (_HERE / "_bus.js").read_text(encoding="utf-8")
_CODEC_JS = (_HERE / "_codec.js").read_text(encoding="utf-8")
CHART_JS = _BUS_JS + _CODEC_JS + (_HERE / "_plotly_chart.js").read_text(encoding="utf-8")
CHART_CSS = (_HERE / "_chart.css").read_text(encoding="utf-8")
SYNC_JS = _BUS_JS + (_HERE / "_sync.js").read_text(encoding="utf-8")
PREVIEWS_JS = _BUS_JS + _CODEC_JS + (_HERE / "_previews.js").read_text(encoding="utf-8")
