"""Many sessions at once: what the app does on its first reruns, from many threads of a fresh interpreter.

Every Streamlit session runs the script on a thread of its own, and after a start the first visitors
arrive together, so anything a library loads on first use can be met half-loaded by another thread. Each
test here starts a new Python (nothing imported yet, as in a freshly started server), lines up its threads
at a barrier and lets them do what sessions do at the same moment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _run_fresh(body: str, timeout: float = 300) -> dict:
    """Run ``body`` in a new interpreter from the repo root; it prints one JSON line, returned here."""
    script = textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sessions_that_build_figures_while_another_imports_pandas_all_succeed():
    """Half the threads build and encode the animated chart (optiviz.figures + optiviz.chart, as a rerun
    does); the other half turn the summary rows into a table the way ``st.table`` does, which imports
    pandas on first use. plotly's encoders look pandas up in ``sys.modules`` without importing it, so
    before optiviz imported it first, every figure thread met a half-imported pandas:
    ``AttributeError: partially initialized module 'pandas' has no attribute 'Series'``."""
    result = _run_fresh("""
        import json, threading, traceback
        N = 12
        barrier = threading.Barrier(N)
        errors, done = [], []

        def session(k):
            try:
                barrier.wait()
                from optiviz import chart, default_runs, figures, simulate
                from optiviz.summary import display_rows, summarize
                sim = simulate("rosenbrock", default_runs("rosenbrock"), steps=50)
                labels = figures.default_labels(sim)
                if k % 2:
                    from streamlit import dataframe_util
                    dataframe_util.convert_anything_to_arrow_bytes(display_rows(summarize(sim, labels)))
                else:
                    text = chart.figure_json(figures.create_trajectory_figure(sim, labels=labels))
                    assert json.loads(text)["data"]
                done.append(k)
            except Exception as exc:
                errors.append("".join(traceback.format_exception_only(exc)).strip())

        threads = [threading.Thread(target=session, args=(k,)) for k in range(N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps({"errors": errors, "done": len(done)}))
    """)
    assert result["errors"] == [], result["errors"]
    assert result["done"] == 12


def test_plotly_finds_every_optional_module_whole_after_optiviz_is_imported():
    """What plotly's encoders look up without importing is imported, whole, by importing optiviz.figures."""
    result = _run_fresh("""
        import importlib.util, json, sys
        import optiviz.figures
        loaded = dict(sys.modules)  # before the list of names below is imported
        from optiviz._plotly import OPTIONAL_MODULES
        state = {}
        for name in OPTIONAL_MODULES:
            try:
                installed = importlib.util.find_spec(name) is not None
            except ImportError:
                installed = False
            module = loaded.get(name)
            spec = getattr(module, "__spec__", None)
            state[name] = {"installed": installed, "loaded": module is not None,
                           "initializing": bool(getattr(spec, "_initializing", False))}
        print(json.dumps(state))
    """)
    assert result["pandas"]["installed"], "pandas comes with streamlit; the race needs it installed to be tested"
    for name, state in result.items():
        assert state["loaded"] == state["installed"], (name, state)
        assert not state["initializing"], (name, state)
