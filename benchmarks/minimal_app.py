"""The peer page for ``bench_browser.py``: one slider, one small Plotly line that depends on it.

Run it alone with ``python -m streamlit run benchmarks/minimal_app.py``. It is the floor that a
Streamlit page with a slider and a chart cannot go below, so optiviz is measured against it.
"""

import streamlit as st

# benchmarks/_sine.py: `streamlit run` puts the script's folder on sys.path
from _sine import sine_chart

st.set_page_config(page_title="minimal slider + chart")

frequency = st.slider("frequency", min_value=1, max_value=20, value=5)
sine_chart(frequency)
