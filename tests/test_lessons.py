"""The lessons: each opens (from its link and from the menu) without a warning and sets the view it claims, and
what its text says holds in the engine's numbers (as the surfaces' descriptions are checked in test_surfaces)."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from _apptest import open_app

import optiviz
import surfaces
from optiviz import lessons, share
from optiviz.summary import markdown_text

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
LESSON_IDS = lessons.ids()

#: The topics issue 15 asks for, each with the lesson that teaches it.
TOPICS = {
    "bias correction in the first ten steps (β₂ = 0.999 vs no correction)": "bias-correction",
    "ε inside vs outside the square root": "eps-inside-sqrt",
    "β₂ = 0.9 vs 0.999": "beta2",
    "momentum vs RMSProp vs Adam on an ill-conditioned bowl (κ = 50)": "ill-conditioned",
    "SGD's zig-zag with and without momentum": "sgd-zigzag",
    "AdaGrad's shrinking step": "adagrad-shrinks",
    "AMSGrad vs Adam": "amsgrad",
    "AdamW vs Adam with L2": "adamw-vs-l2",
    "escaping a saddle with gradient noise": "saddle-noise",
    # issue 17: learning-rate schedules
    "warm-up rescuing Adam at a large η": "warmup",
    "cosine vs constant at the end of a run": "cosine-vs-constant",
    "OneCycle's β₁ cycling and what it does to m̂ₜ": "onecycle-beta1",
}


def _sentences(text):
    return len(re.findall(r"[.!?](?=\s+[A-Z(]|$)", text))


def _params(query):
    return {k: (v if isinstance(v, list) else [v]) for k, v in query.items()}


# ---------------------------------------------------------------------------------------------- the table

def test_at_least_nine_lessons_one_per_topic():
    assert len(LESSON_IDS) >= 9 and len(set(LESSON_IDS)) == len(LESSON_IDS)
    assert set(TOPICS.values()) <= set(LESSON_IDS)
    assert len({lesson.title for lesson in lessons.LESSONS}) == len(LESSON_IDS)


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_powers_and_indices_read_as_written_maths(lesson_id):
    """The text is shown as Markdown, where "0.9^t" stays a caret and "m_t" an underscore: powers and the step
    index are superscripts and subscripts (0.9ᵗ, mₜ), as β₁ and β₂ already are. Names of torch's buffers
    (max_exp_avg_sq, weight_decay) keep their underscores."""
    lesson = lessons.get(lesson_id)
    for text in (lesson.title, lesson.text):
        assert "^" not in text and "$" not in text, text
        assert not re.search(r"(?<![A-Za-z_])[A-Za-zβεη]̂?_[A-Za-z0-9]\b", text), text
    if lesson_id == "bias-correction":
        assert "(1 − 0.9ᵗ)" in lesson.text and "√(1 − 0.999ᵗ)" in lesson.text and "m̂ₜ (dotted)" in lesson.text


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_each_lesson_is_a_valid_view_with_two_or_three_sentences(lesson_id):
    lesson = lessons.get(lesson_id)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", lesson.id)  # as it is in a link
    assert 2 <= _sentences(lesson.text) <= 3, lesson.text
    view = lesson.view
    assert view.resolved() == view and view.lesson is None  # every setting given; the id is added by a link
    assert 1 <= view.step <= view.steps and 1 <= len(view.runs) <= share.MAX_RUNS
    # The full link and the short one both give the lesson's view, with nothing refused.
    full, messages = share.parse_view(_params(lesson.query))
    assert messages == [] and full.lesson == lesson.id and lesson.matches(full) and full.step == view.step
    short, messages = share.parse_view({"lesson": [lesson.id]})
    assert messages == [] and short == full
    assert share.view_to_query(full) == lesson.query and lesson.link("http://x/") == f"http://x/?lesson={lesson.id}"
    # Nothing a lesson runs stops early on a surface with a minimum (which the app would warn about).
    sim = lesson.simulate()
    if sim.surface.minima:
        assert all(run.diverged_at is None for run in sim.runs)


def test_a_link_can_change_a_lessons_view_and_then_it_no_longer_matches():
    lesson = lessons.get("bias-correction")
    view, messages = share.parse_view({"lesson": [lesson.id], "steps": ["100"], "step": ["5"]})
    assert messages == [] and view.steps == 100 and view.step == 5 and view.lesson == lesson.id
    assert not lesson.matches(view) and lesson.matches(share.parse_view({"lesson": [lesson.id], "step": ["5"]})[0])
    # Fewer steps than the lesson's step: the step comes within them.
    assert share.parse_view({"lesson": ["adamw-vs-l2"], "steps": ["100"]})[0].step == 100
    # Another surface: the lesson's start and noise were for its own surface, the surface's own are used.
    other, messages = share.parse_view({"lesson": ["saddle-noise"], "surface": ["beale"]})
    assert messages == [] and other.resolved().start == surfaces.get("beale").start and other.resolved().noise == 0


@pytest.mark.parametrize(("params", "message"), [
    ({"lesson": ["nope"]}, "`lesson=nope`: Unknown lesson 'nope'; valid lessons: bias-correction, "),
    ({"lesson": ["nope"], "steps": ["300"]}, "using the link's other settings."),
    ({"lesson": [""]}, "`lesson=`: Unknown lesson ''"),
])
def test_an_unknown_lesson_is_named_and_the_rest_stands(params, message):
    view, messages = share.parse_view(params)
    assert len(messages) == 1 and message in messages[0], messages
    assert view.lesson is None and view.steps == (300 if "steps" in params else 1000)
    if len(params) == 1:
        assert messages[0].endswith("; using the default view.") and view == share.View()


# ---------------------------------------------------------------------------------------------- in the app


def _assert_shows(at, lesson):
    """The app shows ``lesson``: its view in the session and the address, its text, no warning or error."""
    assert not at.warning and not at.error, [w.value for w in at.warning] + [e.value for e in at.error]
    ss, view = at.session_state, lesson.view
    assert ss["lesson"] == lesson.id and ss["lesson_pick"] == lesson.id
    params = dict(view.surface_params)
    assert ss["surface"] == view.surface and all(ss[k] == x for k, x in params.items())
    assert (ss["start_x"], ss["start_y"]) == view.start and ss["steps"] == view.steps
    assert ss["noise"] == view.noise and ss["seed"] == view.seed and ss["view_step"] == view.step
    assert [ss[f"show_{s}"] for s in ("moments", "arrows", "3d")] == [s in view.show for s in ("moments", "arrows",
                                                                                             "3d")]
    # The address the app writes is the lesson's full link: the same runs, the same step.
    written, messages = share.parse_view(_params(dict(at.query_params)))
    assert messages == [] and written.lesson == lesson.id and lesson.matches(written) and written.step == view.step
    assert written.runs == view.runs
    sync = [c for c in at.get("bidi_component") if c.proto.component_name == "optiviz.sync"]
    assert len(sync) == 1 and json.loads(sync[0].proto.json) == {"step": view.step, "echo": False}
    # Its text, above the chart, and no note that the settings changed.
    texts = [m.value for m in at.markdown]
    assert f"**Lesson: {markdown_text(lesson.title)}**" in texts and markdown_text(lesson.text) in texts
    assert not [c for c in at.caption if "You changed the lesson's settings" in c.value]


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_a_lessons_link_opens_it(lesson_id):
    _assert_shows(open_app({"lesson": lesson_id}), lessons.get(lesson_id))


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_the_menu_opens_each_lesson(lesson_id):
    at = open_app()
    assert at.session_state["lesson"] is None and at.selectbox(key="lesson_pick").value is None
    at.selectbox(key="lesson_pick").set_value(lesson_id).run()
    assert not at.exception, [e.value for e in at.exception]
    _assert_shows(at, lessons.get(lesson_id))


def test_opening_a_lesson_with_explain_open_explains_its_first_run():
    at = open_app()
    at.session_state["explain_open"] = True
    at.run()
    at.selectbox(key="explain_run").set_value(3).run()  # SGD, run 4 of the default view
    at.selectbox(key="lesson_pick").set_value("amsgrad").run()
    assert not at.exception and not at.warning, [e.value for e in at.exception]
    assert at.selectbox(key="explain_run").value == at.session_state["run_ids"][0]
    assert not [c for c in at.caption if "The run picked before is gone" in c.value]


def test_changing_a_setting_keeps_the_text_with_a_note_back_and_close():
    at = open_app({"lesson": "beta2"})
    lesson = lessons.get("beta2")
    at.slider(key="steps").set_value(400).run()
    assert len([c for c in at.caption if "You changed the lesson's settings" in c.value]) == 1
    assert markdown_text(lesson.text) in [m.value for m in at.markdown]
    assert at.query_params["lesson"] == "beta2" and at.query_params["steps"] == "400"  # the link keeps both
    # playing or stepping the chart is not changing the lesson
    at.button(key="lesson_reopen").click().run()
    _assert_shows(at, lesson)
    at.session_state["view_step"] = 123
    at.run()
    assert not [c for c in at.caption if "You changed the lesson's settings" in c.value]
    at.button(key="lesson_close").click().run()
    assert at.session_state["lesson"] is None and at.selectbox(key="lesson_pick").value is None
    assert "lesson" not in at.query_params and markdown_text(lesson.text) not in [m.value for m in at.markdown]
    assert at.session_state["surface"] == "booth" and at.session_state["steps"] == 1000  # the view stays


def test_a_link_to_an_unknown_lesson_says_so_and_opens_the_default_view():
    at = open_app({"lesson": "nope"})
    (warning,) = [w.value for w in at.warning]
    assert "`lesson=nope`: Unknown lesson 'nope'; valid lessons:" in warning and "using the default view." in warning
    assert at.session_state["lesson"] is None and at.session_state["surface"] == "rosenbrock"
    assert [at.session_state[f"r{i}.optimizer"] for i in range(4)] == ["adam", "rmsprop", "adagrad", "sgd"]


# ---------------------------------------------------------------------------------------------- the claims

def _runs(lesson_id, **changes):
    """The lesson's runs, simulated (with ``changes`` to its scenario: noise=0, a surface ...)."""
    lesson = lessons.get(lesson_id)
    sc = lesson.scenario()
    args = dict(surface=sc.surface, runs=sc.runs, start=sc.start, steps=sc.steps, noise=sc.noise, seed=sc.seed)
    return lesson.text, optiviz.simulate(**{**args, **changes}).runs


def _first(mask):
    """The first index where ``mask`` is true (None if nowhere)."""
    hits = np.nonzero(mask)[0]
    return int(hits[0]) if hits.size else None


def _crossings(values):
    """How many times a series changes sign (exact zeros skipped)."""
    s = np.sign(values[values != 0])
    return int(np.sum(s[1:] != s[:-1]))


def test_bias_correction():
    text, (corrected, plain) = _runs("bias-correction")
    lr = 0.2
    assert "η = 0.2" in text and "3.2η at step 1 and grow to 5.7η" in text
    ratio_c = np.abs(corrected.update[:10]) / lr
    assert np.all((ratio_c > 0.97) & (ratio_c <= 1 + 1e-12))  # η per coordinate, each of the first ten steps
    ratio_p = np.abs(plain.update[:10]) / lr
    np.testing.assert_allclose(ratio_p[0], 0.1 / np.sqrt(0.001), rtol=1e-6)  # (1 − β₁)/√(1 − β₂) = 3.16
    assert round(ratio_p[0].max(), 1) == 3.2 and round(ratio_p.max(), 1) == 5.7
    assert np.all(ratio_p > 3)  # every one of the first ten steps at least 3η
    # The uncorrected run flies past (1, 3) after step 10 and swings 5 units beyond; the corrected closes in.
    assert "flies past the minimum (1, 3) after step 10 and swings 5 units beyond it" in text
    d_plain, d_corr = plain.distance_to([(1, 3)]), corrected.distance_to([(1, 3)])
    assert int(np.argmin(d_plain[:15])) == 10 and d_plain[11] > d_plain[10]
    assert 5.0 <= d_plain[10:40].max() < 5.5
    assert np.all(np.diff(d_corr[:101]) <= 0) and d_corr[200] < 1
    # Its panels: m̂ drawn for the corrected run only.
    from optiviz.figures import moment_series

    assert [n for n, _, _ in moment_series(plain)[0]] == ["m_t (exp_avg)"]
    assert [n for n, _, _ in moment_series(corrected)[0]] == ["m_t (exp_avg)", "m̂_t (bias-corrected)"]


def test_eps_inside_or_outside_the_square_root():
    text, (outside, inside) = _runs("eps-inside-sqrt")
    lr, eps = 0.01, 1e-3
    assert "ε = 0.001" in text and "(y = 0.00001)" in text and "only 0.00002" in text
    assert abs(outside.grad[0, 1]) == pytest.approx(2e-5)
    # Outside: nearly η a step sideways within ten steps; off the ridge at step 14. Inside: until step 39.
    assert "at step 14" in text and "until step 39" in text
    assert abs(outside.update[9, 1]) > 0.9 * lr
    assert _first(np.abs(outside.path[:, 1]) > 0.1) == 14 and _first(np.abs(inside.path[:, 1]) > 0.1) == 39
    # Inside, √(v̂ + ε) ≥ √ε: the effective step never exceeds η/√ε; outside it does, by far.
    assert "√ε ≈ 0.03" in text and round(np.sqrt(eps), 2) == 0.03
    assert np.all(inside.effective_lr <= lr / np.sqrt(eps) * (1 + 1e-12))
    assert outside.effective_lr[:, 1].max() > 10 * lr / np.sqrt(eps)
    assert "at step 10 its sideways step is over 100 times smaller" in text
    assert abs(outside.update[9, 1]) > 100 * abs(inside.update[9, 1])


def test_beta2():
    text, (short, long) = _runs("beta2")
    assert "σ = 0.3" in text and "β₂ = 0.9" in text and "β₂ = 0.999" in text
    # The effective step jumps about 5% a step with β₂ = 0.9, a tenth of a percent with 0.999.
    assert "jumps by about 5% from one step to the next" in text

    def jump(run):
        return np.mean(np.abs(np.diff(np.log(run.effective_lr[200:]), axis=0)))

    assert 0.04 < np.expm1(jump(short)) < 0.06 and jump(short) > 10 * jump(long)
    # Near the minimum (the last 300 steps): steps some 40 times longer, f over ten times higher.
    assert "steps some 40 times longer and over ten times higher in f" in text

    def steps(run):
        return np.linalg.norm(run.update[-300:], axis=1).mean()

    assert 30 < steps(short) / steps(long) < 55
    assert short.loss[-300:].mean() > 10 * long.loss[-300:].mean()


def test_momentum_rmsprop_and_adam_in_a_narrow_bowl():
    text, (sgd, rmsprop, adam) = _runs("ill-conditioned")
    assert "50 times more curved in y than in x" in text
    s = lessons.get("ill-conditioned").scenario().surface
    h11, h12, h22 = s.params
    assert h22 / h11 == pytest.approx(50) and h12 == 0
    assert "15 crossings of y = 0 in its first 100 steps" in text
    assert _crossings(sgd.path[:101, 1]) == 15
    assert "hardly cross y = 0" in text
    assert _crossings(rmsprop.path[:101, 1]) == 0 and _crossings(adam.path[:101, 1]) <= 3
    # First ten steps: as long in x as in y for RMSProp and Adam (step 1 exactly); momentum's mostly across.
    for run in (rmsprop, adam):
        assert abs(run.update[0, 0]) == pytest.approx(abs(run.update[0, 1]), rel=1e-6)
        assert 0.7 < np.abs(run.update[:10, 0]).sum() / np.abs(run.update[:10, 1]).sum() < 1.5
    assert np.abs(sgd.update[:10, 0]).sum() / np.abs(sgd.update[:10, 1]).sum() < 0.25
    assert "all three get within 0.1 of the minimum by step 100" in text

    def within(run, tol=0.1):
        return _first(run.distance_to([(0.0, 0.0)]) < tol)

    assert all(within(run) <= 100 for run in (sgd, rmsprop, adam))
    # Turned by 45°: RMSProp and Adam take 4 and 6 times as many steps, momentum just as many.
    assert "RMSProp and Adam then take 4 to 6 times as many steps, momentum just as many" in text
    _, turned = _runs("ill-conditioned", surface=surfaces.get("quadratic", kappa=50.0, angle=45.0), steps=1000)
    assert within(turned[0]) == within(sgd)
    ratios = [within(turned[k]) / within(run) for k, run in ((1, rmsprop), (2, adam))]
    assert all(3.5 <= r <= 6.5 for r in ratios) and round(min(ratios)) == 4 and round(max(ratios)) == 6


def test_sgds_zigzag():
    text, (plain, momentum) = _runs("sgd-zigzag")
    s = lessons.get("sgd-zigzag").scenario().surface
    assert "2/(κλ) = 0.2" in text and "lr < 2/(κλ) = 0.2." in s.description
    angle = np.radians(s.parameters["angle"])

    def across(run):  # the steep coordinate v, across the valley
        return -np.sin(angle) * run.path[:, 0] + np.cos(angle) * run.path[:, 1]

    assert "crosses the valley floor at every one of its first 50 steps" in text
    assert _crossings(across(plain)[:51]) == 50
    assert "(6 times in 50)" in text and _crossings(across(momentum)[:51]) == 6
    assert "within 0.1 at step 92, plain SGD at step 131" in text
    assert _first(momentum.distance_to([(0.0, 0.0)]) < 0.1) == 92
    assert _first(plain.distance_to([(0.0, 0.0)]) < 0.1) == 131


def test_adagrads_step_only_shrinks():
    text, (adagrad, rmsprop) = _runs("adagrad-shrinks")
    eff = adagrad.effective_lr
    assert "its step only shrinks" in text
    assert np.all(np.diff(eff, axis=0) <= 0)  # every step, both coordinates
    assert "falls 7 to 13 times within ten steps" in text
    falls = eff[0] / eff[9]
    assert round(falls.min()) == 7 and round(falls.max()) == 13
    assert "still 0.57 from the minimum (1, 1)" in text and round(adagrad.distance_to([(1, 1)])[-1], 2) == 0.57
    assert "grows back 3 to 8 times (from step 10 to step 500)" in text
    grows = rmsprop.effective_lr[499] / rmsprop.effective_lr[9]
    assert round(grows.min()) == 3 and round(grows.max()) == 8
    assert "ends 0.12 from (1, 1)" in text and round(rmsprop.distance_to([(1, 1)])[-1], 2) == 0.12


def test_amsgrad_keeps_the_largest_v():
    text, (adam, amsgrad) = _runs("amsgrad")
    assert "gradients are in the hundreds" in text and 100 <= np.abs(adam.grad[0]).max() < 1000
    m = amsgrad.state["max_exp_avg_sq"]
    assert np.all(np.diff(m, axis=0) >= 0)  # never decreases
    assert "set in the first 40 steps and never changes after" in text
    assert np.all(m[40:] == m[40]) and np.any(m[39] != m[38])
    # Its effective step grows by the bias correction alone: √(1 − β₂^t) from step 100 to 3,000.
    assert "3 times from step 100 to 3,000" in text
    eff_ams = amsgrad.effective_lr
    np.testing.assert_allclose(eff_ams[-1] / eff_ams[99], np.sqrt((1 - 0.999**3000) / (1 - 0.999**100)), rtol=1e-6)
    assert round(float(np.sqrt((1 - 0.999**3000) / (1 - 0.999**100)))) == 3
    assert "still 0.18 from the minimum (1, 1)" in text and round(amsgrad.distance_to([(1, 1)])[-1], 2) == 0.18
    assert "its effective step grows 13 times" in text
    growth = np.linalg.norm(adam.effective_lr[-1]) / np.linalg.norm(adam.effective_lr[99])
    assert round(growth) == 13
    assert "gets within 0.01 of (1, 1)" in text and adam.distance_to([(1, 1)])[-1] < 0.01


def test_adamw_or_adam_with_l2():
    text, (adam, adamw) = _runs("adamw-vs-l2")
    lam = 0.3
    # Booth: f = (x + 2y − 7)² + (2x + y − 5)², gradient H θ − b; f + λ/2‖θ‖² is least where (H + λI) θ = b.
    hessian, b = np.array([[10.0, 8.0], [8.0, 10.0]]), np.array([34.0, 38.0])
    surf = surfaces.get("booth")
    np.testing.assert_allclose(surf.grad(0.3, -0.7), hessian @ [0.3, -0.7] - b, rtol=1e-12)
    regularised = np.linalg.solve(hessian + lam * np.eye(2), b)
    assert "f + 0.15‖θ‖²" in text and "(1.10, 2.84)" in text and np.allclose(regularised, [1.10, 2.84], atol=5e-3)
    assert np.allclose(adam.path[-1], regularised, atol=1e-9) and np.ptp(adam.path[-200:], axis=0).max() < 1e-8
    # AdamW: nearer the origin, around (1.45, 2.1), trembling and still creeping outwards.
    assert "around (1.45, 2.1), trembling and still creeping outwards" in text
    late = adamw.path[-500:].mean(axis=0)
    assert np.allclose(late, [1.45, 2.1], atol=0.05)
    assert np.linalg.norm(late) < np.linalg.norm(regularised) - 0.3
    # "with gradients this large": there f's gradient is many times the decay's pull, yet they balance
    assert np.linalg.norm(surf.grad(*late)) > 5 * lam * np.linalg.norm(late)
    assert np.ptp(adamw.path[-200:, 1]) > 0.01
    assert np.linalg.norm(adamw.path[-500:], axis=1).mean() > np.linalg.norm(adamw.path[-1000:-500], axis=1).mean()


def test_escaping_a_saddle_with_gradient_noise():
    text, (sgd, adam) = _runs("saddle-noise")
    assert "σ = 0.1" in text and "(|y| > 1) at step 54" in text and "already at step 20" in text
    assert _first(np.abs(sgd.path[:, 1]) > 1) == 54 and _first(np.abs(adam.path[:, 1]) > 1) == 20
    # Without noise both slide into the saddle point and stay there, exactly on the ridge.
    assert "without noise (set σ to 0) both slide into the saddle point (0, 0) and stay there" in text
    for run in _runs("saddle-noise", noise=0.0)[1]:
        assert run.diverged_at is None and np.all(run.path[:, 1] == 0.0)
        assert np.abs(run.path[-50:, 0]).max() < 1e-3


def test_warmup_rescues_adam_at_a_large_lr():
    text, (plain, warm) = _runs("warmup")
    surf = surfaces.get("goldstein_price")
    assert "η = 0.5" in text and "jumps 0.5 in each coordinate at step 1" in text
    np.testing.assert_allclose(np.abs(plain.path[1] - plain.path[0]), [0.5, 0.5], rtol=1e-9)
    local = np.linalg.norm(plain.path - np.array([1.2, 0.8]), axis=1)
    assert "f = 840" in text and "(within 0.01 of it at step 31)" in text
    assert _first(local < 0.01) == 31 and round(float(plain.loss[-1])) == 840
    assert plain.distance_to(surf.minima).min() > 0.7  # it never comes near the global minimum
    assert "from 0.005 to 0.5 over the first 100 steps" in text
    assert warm.lr[0] == pytest.approx(0.005) and warm.lr[100] == pytest.approx(0.5)
    assert np.all(np.diff(warm.lr[:101]) > 0)
    assert "a hundred times shorter" in text
    np.testing.assert_allclose(np.abs(warm.path[1] - warm.path[0]), [0.005, 0.005], rtol=1e-9)
    assert "where f = 3 (within 0.1 at step 90)" in text
    assert _first(warm.distance_to(surf.minima) < 0.1) == 90 and round(float(warm.loss[-1]), 6) == 3.0


def test_cosine_or_constant_at_the_end_of_a_run():
    text, (constant, cosine) = _runs("cosine-vs-constant")
    surf = surfaces.get("booth")
    dc, dk = constant.distance_to(surf.minima), cosine.distance_to(surf.minima)
    gap = lambda run: float(run.loss[-1] - surf.min_value)  # noqa: E731
    assert "a median 0.08 away" in text and round(float(np.median(dc[-100:])), 2) == 0.08
    assert "f − f* = 0.0063" in text and round(gap(constant), 4) == 0.0063
    assert "ends 0.0093 from the minimum with f − f* = 0.00016" in text
    assert round(float(dk[-1]), 4) == 0.0093 and round(gap(cosine), 5) == 0.00016
    assert "about 40 times lower" in text and 30 < gap(constant) / gap(cosine) < 50
    assert cosine.lr[-1] < 1e-5 and cosine.lr[399] > 0.1 and cosine.lr[499] >= 0.1
    assert np.median(dk[400:501]) > np.median(dc[400:501])  # "no closer than the constant run" then


def test_onecycle_cycles_beta1_and_m_hat_with_it():
    text, (cycled, fixed) = _runs("onecycle-beta1")
    assert "from 0.008 to 0.2 at step 300" in text
    assert cycled.lr[0] == pytest.approx(0.008) and int(np.argmax(cycled.lr)) + 1 == 300 and cycled.lr[299] == 0.2
    assert "from 0.95 down to 0.85 at the peak and back to 0.95" in text
    assert cycled.momentum[0] == 0.95 and cycled.momentum[299] == pytest.approx(0.85) and cycled.momentum[-1] == 0.95
    assert fixed.momentum is None and fixed.spec.hyper["betas"][0] == 0.9
    assert "about 7 gradients" in text and "about 20 at the ends" in text  # 1 / (1 − β₁)
    jitter = lambda run, a, b: float(np.median(np.abs(np.diff(run.bias_corrected["m_hat"], axis=0))[a:b]))  # noqa: E731
    assert "about 30% more from step to step around the peak" in text
    assert 1.2 < jitter(cycled, 250, 350) / jitter(fixed, 250, 350) < 1.4
    assert "about half as much over the last 100 steps" in text
    assert 0.4 < jitter(cycled, 899, 999) / jitter(fixed, 899, 999) < 0.6


# ---------------------------------------------------------------------------------------------- the docs

def test_docs_list_every_lesson_with_its_link_and_text():
    docs = (ROOT / "docs" / "lessons.md").read_text(encoding="utf-8")
    for lesson in lessons.LESSONS:
        assert f"## {lesson.title}" in docs and f"?lesson={lesson.id}" in docs, lesson.id
        assert " ".join(lesson.text.split()) in " ".join(docs.split()), lesson.id
