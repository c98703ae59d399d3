"""The Streamlit app through AppTest: defaults, every surface, every kind of control, bad input."""

import colorsys
import json
import re
from pathlib import Path

import pytest
from _apptest import chart_elements, chart_figures
from streamlit.testing.v1 import AppTest

import optiviz
import surfaces
from optiviz import controls as C
from optiviz import figures
from optiviz._text import parse_run

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _run(at=None):
    at = at if at is not None else AppTest.from_file(APP, default_timeout=120)  # an AppTest not yet run is falsy
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _edit(at, rid):
    """Show run ``rid``'s controls in the sidebar (one run's controls at a time)."""
    at.radio(key="edit_run").set_value(rid)
    return _run(at)


def _charts(at):
    """The figures of the page's charts (``optiviz.chart`` components), as Plotly gets them."""
    return chart_figures(at)


def _path_traces(spec):
    """Each run's full path on the contour: the trace that is its legend entry."""
    return [t for t in spec["data"] if t.get("legendgroup", "").startswith("run") and t.get("showlegend", True)
            and t.get("mode") == "lines" and t.get("xaxis", "x") == "x"]


@pytest.fixture
def at():
    return _run()


def test_defaults_show_four_runs_animated(at):
    traj, _loss = _charts(at)[:2]
    assert [t["name"].split(" (")[0] for t in _path_traces(traj)] == ["Adam", "RMSProp", "AdaGrad", "SGD"]
    # played back by the chart component from every step's position: no Plotly frames or Play buttons
    assert "frames" not in traj and "updatemenus" not in traj["layout"] and "sliders" not in traj["layout"]
    playback = traj["layout"]["meta"]["optivizPlayback"]
    assert playback["n"] == 1000 and [run["n"] for run in playback["runs"]] == [1000] * 4
    assert all(len(t["x"]) == 1001 for t in _path_traces(traj))
    assert traj["layout"]["images"][0]["source"].startswith("data:image/png")
    assert len(at.table) == 1 and len(at.table[0].value) == 4
    total = sum(len(c.proto.json) for c in chart_elements(at))
    assert total < 1_000_000, total
    assert not at.warning and not at.error


@pytest.mark.parametrize("name", surfaces.names())
def test_every_surface_runs(at, name):
    at.selectbox(key="surface").set_value(name)
    _run(at)
    surf = surfaces.get(name) if name != "quadratic" else surfaces.get(name, kappa=20.0, angle=0.0)
    assert at.session_state["start_x"] == surf.start[0] and at.session_state["start_y"] == surf.start[1]
    traj = _charts(at)[0]
    assert len(_path_traces(traj)) == 4
    # The recommended learning rate of the new surface, snapped to the slider's grid.
    assert at.select_slider(key="r0.lr").value == pytest.approx(surf.lr["adam"], rel=0.15)


def _first_path(at):
    return _path_traces(_charts(at)[0])[0]


def test_each_kind_of_control_changes_the_runs(at):
    before = json.dumps(_first_path(at))
    changes = [
        lambda: at.select_slider(key="r0.lr").set_value(0.01),
        lambda: at.select_slider(key="r0.beta1").set_value(0.5),
        lambda: at.select_slider(key="r0.beta2").set_value(0.9999),
        lambda: at.select_slider(key="r0.eps").set_value(0.1),
        lambda: at.checkbox(key="r0.amsgrad").check(),
        lambda: at.checkbox(key="r0.bias_correction").uncheck(),
        lambda: at.number_input(key="r0.weight_decay").set_value(0.1),
        lambda: at.number_input(key="start_x").set_value(0.5),
        lambda: at.slider(key="steps").set_value(500),
        lambda: at.slider(key="noise").set_value(0.3),
        lambda: at.number_input(key="seed").set_value(3),
    ]
    for change in changes:
        change()
        _run(at)
        after = json.dumps(_first_path(at))
        assert after != before
        before = after
    assert "β 0.5/0.9999" in _first_path(at)["name"] and "AMSGrad" in _first_path(at)["name"]
    assert "no bias correction" in _first_path(at)["name"] and "bias_correction=false" in at.query_params["run"][0]


@pytest.mark.parametrize(("typed", "said"), [
    (None, "start y takes a number from -1 to 3; it stays 2."),
    (-1.5, "start y takes a number from -1 to 3, not -1.5; it stays 2."),
    (7.0, "start y takes a number from -1 to 3, not 7; it stays 2."),
])
def test_an_emptied_or_out_of_range_start_keeps_the_start_and_says_the_range(at, typed, said):
    """Emptying "start y" (and Enter), or typing a start off the surface: the runs keep starting where they did
    (not at the box's minimum, -1) and a message under the box, on the page, names the range."""
    before = _first_path(at)
    assert (before["x"][0], before["y"][0]) == pytest.approx((-1.5, 2.0), abs=1e-6)  # as packed for the page
    at.number_input(key="start_y").set_value(typed)
    _run(at)
    after = _first_path(at)
    assert after == before
    assert at.number_input(key="start_y").value == 2.0 and at.session_state["start_y"] == 2.0
    assert "start=-1.5,2" in at.code[0].value  # the shared link keeps the start too
    captions = [c.value for c in at.caption if "takes a number" in c.value]
    assert captions == [f":red[{said}]"]
    at.number_input(key="start_y").set_value(0.5)  # a start in range is taken, and the message goes
    _run(at)
    assert _first_path(at)["y"][0] == pytest.approx(0.5, abs=1e-6)
    assert not [c for c in at.caption if "takes a number" in c.value]


def test_optimizer_change_resets_that_run(at):
    _edit(at, 1)
    at.selectbox(key="r1.optimizer").set_value("sgd")
    _run(at)
    assert at.select_slider(key="r1.lr").value == surfaces.get("rosenbrock").lr["sgd"]
    assert at.select_slider(key="r1.momentum").value == 0.0
    at.select_slider(key="r1.momentum").set_value(0.9)
    at.checkbox(key="r1.nesterov").check()
    _run(at)
    assert "Nesterov" in _path_traces(_charts(at)[0])[1]["name"]


def test_add_duplicate_remove_runs_keep_settings(at):
    at.select_slider(key="r0.beta2").set_value(0.9)
    _run(at)
    at.button(key="r0.dup").click()
    _run(at)
    names = [t["name"] for t in _path_traces(_charts(at)[0])]
    assert len(names) == 5 and names[4] == names[0] + " #5"  # run 5 in the sidebar, #5 in the legend
    assert at.radio(key="edit_run").value == 4  # the copy's controls are shown
    assert at.select_slider(key="r4.beta2").value == 0.9
    _edit(at, 2)
    at.button(key="r2.del").click()
    _run(at)
    assert len(_path_traces(_charts(at)[0])) == 4
    _edit(at, 0)
    assert at.select_slider(key="r0.beta2").value == 0.9  # runs edited earlier keep their settings
    _edit(at, 1)
    at.button(key="r1.del").click()
    _run(at)
    adds = [b for b in at.button if b.label.endswith("Add run")]
    adds[0].click()
    _run(at)
    assert len(_path_traces(_charts(at)[0])) == 4


def test_runs_not_shown_keep_their_settings_and_follow_a_new_surface(at):
    """Only the edited run's controls are drawn; the others keep their values (``persist_state``) and
    still take a new surface's recommended learning rates."""
    _edit(at, 1)
    at.select_slider(key="r1.eps").set_value(0.1)
    _run(at)
    _edit(at, 0)
    assert not [w for w in at.sidebar.select_slider if w.key.startswith("r1.")], "run 2's controls still drawn"
    for _ in range(3):  # reruns while run 2 is hidden
        at.select_slider(key="r0.lr").set_value(0.01)
        _run(at)
    at.selectbox(key="surface").set_value("beale")
    _run(at)
    beale = surfaces.get("beale")
    _edit(at, 1)
    assert at.select_slider(key="r1.eps").value == 0.1
    assert at.select_slider(key="r1.lr").value == beale.lr["rmsprop"]
    names = [t["name"] for t in _path_traces(_charts(at)[0])]
    assert names[1].startswith(f"RMSProp (lr {beale.lr['rmsprop']:g}") and "ε 0.1" in names[1], names


def test_startup_heap_is_frozen_for_the_garbage_collector(at):
    """After the kernels load, the startup heap is out of the collector's sight (Streamlit collects after
    every run; see ui.ensure_compiled)."""
    import gc

    assert gc.get_freeze_count() > 10_000


def _how_to_read(at):
    return next(c.value for c in at.caption if c.value.startswith("▶ plays every run"))


def test_the_caption_explains_the_line_styles_of_what_is_shown(at):
    text = _how_to_read(at)  # defaults: moments on, arrows off
    assert "dotted, Adam's bias-corrected" in text and "1st to 99th percentile" in text and "Arrows" not in text
    assert "drawn as a band" in text and "▲ and ▼ mark the steps beyond the edge" in text
    at.toggle(key="show_arrows").set_value(True)
    at.toggle(key="show_moments").set_value(False)
    _run(at)
    text = _how_to_read(at)
    assert "all on one scale" in text and "solid, the step actually taken" in text and "dotted, −η·∇f" in text
    assert "double head" in text and "Moment panels" not in text and "directions only" not in text


def test_toggles_for_arrows_moments_and_3d(at):
    at.toggle(key="show_arrows").set_value(True)
    at.toggle(key="show_3d").set_value(True)
    _run(at)
    charts = _charts(at)
    # the 3D view right under the main chart, before the loss chart
    assert len(charts) == 3 and charts[1]["data"][0]["type"] == "surface"
    assert charts[2]["layout"]["yaxis"]["type"] == "log"  # the loss chart
    assert any("−∇f" in t.get("name", "") for t in charts[0]["data"])
    at.toggle(key="show_moments").set_value(False)
    _run(at)
    assert not any(t.get("name") == "current step" for t in _charts(at)[0]["data"])


def test_invalid_combination_is_reported_and_other_runs_go_on(at):
    _edit(at, 3)
    at.selectbox(key="r3.optimizer").set_value("sgd")
    _run(at)
    at.checkbox(key="r3.nesterov").check()  # momentum is 0: torch refuses
    _run(at)
    assert any("Nesterov momentum requires a momentum and zero dampening" in w.value for w in at.warning)
    assert len(_path_traces(_charts(at)[0])) == 3


def test_a_single_invalid_run_is_not_called_missing(at):
    # One run left, and torch refuses its settings: the page says what to fix, not that there are no runs.
    for rid in range(3):
        _edit(at, rid)
        at.button(key=f"r{rid}.del").click()
        _run(at)
    at.checkbox(key="r3.nesterov").check()  # SGD with momentum 0: torch refuses
    _run(at)
    (warning,) = at.warning
    assert "Nesterov momentum requires" in warning.value and "it is the only run left" in warning.value
    assert "other runs" not in warning.value
    (info,) = at.info
    assert "until its settings are fixed" in info.value and "no runs" not in info.value
    assert not _charts(at)


def test_on_a_saddle_escaping_is_not_a_fault_and_no_minimum_is_asked_for(at):
    at.number_input(key="tolerance").set_value(0.5)
    _run(at)
    at.selectbox(key="surface").set_value("saddle")
    _run(at)
    # SGD runs far off the plot at the defaults: said plainly, with no advice to lower the learning rate
    assert not at.warning, [w.value for w in at.warning]
    (info,) = [i for i in at.info if "ran far off the plot" in i.value]
    assert info.value.startswith("**SGD (lr 0.01)** left the saddle and ran far off the plot")
    assert "smaller learning rate" not in info.value
    (table,) = at.table
    assert not [c for c in table.value.columns if "minimum" in c]
    assert not [n for n in at.number_input if n.key == "tolerance"]
    # back on a surface with a minimum: the tolerance the user set is still there
    at.selectbox(key="surface").set_value("rosenbrock")
    _run(at)
    assert at.number_input(key="tolerance").value == 0.5
    assert "steps to within 0.5 of a minimum" in at.table[0].value.columns


def _visible_text(at) -> list[str]:
    """Every text the page shows: Markdown, captions, alerts, the summary table's cells, and the chart's trace
    names, labels and hover texts."""
    texts = [e.value for kind in ("markdown", "caption", "warning", "info", "error") for e in at.get(kind)]
    texts += [str(cell) for table in at.table for cell in [*table.value.columns, *table.value.to_numpy().ravel()]]
    for spec in _charts(at):
        for trace in spec["data"]:
            texts += [str(trace.get(key)) for key in ("name", "text", "hovertemplate") if trace.get(key)]
    return texts


def test_a_run_that_ran_off_the_plot_is_told_in_plain_words():
    """No "escape box", "domain" or "100×" on the page: where a run went, and why it stopped, in a student's words."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["run"] = ["adam:lr=0.05", "sgd:lr=0.01", "sgd:lr=10"]
    at.query_params["steps"] = "100"
    at = _run(at)
    _open_explain(at)
    at.selectbox(key="explain_run").set_value(1)  # the run that ran off
    _run(at)
    texts = _visible_text(at)
    assert not [t for t in texts if re.search(r"escape|domain|100×|non-finite|inf/NaN", t, re.IGNORECASE)], texts
    (warning,) = [w.value for w in at.warning if w.value.startswith("**SGD (lr 0.01)**")]
    assert "ran far off the plot at step 4" in warning and "over 50 plot widths away" in warning
    assert list(at.table[0].value["stopped early"]) == ["—", "step 4 (ran far off the plot)",
                                                          "step 1 (ran far off the plot)"]
    assert "SGD (lr 0.01) ran far off the plot at step 4<extra></extra>" in texts


def test_diverging_run_is_reported_not_raised(at):
    _edit(at, 3)
    at.select_slider(key="r3.lr").set_value(0.1)  # SGD on Rosenbrock: overflows at once
    _run(at)
    assert any("stopped there" in w.value for w in at.warning)
    assert any(t.get("name", "").endswith(" stopped") for t in _charts(at)[0]["data"])


def test_small_learning_rates_and_eps_read_compactly_everywhere():
    """η and ε between 1e-4 and 1e-3 (and any other value) as the slider, the sidebar's list, the legend and the
    summary show them: 3e-4, never 0.0003e0."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["run"] = ["adam:lr=0.0003,eps=0.0005", "rmsprop:lr=0.0001,alpha=0.9999"]
    at = _run(at)
    labels = ["Adam (lr 3e-4, ε 5e-4)", "RMSProp (lr 1e-4, α 0.9999)"]
    sidebar = next(m.value for m in at.markdown if "**1**" in m.value)
    assert all(label in sidebar for label in labels), sidebar
    assert [t["name"] for t in _path_traces(_charts(at)[0])] == labels
    assert list(at.table[0].value["run"]) == labels
    lr, eps = at.select_slider(key="r0.lr"), at.select_slider(key="r0.eps")
    assert (lr.value, eps.value) == (3e-4, 5e-4) and "3e-4" in lr.options and "5e-4" in eps.options
    shown = [*lr.options, *eps.options, sidebar, *labels]
    assert not [text for text in shown if re.search(r"\de0\b|e\+", text)], shown


def test_all_runs_removed_shows_guidance_and_recovers(at):
    for rid in range(4):
        _edit(at, rid)
        at.button(key=f"r{rid}.del").click()
        _run(at)
    assert any("no runs" in i.value for i in at.info)
    assert not _charts(at)
    next(b for b in at.button if "Default runs" in b.label).click()
    _run(at)
    assert len(_path_traces(_charts(at)[0])) == 4


def test_ten_thousand_steps(at):
    at.slider(key="steps").set_value(10_000)
    _run(at)
    traj = _charts(at)[0]
    assert traj["layout"]["meta"]["optivizPlayback"]["n"] == 10_000
    assert all(len(t["x"]) == 10_001 for t in _path_traces(traj))  # every step, for the playback


def test_quadratic_parameters(at):
    at.selectbox(key="surface").set_value("quadratic")
    _run(at)
    at.select_slider(key="kappa").set_value(100.0)
    at.slider(key="angle").set_value(30.0)
    _run(at)
    formula = at.latex[0].value
    assert r"\kappa=100" in formula and "30^\\circ" in formula


def test_the_bowls_condition_and_rotation_keep_the_users_settings(at):
    # How the same runs fare on a more ill-conditioned or rotated bowl is the lesson: κ and the rotation
    # change neither the start, nor the noise, nor any run's settings (a new surface does, and says so).
    at.selectbox(key="surface").set_value("quadratic")
    _run(at)
    assert "Start point and learning rates set" in at.toast[0].value
    at.number_input(key="start_x").set_value(3.0)
    at.slider(key="noise").set_value(0.3)
    at.select_slider(key="r0.lr").set_value(0.12)
    _run(at)
    at.select_slider(key="kappa").set_value(30.0)
    _run(at)
    at.slider(key="angle").set_value(45.0)
    _run(at)
    assert at.number_input(key="start_x").value == 3.0 and at.slider(key="noise").value == 0.3
    assert at.select_slider(key="r0.lr").value == 0.12
    assert not at.toast
    assert r"\kappa=30" in at.latex[0].value
    names = [t["name"] for t in _path_traces(_charts(at)[0])]
    assert names[0].startswith("Adam (lr 0.12") and names[3] == "SGD (lr 0.4)", names  # SGD as it was
    # A new surface resets them, and the notice names the noise when it changes too.
    at.selectbox(key="surface").set_value("beale")
    _run(at)
    assert at.toast[0].value.startswith("Start point, learning rates and gradient noise (σ = 0)")
    assert at.number_input(key="start_x").value == surfaces.get("beale").start[0]


def test_recommended_learning_rates_are_on_the_sliders_grid():
    # the quadratic's SGD rate is computed from κ (0.4 · 20/κ), rounded down onto the slider's grid
    for kappa in C.KAPPA_GRID:
        lr = surfaces.get("quadratic", kappa=kappa).lr["sgd"]
        assert lr in C.LR_GRID and 0.75 * 0.4 * 20 / kappa <= lr <= 0.4 * 20 / kappa, (kappa, lr)
    for name in surfaces.names():
        assert all(lr in C.LR_GRID for lr in surfaces.get(name).lr.values()), name


def _open_explain(at):
    assert not [s for s in at.selectbox if s.key == "explain_run"]  # closed: nothing built
    at.session_state["explain_open"] = True
    _run(at)


def test_explain_panel_shows_equations_with_numbers(at):
    _open_explain(at)
    assert at.selectbox(key="explain_run").value == 0
    at.slider(key="explain_step").set_value(3)
    _run(at)
    latex = [e.value for e in at.latex]
    assert any(r"\hat m" in s or r"\hat{m}" in s for s in latex)
    assert any("m_{3}" in s for s in latex)  # step 3's numbers substituted
    at.selectbox(key="explain_run").set_value(3)  # SGD
    _run(at)
    assert any("SGD" in m.value for m in at.markdown)


def test_explain_note_speaks_of_the_step_shown(at):
    _open_explain(at)
    (note,) = [i.value for i in at.info if "bias corrections" in i.value]
    assert note.startswith("At step 1 the bias corrections make m̂₁ = g₁ and v̂₁ = g₁² exactly")
    at.slider(key="explain_step").set_value(40)
    _run(at)
    (note,) = [i.value for i in at.info if "bias corrections" in i.value]
    assert note.startswith("At step 40 the bias corrections divide m₄₀ by 1 − β₁⁴⁰ = 0.985 and v₄₀ by 1 − β₂⁴⁰ = "
                           "0.0392") and "At step 1" not in note
    assert "Adam steps each coordinate by lr × m̂/√v̂" in note  # then what holds at every step


def test_explain_run_picker_shows_the_new_label_when_the_run_changes(at):
    """Streamlit keeps showing a select box's old option text when only its format changed; the panel sets
    the value again then, so the picker is resent showing the run's new label (and stays on that run)."""
    _open_explain(at)
    at.selectbox(key="explain_run").set_value(1)  # RMSProp
    _run(at)
    rid = at.session_state["run_ids"][1]
    at.session_state["edit_run"] = rid
    _run(at)
    at.select_slider(key=f"r{rid}.lr").set_value(0.01)
    _run(at)
    picker = at.selectbox(key="explain_run")
    assert picker.value == 1 and picker.proto.set_value
    label = picker.proto.options[1]
    assert label == "RMSProp (lr 0.01)"
    assert picker.proto.raw_value == label


def test_explain_stays_on_the_picked_run_when_another_is_removed(at):
    _open_explain(at)
    at.selectbox(key="explain_run").set_value(1)  # RMSProp, run 2
    _run(at)
    _edit(at, 0)
    at.button(key="r0.del").click()  # remove Adam, run 1: RMSProp becomes the first run
    _run(at)
    picker = at.selectbox(key="explain_run")
    assert picker.value == 1 and picker.proto.options[0].startswith("RMSProp")
    assert any(m.value.endswith("**RMSProp — step 1 of 1000**") for m in at.markdown)  # the panel's title
    assert not [c for c in at.caption if "picked before is gone" in c.value]
    _edit(at, 1)
    at.button(key="r1.del").click()  # remove RMSProp itself: the first remaining run, said so
    _run(at)
    picker = at.selectbox(key="explain_run")
    assert picker.value == 2 and picker.proto.options[0].startswith("AdaGrad")
    assert [c for c in at.caption if "picked before is gone" in c.value]


def test_explain_step_is_clamped_when_runs_get_shorter(at):
    _open_explain(at)
    at.slider(key="explain_step").set_value(900)
    _run(at)
    at.slider(key="steps").set_value(100)
    _run(at)
    assert at.slider(key="explain_step").value == 100


def test_download_buttons_are_offered(at):
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Runs (CSV)", "Runs (JSON)", "Animated chart (HTML)", "PyTorch script"]


def test_the_downloads_number_the_runs_as_the_sidebar_does(at, monkeypatch):
    """Run 2's settings refused: the CSV holds runs 1, 3 and 4, numbered so, under a plain header row, and the
    PyTorch script prints them under those numbers."""
    import io

    import pandas as pd
    from streamlit.runtime.media_file_manager import MediaFileManager

    made = {}
    add_deferred = MediaFileManager.add_deferred

    def build_csv_now(self, data, mimetype, coordinates, file_name=None, **options):
        if file_name.endswith((".csv", ".py")):
            made[file_name] = data()  # what a press of the button downloads
        return add_deferred(self, data, mimetype, coordinates, file_name, **options)

    monkeypatch.setattr(MediaFileManager, "add_deferred", build_csv_now)
    _edit(at, 1)
    at.selectbox(key="r1.optimizer").set_value("sgd")
    _run(at)
    at.checkbox(key="r1.nesterov").check()  # momentum is 0: torch refuses
    _run(at)
    assert any(w.value.startswith("Run 2: Nesterov momentum requires") for w in at.warning)
    table = pd.read_csv(io.StringIO(made["optiviz-rosenbrock.csv"]))
    assert list(table.columns[:4]) == ["run", "optimizer", "settings", "step"]
    runs = table.groupby("run", sort=False)
    assert list(runs.groups) == [1, 3, 4]
    assert [runs.get_group(k)["optimizer"].iloc[0] for k in (1, 3, 4)] == ["adam", "adagrad", "sgd"]
    assert list(runs.size()) == [1001] * 3
    script = made["optiviz-rosenbrock.py"]
    assert [line.split(",")[0] for line in script.splitlines() if line.startswith("run(")] == [
        "run(1", "run(3", "run(4"]


@pytest.mark.parametrize(("point", "want"), [
    ({"x": -0.800000011920929, "y": 1.399999976158142}, (-0.8, 1.4)),  # float32 grid point: its own digits
    ({"x": -7.0, "y": 99.0}, (-2.0, 3.0)),  # clipped to Rosenbrock's domain
    ({"x": 0.25, "y": float("nan")}, None),
    ({"x": "a", "y": 1}, None),
    ({"y": 1}, None),
    (None, None),
    ([0.5, 0.5], None),
])
def test_a_click_on_the_contour_gives_a_clean_start(point, want):
    from optiviz import ui

    assert ui.start_from_click(point, surfaces.get("rosenbrock").domain) == want


def test_the_default_view_is_built_once_at_startup_and_the_first_visitor_finds_it_cached(monkeypatch):
    """``ui.ensure_compiled`` builds the default view's figures and run 1's previews before any session goes on
    (a class opens the default link together); the page at the defaults is then a cache hit, not a second
    build."""
    import streamlit as st

    from optiviz import figures, previews, ui

    builds, families = [], []
    real, real_family = figures.create_trajectory_figure, previews.family
    monkeypatch.setattr(figures, "create_trajectory_figure", lambda *a, **k: builds.append(1) or real(*a, **k))
    monkeypatch.setattr(previews, "family", lambda *a, **k: families.append(a[2]) or real_family(*a, **k))
    st.cache_resource.clear()
    st.cache_data.clear()
    ui.ensure_compiled()
    assert len(builds) == 1 and families == ["lr", "beta1", "beta2", "eps"]
    _run()
    assert len(builds) == 1 and len(families) == 4


def _previews(at):
    [element] = [c for c in at.get("bidi_component") if c.proto.component_name == "optiviz.previews"]
    return json.loads(element.proto.json)


def test_the_edited_runs_sliders_are_previewed_with_the_sliders_own_options(at):
    """The page maps a dragged slider's position to a value through each family's ``options``: they must be
    the sidebar slider's options, in order, for whichever run is edited."""
    for rid, names in ((0, ["lr", "beta1", "beta2", "eps"]), (1, ["lr", "alpha", "eps", "momentum"])):
        _edit(at, rid)
        data = _previews(at)
        assert data["run"] == rid and list(data["params"]) == names
        assert data["color"] == figures.OPTIMIZER_COLORS[("adam", "rmsprop")[rid]]
        for name, entry in data["params"].items():
            slider = at.select_slider(key=f"r{rid}.{name}")
            assert entry["current"] == slider.value
            assert [C.fmt_number(v) for v in entry["options"]] == list(slider.options)
    at.select_slider(key="r1.lr").set_value(0.02)  # a release: the family for η is the same, current moves
    _run(at)
    assert _previews(at)["params"]["lr"]["current"] == 0.02


def _run_colors(at):
    """Each run's colour in the legend, in order, and in the sidebar's list of runs."""
    traj = _charts(at)[0]
    legend = [t["line"]["color"] for t in _path_traces(traj)]
    listed = [m.value for m in at.sidebar.markdown if "●" in m.value and "**Run" not in m.value]
    return legend, listed


@pytest.mark.parametrize("runs", [["rmsprop", "adam"], ["adam", "sgd", "rmsprop"], ["sgd", "adagrad", "adamw"]])
def test_each_optimizer_has_its_own_colour_in_every_link(runs):
    """Adam is Adam's blue whatever its place; RMSProp's red in every link."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["run"] = runs
    at.run()
    legend, listed = _run_colors(at)
    assert legend == [figures.OPTIMIZER_COLORS[name] for name in runs]
    assert all(color in text for color, text in zip(legend, listed[0].split("<br>"), strict=True))


def test_two_runs_of_one_optimizer_get_shades_of_its_colour():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["run"] = ["adam", "adam:betas=0.9/0.9", "sgd", "adam:lr=0.01"]
    at.run()
    legend, _ = _run_colors(at)
    assert legend[0] == figures.OPTIMIZER_COLORS["adam"] and legend[2] == figures.OPTIMIZER_COLORS["sgd"]
    assert len({legend[0], legend[1], legend[3]}) == 3  # three shades of one hue
    hue = lambda c: colorsys.rgb_to_hls(*(int(c[k:k + 2], 16) / 255 for k in (1, 3, 5)))[0]  # noqa: E731
    assert max(abs(hue(legend[k]) - hue(legend[0])) for k in (1, 3)) < 0.02


def test_focus_puts_the_lessons_text_beside_the_chart_and_the_controls_in_one_line():
    """The classroom layout: no title; the Lessons menu (its label hidden) and the formula in one line; the
    lesson's text in a column beside the chart, not above it (the contour stays on the first screen)."""
    from _apptest import open_app

    from optiviz import lessons

    lesson = lessons.get("bias-correction")
    at = open_app({"lesson": lesson.id, "show": "moments,focus"})
    texts = [m.value for m in at.markdown]
    assert not any(t.startswith("#### Optimizer trajectories") for t in texts)
    visibility = at.selectbox(key="lesson_pick").proto.label_visibility
    names = visibility.DESCRIPTOR.fields_by_name["value"].enum_type.values_by_number
    assert names[visibility.value].name == "COLLAPSED"
    main, beside = at.columns[:2]
    assert [c.get("bidi_component")[0].proto.component_name for c in (main,)] == ["optiviz.plotly_chart"]
    assert any(lesson.title in m.value for m in beside.markdown)
    assert not any(lesson.title in m.value for m in main.markdown)
    # without focus: the title, the menu with its label, the text above the chart
    plain = open_app({"lesson": lesson.id})
    assert any(m.value.startswith("#### Optimizer trajectories") for m in plain.markdown)
    assert names[plain.selectbox(key="lesson_pick").proto.label_visibility.value].name == "VISIBLE"
    assert not plain.columns or not any(lesson.title in m.value for c in plain.columns for m in c.markdown)


def test_a_second_run_of_an_optimizer_is_listed_with_a_dashed_line():
    from _apptest import open_app

    at = open_app({"run": ["adam", "sgd", "adam:lr=0.01"]})
    listed = next(m.value for m in at.sidebar.markdown if "**1**" in m.value).split("<br>")
    assert "stroke-dasharray" not in listed[0] and "stroke-dasharray" not in listed[1]
    assert "stroke-dasharray='5,3'" in listed[2]  # dashed, as its path and its legend entry
    traj = _charts(at)[0]
    assert [t["line"]["dash"] for t in _path_traces(traj)] == ["solid", "solid", "dash"]


def test_the_formula_and_the_summary_come_in_a_narrow_screens_form_too(at):
    """Display math for wide screens and inline math (which KaTeX breaks into lines) for narrow ones; the table
    and one paragraph per run (the page's CSS shows one of each by the width it has)."""
    from optiviz.ui import breakable_latex

    gp = surfaces.get("goldstein_price").latex
    assert "aligned" not in breakable_latex(gp) and "\\left" not in breakable_latex(gp)
    assert "\\right" not in breakable_latex(gp) and "&" not in breakable_latex(gp)
    assert breakable_latex("f = \\left(x + y\\right)^2") == "f = (x + y)^2"
    assert at.latex[0].value.strip("$\n") == surfaces.get("rosenbrock").latex
    assert any(m.value == f"$\\displaystyle {breakable_latex(surfaces.get('rosenbrock').latex)}$"
               for m in at.markdown)
    cards = next(m.value for m in at.markdown if m.value.startswith("**Adam"))
    assert cards.count("\n\n") == 3 and "final loss: " in cards and "steps to within 0.01 of a minimum: " in cards
    assert len(at.table) == 1


@pytest.mark.parametrize("name", list(optiviz.OPTIMIZERS))
def test_every_optimizers_controls_come_from_its_metadata(name):
    """Switching a run to any optimizer draws exactly its widgets, as its Params describe them (a slider on its
    grid, a checkbox for a flag, a number box otherwise), at its defaults and its recommended lr; a change to one
    of them reaches the run's settings."""
    at = _run()
    _edit(at, 1)
    at.selectbox(key="r1.optimizer").set_value(name)
    _run(at)
    spec = optiviz.OPTIMIZERS[name]
    kinds = {"slider": at.select_slider, "checkbox": at.checkbox, "number": at.number_input}
    for param, hyper, index in spec.widgets():
        kind = "checkbox" if param.flag else "slider" if param.grid else "number"
        widget = kinds[kind](key=f"r1.{param.name}")
        assert widget.label == param.label, (name, param.name)
        default = spec.defaults[hyper] if index is None else spec.defaults[hyper][index]
        want = spec.recommended_lr(surfaces.get("rosenbrock")) if param.name == "lr" else default
        if param.blank:  # a default of None or inf shows as an empty box, which the run reads as the default
            assert widget.value is None and widget.proto.placeholder == str(default), (name, param.name)
            continue
        assert widget.value == want, (name, param.name)
    sliders = [p for p, _, _ in spec.widgets() if p.grid]
    first = next((p for p in sliders if p.name != "lr"), sliders[0])  # Rprop has only lr on a grid
    options = at.select_slider(key=f"r1.{first.name}").options
    # from the top of the grid: its bottom (0) is refused where 0 is not allowed (Schedule-Free SGD's momentum)
    new = next(o for o in reversed(options) if float(o) != at.select_slider(key=f"r1.{first.name}").value)
    at.select_slider(key=f"r1.{first.name}").set_value(float(new))
    _run(at)
    spec_now = parse_run(at.query_params["run"][1])  # the link says what the run now is
    assert spec_now.optimizer == name
    _, hyper, index = spec.widget(first.name)
    value = spec_now.hyper[hyper] if index is None else spec_now.hyper[hyper][index]
    assert value == float(new)
