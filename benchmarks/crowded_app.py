"""A control page for ``bench_browser.py``: optiviz's elements with none of its work.

The same elements as ``app.py`` at its defaults, of the same kinds, nested the same way, in the same places
(``tests/test_benchmarks.py`` keeps the two in step), but static: no simulation, no cache, no callbacks, and
in place of optiviz's two charts, the minimal page's one small Plotly line, driven by the slider where
optiviz has run 1's learning rate (slider #2, as in optiviz). Measured against the minimal page, it shows
what a Streamlit page with optiviz's controls costs on each rerun before any of optiviz's own work::

    python benchmarks/bench_browser.py --app benchmarks/crowded_app.py --slider-index 2
"""

import streamlit as st

# benchmarks/_sine.py: `streamlit run` puts the script's folder on sys.path
from _sine import sine_chart

st.set_page_config(page_title="crowded slider + chart", layout="wide")

with st.sidebar:
    st.markdown("## crowded")
    st.caption("The minimal page's chart, with as many elements as optiviz's page around it.")
    st.selectbox("Surface", ["first", "second"], help="A static select box.")
    st.caption("A static caption where optiviz describes the surface.")
    cx, cy = st.columns(2)
    cx.number_input("start x", value=-1.5, help="A static number input.")
    cy.number_input("start y", value=2.0, help="A static number input.")
    st.slider("steps", 10, 10_000, 1_000, step=10, help="A static slider.")
    cn, cs = st.columns([3, 2])
    cn.slider("noise", 0.0, 2.0, 0.0, help="A static slider.")
    cs.number_input("seed", value=0, help="A static number input.")
    st.markdown("### Runs")
    st.markdown("**1** first<br>**2** second<br>**3** third<br>**4** fourth", unsafe_allow_html=True)
    st.radio("Edit run", [1, 2, 3, 4], horizontal=True, help="A static radio.")
    with st.container(border=True):
        st.markdown("**Run 1**")
        st.selectbox("optimizer", ["first", "second"], help="A static select box.")
        st.caption("A static caption where optiviz summarises the optimizer.")
        frequency = st.select_slider("frequency", options=list(range(1, 21)), value=5,
                                     help="The sine's frequency: the one control that changes the chart.")
        st.select_slider("beta1", options=[0.5, 0.9, 0.99], value=0.9, help="A static slider.")
        st.select_slider("beta2", options=[0.9, 0.999, 0.9999], value=0.999, help="A static slider.")
        st.select_slider("eps", options=[1e-8, 1e-6], value=1e-8, help="A static slider.")
        with st.expander("More options"):
            st.number_input("weight_decay", value=0.0, help="A static number input.")
            st.checkbox("first option", help="A static checkbox.")
            st.checkbox("second option", help="A static checkbox.")
            st.checkbox("third option", help="A static checkbox.")
        st.selectbox("lr schedule", ["none", "a schedule"], help="A static select box.")
        dup, rem = st.columns(2)
        dup.button("Duplicate", width="stretch")
        rem.button("Remove", width="stretch")
    ca, cr = st.columns(2)
    ca.button("Add run", width="stretch")
    cr.button("Default runs", width="stretch")

st.markdown("#### A minimal chart among optiviz's elements")
st.selectbox("Lessons", ["first", "second"], index=None, help="A static select box.", width=420)
with st.container(gap=None):  # optiviz's formula: a display form for wide screens, a breakable one for narrow
    with st.container():
        st.latex(r"f(x,y) = (1-x)^2 + 100\,(y-x^2)^2", width="content")
    with st.container():
        st.markdown(r"$\displaystyle f(x,y) = (1-x)^2 + 100\,(y-x^2)^2$")
row = st.container(horizontal=True, vertical_alignment="center", gap="medium")
row.toggle("Moments", value=True, help="A static toggle.")
row.toggle("Arrows", help="A static toggle.")
row.toggle("3D view", help="A static toggle.")
row.toggle("Focus", help="A static toggle.")
with row.popover("Share this view", icon=":material/link:"):
    st.caption("A static caption.")
    st.code("?a=static&link=1", language=None, wrap_lines=True)

with st.container():  # where optiviz's chart goes (with a lesson's text beside it in the focus layout)
    sine_chart(frequency)
st.caption("A static caption under the chart.")
st.container()  # where optiviz's 3D view goes when it is on

with st.container(gap=None):  # optiviz's summary: a table for wide screens, paragraphs for narrow ones
    with st.container():
        st.table([{"run": f"run {i}", "final loss": 0.1 * i, "best loss": 0.01 * i} for i in range(1, 5)],
                 hide_index=True, border="horizontal")
    with st.container():
        st.markdown("\n\n".join(f"**run {i}**: final loss {0.1 * i:g}" for i in range(1, 5)))
st.number_input("tolerance", value=1e-2, format="%g", width=320, help="A static number input.")
st.expander("Explain")
st.markdown("**Download**")
downloads = st.container(horizontal=True)
for name in ("CSV", "JSON", "HTML", "script"):
    downloads.download_button(name, data=f"static {name}", file_name=f"static.{name.lower()}")
