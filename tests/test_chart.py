"""The chart component's Python side: where plotly.js is served from, and what the browser is sent."""

import json

import plotly.graph_objects as go
import pytest
from streamlit import config

from optiviz import chart


@pytest.fixture
def base_url_path():
    before = config.get_option("server.baseUrlPath")
    yield lambda value: config.set_option("server.baseUrlPath", value)
    config.set_option("server.baseUrlPath", before)


def test_plotly_js_is_the_plotly_package_copy_on_the_component_route(base_url_path):
    assert (chart._PLOTLY_DIR / "plotly.min.js").is_file()
    base_url_path("")
    assert chart.plotly_js_url() == "/component/optiviz.chart.plotlyjs/plotly.min.js"
    base_url_path("/tools/optiviz/")
    assert chart.plotly_js_url() == "/tools/optiviz/component/optiviz.chart.plotlyjs/plotly.min.js"


def test_figure_json_is_plain_json_with_frames():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 0]), frames=[go.Frame(name="0", data=[go.Scatter(x=[0], y=[1])])])
    parsed = json.loads(chart.figure_json(fig))
    assert parsed["data"][0]["type"] == "scatter" and parsed["frames"][0]["name"] == "0"
