"""Helpers shared by the tests that run pages through Streamlit's AppTest."""

from pathlib import Path

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_app(query: dict | None = None):
    """app.py opened with the link parameters ``query`` (a value may be a list: a repeated parameter), run once,
    with no exception."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart_elements(at):
    """The page's optiviz charts (``optiviz.chart`` components), in page order."""
    return [c for c in at.get("bidi_component") if c.proto.component_name == "optiviz.plotly_chart"]


def chart_figures(at, *, packed: bool = False):
    """The figures of the page's optiviz charts: as the chart component hands them to Plotly (packed arrays
    unpacked, each run's path filled in), or as sent (``packed``)."""
    import json

    from optiviz.figures import SpecFigure

    specs = [json.loads(json.loads(c.proto.json)["figure"]) for c in chart_elements(at)]
    return specs if packed else [SpecFigure(spec).unpacked() for spec in specs]
