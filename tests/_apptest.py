"""Helpers shared by the tests that run pages through Streamlit's AppTest."""


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
