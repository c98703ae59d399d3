"""The benchmarks still run (tiny sizes; no time is asserted anywhere)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_core_runs_and_prints_its_ratios():
    r = subprocess.run([sys.executable, "benchmarks/bench_core.py", "--steps", "2000", "--torch-steps", "20",
                        "--repeats", "1"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    for text in ("optiviz.simulate", "bare Numba Adam", "optiviz / bare", "first simulate()", "slowest / bare"):
        assert text in r.stdout
    import optiviz

    for name in optiviz.OPTIMIZERS:  # every optimizer is measured
        assert f"    {name} " in r.stdout, name
    try:
        import torch  # noqa: F401
    except ImportError:
        return
    assert "torch / optiviz" in r.stdout


def test_bench_browser_explains_itself():
    r = subprocess.run([sys.executable, "benchmarks/bench_browser.py", "--help"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "--slider-index" in r.stdout


def test_timeline_browser_explains_itself():
    r = subprocess.run([sys.executable, "benchmarks/timeline_browser.py", "--help"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "--presses" in r.stdout


def _element_tree(script: str) -> list[tuple[int, str]]:
    """The page's elements and blocks at its defaults, as (depth, kind) in page order (AppTest)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / script), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    tree = []

    def walk(node, depth):
        tree.append((depth, node.type))
        for child in (node.children.values() if isinstance(getattr(node, "children", None), dict) else ()):
            walk(child, depth + 1)

    walk(at.sidebar, 0)
    walk(at.main, 0)
    return tree


def test_the_crowded_control_page_has_optivizs_elements_in_optivizs_places():
    # What the control page is for: the same elements as app.py at its defaults, nested the same way, with
    # the minimal page's one chart in place of optiviz's two. When app.py gains or loses an element, so must it.
    app = [node for node in _element_tree("app.py") if node[1] != "bidi_component"]
    crowded = [node for node in _element_tree("benchmarks/crowded_app.py") if node[1] != "plotly_chart"]
    assert crowded == app
    assert len(app) > 50


def _chart_messages(at) -> list[str]:
    """What the page sends each of its optiviz charts (figure text, plotly.js address, config), in order."""
    from _apptest import chart_elements

    return [c.proto.json for c in chart_elements(at)]


def test_the_charts_control_page_draws_optivizs_charts_and_its_slider_is_run_1s_lr():
    # What the other control page is for: exactly the two charts app.py sends, at its defaults and after run 1's
    # learning rate moves, with no other element but that slider.
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    charts = AppTest.from_file(str(ROOT / "benchmarks/charts_app.py"), default_timeout=120).run()
    for at in (app, charts):
        assert not at.exception, [e.value for e in at.exception]
    assert len(_chart_messages(app)) == 2
    assert _chart_messages(charts) == _chart_messages(app)
    assert _element_tree("benchmarks/charts_app.py") == [
        (0, "sidebar"), (1, "select_slider"), (0, "main"), (1, "bidi_component"), (1, "bidi_component")]

    before = _chart_messages(app)
    for at in (app, charts):
        lr = at.select_slider(key="r0.lr")
        assert lr.value != 0.12  # so that the move below is a change
        lr.set_value(0.12).run()
        assert not at.exception, [e.value for e in at.exception]
    assert _chart_messages(app) != before
    assert _chart_messages(charts) == _chart_messages(app)
