"""optiviz: watch Adam, RMSProp, AdaGrad and SGD minimise a 2-D surface, side by side.

Run with ``streamlit run app.py``. This file only places things: the controls and caches
are in ``optiviz.ui``, the figures in ``optiviz.figures``, the math in ``optiviz``.
"""

import streamlit as st

from optiviz import chart, ui
from optiviz.diagnosis import diagnose
from optiviz.summary import display_rows, markdown_text, summarize

st.set_page_config(page_title="optiviz: optimizer trajectories", page_icon="📉", layout="wide")

ui.init_state()
# The focus (classroom) layout: the contour as large as the screen allows, with the play controls right above it
# and the lesson's text beside it; the title, the Lessons menu and the formula in one line above.
focus = st.session_state.setdefault("show_focus", False)
ui.page_style(focus)
ui.ensure_compiled()
settings = ui.sidebar()

if focus:
    head = st.container(horizontal=True, vertical_alignment="center", gap="medium", key="focus_head")
    ui.lesson_menu(head, compact=True)
    ui.formula(head)
else:
    st.markdown("#### Optimizer trajectories, with every moment torch.optim keeps")
    ui.lesson_menu()
    # Under the title, not beside it: beside it, the longer formulas (Goldstein-Price, Lévi) would be cut off.
    ui.formula()
notice = st.session_state.pop("notice", None)
if notice:
    st.toast(notice)
link_messages = st.session_state.pop("link_messages", None)
if link_messages:
    st.warning("Some settings in the link could not be used; the defaults stand in for them:\n\n"
               + "\n".join(f"- {m}" for m in link_messages))
others = "the other runs go on" if settings.scenario is not None else "it is the only run left"
for message in settings.skipped:
    st.warning(f"{message} — fix it in the sidebar; {others}.")
if not focus or settings.scenario is None:
    ui.lesson_box(ui.current_view(settings))  # the open lesson's text, right above the chart

if settings.scenario is None:
    if settings.skipped:
        st.info("No run can be shown until its settings are fixed (above). Or add a run in the sidebar (Add "
                "run), or bring back the default four.")
    else:
        st.info("There are no runs to show. Add one in the sidebar (Add run), or bring back the default four.")
    st.button("Default runs", key="default_runs_main", on_click=ui.reset_runs)
    st.stop()

sim = ui.simulate_cached(settings.scenario)
ui.view_step(settings.scenario.steps)
colors = list(settings.colors)
labels = list(settings.labels)

# Why a run stopped, never moved, or shows an effective step of 1e9: said in words above the chart.
escaped_labels = [markdown_text(label) for label in labels]
for note in diagnose(sim):
    (st.warning if note.level == "warning" else st.info)(note.markdown(escaped_labels))

for key, default in (("show_moments", True), ("show_arrows", False), ("show_3d", False)):  # show_focus: above
    st.session_state.setdefault(key, default)  # (re)set if the toggles were not drawn on the last run
# Rows as horizontal containers rather than columns: every element costs time on each rerun in the
# browser, and columns add one per cell.
row = st.container(horizontal=True, vertical_alignment="center", gap="medium")
show_moments = row.toggle("Moments", key="show_moments",
                          help="m_t, v_t (and bias-corrected), effective step size, animated with the paths.")
show_arrows = row.toggle("Arrows", key="show_arrows",
                         help="At each run's current position: −gradient, −momentum and the actual update.")
show_3d = row.toggle("3D view", key="show_3d",
                     help="The surface in 3D with the paths above it, following the chart's step.")
row.toggle("Focus", key="show_focus",
           help="For a class or a projector: a large contour with bold paths and the play controls on the first "
           "screen, the moment panels under it, the lesson's text beside it.")
link = ui.sync_url(ui.current_view(settings))
with row.popover("Share this view", icon=":material/link:"):
    st.caption("This address reproduces exactly what you see (the address bar always holds it too). "
               "Copy it with the button at the right of the box.")
    st.code(link, language=None, wrap_lines=True)

traj_text, loss_text = ui.figure_texts(settings.scenario, tuple(labels), tuple(colors), show_arrows, show_moments,
                                      settings.dashes, focus)
beside = None
if focus and st.session_state.get("lesson") is not None:
    # the lesson's text beside the chart, not above it: the whole contour stays on the first screen
    main, beside = st.columns([5, 2], gap="medium")
else:
    main = st.container()
with main:
    chart.plotly_chart(traj_text, key="trajectory_chart", on_click=ui.set_start_from_click,
                       on_step=ui.set_step_from_chart, config={"displaylogo": False, "scrollZoom": False,
                                                               "responsive": True})
    schedule_text = ui.schedule_text(settings.scenario, tuple(labels), tuple(colors), settings.dashes)
    if schedule_text is not None:  # a run has a learning-rate schedule: η_t (and a cycled β₁) per step
        chart.plotly_chart(schedule_text, key="schedule_chart", config={"displaylogo": False, "responsive": True})
if beside is not None:
    with beside:
        ui.lesson_box(ui.current_view(settings))
how_to_read = ["▶ plays every run from the step shown; the buttons beside it take one step back or forward (with "
               "Shift, ten), the slider reaches "
               "every step, and space, ← and → do the same once the chart has the focus (click it). Where you stop, "
               "Explain and the address follow. Click anywhere on the contour to start there (on a touch "
               "screen a tap shows f there, and its Start here button moves the start). The lines are the "
               "full paths, the dots where each run is at the step shown (rings where runs meet); crosses mark "
               "runs that were stopped. Point at a run in the legend to bring it forward."]
if show_arrows:
    how_to_read.append("Arrows, at each run's position, all on one scale (said on the contour, “arrows ×100” say, "
                       "where the steps are too short to see): solid, the step actually taken, x_{t+1} − x_t; "
                       "dashed, −η·m, the step the momentum gives at the learning rate η; dotted, −η·∇f, the "
                       "gradient's step at η (plain SGD takes exactly that one). An arrow longer than a quarter of "
                       "the plot, or leaving it, is cut short and ends in a double head.")
if show_moments:
    how_to_read.append("Moment panels (the key is above them): solid lines are the state torch.optim keeps; dotted, "
                       "Adam's bias-corrected m̂_t and v̂_t, or the gradient g_t itself where an optimizer keeps no "
                       "first moment (a note in the panel says which); dashed, AMSGrad's running maximum and "
                       "centered RMSProp's grad_avg. A series that flips at every step (a gradient bouncing across "
                       "Rastrigin's ripples) is drawn as a band, its range, with a line for its mean. The "
                       "first-moment panels span the 1st to 99th percentile of their values, so that a few huge "
                       "early steps do not flatten the rest; ▲ and ▼ mark the steps beyond the edge. Notes in the "
                       "panels name the runs that keep no m_t or v_t and say where ε alone makes the effective step "
                       "huge. Hover for any value.")
if schedule_text is not None:
    how_to_read.append("The chart under the contour: the learning rate η_t each run's step used (log scale; a run "
                       "without a schedule is its flat η), and beside it the momentum or β₁ of each step where "
                       "OneCycleLR or CyclicLR cycle it, as torch does by default; the cursor is the step shown.")
st.caption("\n\n".join(how_to_read))
# The 3D view goes right under the main chart (at the bottom of the page it is easy to miss), drawn last;
# the slot is always there, so that switching the view on does not move the charts after it.
surface3d_slot = st.container()

chart.plotly_chart(loss_text, key="loss_chart", config={"displaylogo": False, "responsive": True})
tol = st.session_state["tolerance"]
rows = summarize(sim, labels, tol)
ui.summary_table(display_rows(rows))
if sim.surface.minima:  # the tolerance is for the table's "steps to within … of a minimum"
    ui.number_input(
        st, "tolerance for “steps to within … of a minimum”", "tolerance", 1e-8, 10.0, format="%g",
        help="Euclidean distance to the nearest global minimum.", width=320,
        persist_state="page")  # kept while a saddle (no minimum, no tolerance) is shown

ui.explain_panel(sim, labels, colors, settings.run_ids)
ui.downloads(sim, labels, colors, show_arrows, show_moments, list(settings.numbers))
# the step the charts show (Explain's, a link's; the chart's own report is not sent back)
chart.sync(step=st.session_state["view_step"], echo=ui.step_is_charts_own())
chart.previews(ui.preview_data(settings))  # the edited run's sliders, previewed while dragged

if show_3d:
    with surface3d_slot:
        chart.plotly_chart(ui.surface3d_text(settings.scenario, tuple(labels), tuple(colors)), key="surface3d",
                           config={"displaylogo": False, "responsive": True})
