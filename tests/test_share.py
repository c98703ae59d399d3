"""Links: the view as URL parameters, both ways; anything malformed is reported by name, never raised."""

import json
from dataclasses import replace
from pathlib import Path
from unittest.mock import patch

import pytest
from _apptest import open_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optiviz
import surfaces
from optiviz import lessons, share

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _query_to_params(query):
    return {k: (v if isinstance(v, list) else [v]) for k, v in query.items()}


def _charts(at):
    """The figures of the page's charts (``optiviz.chart`` components) as sent to the browser."""
    return [json.loads(json.loads(c.proto.json)["figure"]) for c in at.get("bidi_component")
            if c.proto.component_name == "optiviz.plotly_chart"]


VIEWS = [
    share.View(),
    share.View(surface="beale", start=(1.0, 1.5), steps=700, noise=0.25, seed=9,
               runs=(optiviz.RunSpec("adam", lr=0.05, betas=(0.9, 0.9)), optiviz.RunSpec("adam", lr=0.05)),
               show=frozenset({"arrows", "3d"}), step=250),
    share.View(surface="quadratic", surface_params=(("angle", 30.0), ("kappa", 50.0)), start=(-5.0, -2.0),
               runs=(optiviz.RunSpec("sgd", lr=0.0123, momentum=0.9, nesterov=True),
                     optiviz.RunSpec("rmsprop", lr=0.01, centered=True, eps_inside_sqrt=True),
                     optiviz.RunSpec("adagrad", lr=0.3, lr_decay=0.01, initial_accumulator_value=0.1),
                     optiviz.RunSpec("adamw", lr=0.001, weight_decay=0.1, amsgrad=True, bias_correction=False))),
    share.View(surface="noisy_saddle"),
    share.View(surface="booth", show=frozenset({"moments", "focus"})),  # the classroom layout
    # a lesson's view with its id, as the app writes it while the lesson's text is shown
    replace(lessons.get("sgd-zigzag").view, lesson="sgd-zigzag"),
]


@pytest.mark.parametrize("view", VIEWS)
def test_round_trip(view):
    query = share.view_to_query(view)
    parsed, messages = share.parse_view(_query_to_params(query))
    assert messages == []
    assert parsed == view.resolved()
    assert share.view_to_query(parsed) == query


def test_defaults_need_no_parameters():
    view, messages = share.parse_view({})
    assert messages == [] and view.resolved().runs == optiviz.default_runs("rosenbrock")


@pytest.mark.parametrize(("params", "name"), [
    ({"surface": ["nope"]}, "surface=nope"),
    ({"surface": ["quadratic:kappa=-3"]}, "surface=quadratic:kappa=-3"),
    ({"start": ["nan,1"]}, "start=nan,1"),
    ({"start": ["1"]}, "start=1"),
    ({"start": ["100,100"]}, "start=100,100"),
    ({"steps": ["0"]}, "steps=0"),
    ({"steps": ["1e9"]}, "steps=1e9"),
    ({"steps": ["12.5"]}, "steps=12.5"),
    ({"noise": ["-1"]}, "noise=-1"),
    ({"noise": ["inf"]}, "noise=inf"),
    ({"seed": ["-4"]}, "seed=-4"),
    ({"run": ["adam:lr=-1"]}, "run #1=adam:lr=-1"),
    ({"run": ["adam:lr=1e6"]}, "run #1=adam:lr=1e6"),
    ({"run": ["adam:betas=1/0.9"]}, "run #1=adam:betas=1/0.9"),
    ({"run": ["bogus"]}, "run #1=bogus"),
    ({"run": ["sgd:nesterov=true"]}, "run #1=sgd:nesterov=true"),
    ({"show": ["everything"]}, "show=everything"),
    ({"wat": ["1"]}, "wat"),
])
def test_each_bad_parameter_is_named_and_only_it_falls_back(params, name):
    good = {"steps": ["300"], "seed": ["5"]} if "steps" not in params and "seed" not in params else {}
    view, messages = share.parse_view({**good, **params})
    assert len(messages) >= 1 and any(name in m for m in messages), messages
    if good:
        assert view.steps == 300 and view.seed == 5  # the other parameters are kept
    view.resolved()  # and the result is usable


def test_too_many_runs_keeps_the_first_eight():
    view, messages = share.parse_view({"run": [f"adam:lr={0.001 * (i + 1):g}" for i in range(12)]})
    assert len(view.runs) == 8 and "at most 8" in messages[0]


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
_params = st.dictionaries(
    st.one_of(st.sampled_from(["lesson", "surface", "start", "steps", "noise", "seed", "run", "show", "step"]),
              _text),
    st.lists(st.one_of(_text, st.sampled_from(["adam:lr=0.1", "sgd:momentum=0.9", "1,2", "nan", "-0", "1e308",
                                               "quadratic:kappa=1e9", "rmsprop:alpha=0.5,centered=1",
                                               "adam:bias_correction=false", "20", *lessons.ids()])),
             min_size=1, max_size=10),
    max_size=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_params)
def test_any_parameters_give_a_usable_view_and_never_raise(params):
    view, messages = share.parse_view(params)
    resolved = view.resolved()
    assert 1 <= len(resolved.runs) <= share.MAX_RUNS
    assert share.MIN_STEPS <= resolved.steps <= share.MAX_STEPS and 0 <= resolved.step <= resolved.steps
    assert resolved.lesson is None or resolved.lesson in lessons.ids()
    (x0, x1), (y0, y1) = resolved.surface_object().domain
    assert x0 <= resolved.start[0] <= x1 and y0 <= resolved.start[1] <= y1
    assert all(isinstance(m, str) and m for m in messages)
    # What a link produced, the app can run.
    optiviz.simulate(resolved.surface_object(), resolved.runs, start=resolved.start, steps=20,
                     noise=resolved.noise, seed=resolved.seed)


def _path_traces(spec):
    """Each run's full path on the contour: the trace that is its legend entry."""
    return [t for t in spec["data"] if t.get("legendgroup", "").startswith("run") and t.get("showlegend", True)
            and t.get("mode") == "lines" and t.get("xaxis", "x") == "x"]


def test_opening_a_link_reproduces_the_view():
    query = share.view_to_query(VIEWS[2])
    at = open_app(query)
    assert at.session_state["surface"] == "quadratic" and at.session_state["kappa"] == 50.0
    assert (at.session_state["start_x"], at.session_state["start_y"]) == (-5.0, -2.0)
    assert at.select_slider(key="r0.lr").value == 0.0123  # off the slider's grid, kept exactly
    assert at.session_state["r1.eps_inside_sqrt"] is True
    assert at.session_state["r3.bias_correction"] is False and at.query_params["run"][3].endswith(
        "bias_correction=false")
    traj = _charts(at)[0]
    names = [t["name"] for t in _path_traces(traj)]
    assert len(names) == 4 and names[0].startswith("SGD (lr 0.0123")
    # The address the app writes back is the same view.
    parsed, messages = share.parse_view(_query_to_params(dict(at.query_params)))
    assert messages == [] and parsed == VIEWS[2].resolved()


def test_a_bad_link_shows_one_message_and_keeps_the_rest():
    at = open_app({"surface": "beale", "steps": "abc", "run": ["adam:lr=0.05", "adam:betas=2/0.9"]})
    assert at.session_state["surface"] == "beale" and at.session_state["steps"] == 1000
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and "steps=abc" in warnings[0] and "run #2" in warnings[0]
    assert "Invalid beta parameter at index 0: 2.0" in warnings[0]
    traj = _charts(at)[0]
    assert len(_path_traces(traj)) == 1


def test_every_surface_link_opens():
    for name in surfaces.names():
        open_app({"surface": name})


def test_a_links_step_reaches_the_chart_and_comes_back_in_the_address():
    at = open_app({"step": "25", "steps": "200"})
    assert at.session_state["view_step"] == 25
    sync = [c for c in at.get("bidi_component") if c.proto.component_name == "optiviz.sync"]
    assert len(sync) == 1 and json.loads(sync[0].proto.json) == {"step": 25, "echo": False}
    assert at.query_params["step"] == "25"


def _sync(at):
    [element] = [c for c in at.get("bidi_component") if c.proto.component_name == "optiviz.sync"]
    return json.loads(element.proto.json)


def test_the_charts_own_step_is_not_sent_back_to_it():
    """The chart reports the step it stopped on; by the time the page has rerun the user may have stepped on,
    so that step comes back marked as the chart's own (the page does not pull the chart back to it). A step
    from the Explain picker or a link is sent."""
    at = open_app({"steps": "200"})
    at.session_state["trajectory_chart"] = {"step": 7}
    from optiviz import ui

    with patch.object(ui.st, "session_state", at.session_state):  # as the chart's callback runs it
        ui.set_step_from_chart()
    at.run()
    assert at.session_state["view_step"] == 7 and _sync(at) == {"step": 7, "echo": True}
    assert at.query_params["step"] == "7"
    at.session_state["explain_open"] = True
    at.run()
    at.slider(key="explain_step").set_value(12).run()
    assert _sync(at) == {"step": 12, "echo": False}


@pytest.mark.parametrize(("step", "message"), [
    ("-3", "'-3' is not a step: steps are whole numbers from 0 to 200"),
    ("201", "'201' is past the last step, 200"),
    ("nan", "'nan' is not a finite number"),
    ("2.5", "'2.5' is not a step"),
])
def test_a_bad_step_is_named_and_the_chart_starts_at_0(step, message):
    at = open_app({"step": step, "steps": "200"})
    (warning,) = [w.value for w in at.warning]
    assert f"`step={step}`: {message}" in warning and "using 0." in warning
    assert at.session_state["view_step"] == 0 and "step" not in at.query_params


def test_fewer_steps_bring_the_step_shown_within_them():
    at = open_app({"step": "150", "steps": "200"})
    at.slider(key="steps").set_value(100).run()
    assert at.session_state["view_step"] == 100 and at.query_params["step"] == "100"


def _toggle(at, key):
    return next(t for t in at.toggle if t.key == key)


def test_the_focus_toggle_is_kept_in_the_address_both_ways():
    """Focus, like the other view options, comes from a link, and switching it writes the address."""
    at = open_app({"surface": "booth", "show": "moments,focus"})
    assert _toggle(at, "show_focus").value is True and at.session_state["show_focus"] is True
    layout = _charts(at)[0]["layout"]
    assert layout["meta"]["optivizSquare"]["fit"] == "screen"  # the chart draws the focus layout
    assert at.query_params["show"] == "moments,focus"
    _toggle(at, "show_focus").set_value(False).run()
    assert at.query_params["show"] == "moments" and "optivizSquare" not in _charts(at)[0]["layout"]["meta"]
    _toggle(at, "show_focus").set_value(True).run()
    parsed, messages = share.parse_view(_query_to_params(dict(at.query_params)))
    assert messages == [] and "focus" in parsed.show and parsed.surface == "booth"
