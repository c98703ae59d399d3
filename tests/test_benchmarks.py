"""The benchmarks still run (tiny sizes; no time is asserted anywhere)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_core_runs_and_prints_its_ratios():
    r = subprocess.run([sys.executable, "benchmarks/bench_core.py", "--steps", "2000", "--torch-steps", "20",
                        "--repeats", "1"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    for text in ("optiviz.simulate", "bare Numba Adam", "optiviz / bare", "first simulate()"):
        assert text in r.stdout
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
