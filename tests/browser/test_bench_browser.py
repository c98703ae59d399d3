"""The browser benchmark's harness works end to end: a page measured against itself, and optiviz's
in-place chart updates are seen (a run that never saw a redraw would time out and exit non-zero)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _bench(*args: str) -> str:
    r = subprocess.run([sys.executable, "benchmarks/bench_browser.py", "--repeats", "2", "--warmup", "1", *args],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_the_harness_measures_a_page_against_itself():
    out = _bench("--app", "benchmarks/minimal_app.py")
    assert "ratio minimal_app/minimal (median):" in out
    assert "the goal" not in out.splitlines()[-1], out  # a control page gets no verdict


def test_the_crowded_control_page_has_optivizs_elements_and_no_verdict():
    out = _bench("--app", "benchmarks/crowded_app.py", "--slider-index", "2")
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(("crowded_app ", "minimal "))}
    assert "#2" in rows["crowded_app"] and "frequency" in rows["crowded_app"], out
    assert int(rows["crowded_app"][2]) > 30 and int(rows["minimal"][2]) == 2, out  # elements, as loaded
    assert "CONTROL PAGE (benchmarks/crowded_app.py)" in out.splitlines()[-1], out


def test_the_harness_sees_optiviz_update_its_charts_in_place():
    out = _bench("--slider-index", "2")
    assert "#2 lr (η)" in out and "ratio optiviz/minimal (median):" in out


def test_the_timeline_diagnostic_shows_each_phase():
    r = subprocess.run([sys.executable, "benchmarks/timeline_browser.py", "--presses", "1", "--settle", "2"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    for phase in ("key press", "sent", "script running", "script notRunning", "chart updated (in-place)"):
        assert phase in r.stdout, (phase, r.stdout)


def test_the_floor_diagnostic_is_labelled_as_such():
    out = _bench("--slider-index", "2", "--without-chart-work")
    assert "DIAGNOSTIC (--without-chart-work)" in out, out
    assert "the goal" not in out.splitlines()[-1], out  # no verdict: it is not the benchmark


def test_the_drag_benchmark_sees_a_preview_for_each_slider():
    """--drag: every one of the four sliders drew previews (a slider that drew none would have no row), and the
    last line is the one docs/playback.md quotes. Times are printed, never asserted."""
    out = _bench("--drag", "--moves", "4")
    for label in ("lr (η)", "beta1 (β₁)", "beta2 (β₂)", "eps (ε)"):
        row = next((line for line in out.splitlines() if line.strip().startswith(label)), None)
        assert row is not None and int(row.rsplit("n=", 1)[1].rstrip(")")) >= 2, out
    last = out.splitlines()[-1]
    assert last.startswith("drag preview: ") and "minimal page slider->redraw: " in last and "; ratio " in last, out
