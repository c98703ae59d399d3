"""A control page for ``bench_browser.py``: optiviz's two charts and one slider, none of its other elements.

Run 1's learning-rate slider (in the sidebar, so the charts are as wide as in optiviz) and the two charts
``app.py`` draws at its defaults, through the same cache and the same chart component, with no other element
on the page. Measured against the minimal page, it shows what optiviz's charts cost on each slider press,
apart from the rest of the page (``crowded_app.py`` is the converse: the rest of the page, without them)::

    python benchmarks/bench_browser.py --app benchmarks/charts_app.py --slider-index 0
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `streamlit run` adds benchmarks/, not the repo

import streamlit as st

from optiviz import chart, figures, ui
from optiviz import controls as C

st.set_page_config(page_title="optiviz's charts + one slider", layout="wide")

# The sidebar's own steps, without its elements: the runs' settings from the session (ui's private helpers).
ui.init_state()
ui.ensure_compiled()
ss = st.session_state
rid = ss["run_ids"][0]
with st.sidebar:
    st.select_slider("lr (η)", ui._options(C.LR_GRID, f"r{rid}.lr"), key=f"r{rid}.lr", format_func=C.fmt_number)
specs = [ui._spec_from_state(r)[0] for r in ss["run_ids"]]
labels = figures.unique_labels([ui.run_label(s) for s in specs], numbers=list(range(1, len(specs) + 1)))
colors = figures.run_colors([spec.optimizer for spec in specs])
scenario = ui.scenario_from_state(ui.current_surface(), specs)
traj_text, loss_text = ui.figure_texts(scenario, tuple(labels), tuple(colors), False, True)
chart.plotly_chart(traj_text, key="trajectory_chart", on_click=lambda: None,
                   config={"displaylogo": False, "scrollZoom": False, "responsive": True})
chart.plotly_chart(loss_text, key="loss_chart", config={"displaylogo": False, "responsive": True})
