"""The chart component's JavaScript and CSS, read once: used by the app's component (``chart``) and by the
standalone HTML page (``export.to_html``), which draw with the same code. No Streamlit here."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).parent

_CODEC_JS = (_HERE / "_codec.js").read_text(encoding="utf-8")  # the packed arrays' decoder, shared
CHART_JS = _CODEC_JS + (_HERE / "_plotly_chart.js").read_text(encoding="utf-8")
CHART_CSS = (_HERE / "_chart.css").read_text(encoding="utf-8")
SYNC_JS = (_HERE / "_sync.js").read_text(encoding="utf-8")
PREVIEWS_JS = _CODEC_JS + (_HERE / "_previews.js").read_text(encoding="utf-8")
