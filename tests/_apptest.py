"""Helpers shared by the tests that run pages through Streamlit's AppTest."""


def chart_elements(at):
    """The page's optiviz charts (``optiviz.chart`` components), in page order."""
    return [c for c in at.get("bidi_component") if c.proto.component_name == "optiviz.plotly_chart"]
