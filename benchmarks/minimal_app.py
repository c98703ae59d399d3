"""The peer page for ``bench_browser.py``: one slider, one small Plotly line that depends on it.

Run it alone with ``python -m streamlit run benchmarks/minimal_app.py``. It is the floor that a
Streamlit page with a slider and a chart cannot go below, so optiviz is measured against it.
"""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="minimal slider + chart")

frequency = st.slider("frequency", min_value=1, max_value=20, value=5)

x = np.linspace(0.0, 1.0, 200)
figure = go.Figure(go.Scatter(x=x, y=np.sin(2.0 * np.pi * frequency * x), mode="lines", name="sin"))
figure.update_layout(height=360, margin={"l": 40, "r": 20, "t": 30, "b": 40}, title=f"sin(2π·{frequency}·x)")
st.plotly_chart(figure, width="stretch")
