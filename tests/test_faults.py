"""Faults of the machine the app runs on, each met with a clear message and never a traceback: a Numba cache
directory that cannot be written, a damaged cache file, and a plotly.js missing from the plotly package.
(A browser that disconnects mid-run and a server restarted under an open page are in
``tests/browser/test_faults_browser.py``.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from _apptest import chart_elements
from streamlit.testing.v1 import AppTest

REPO_ROOT = Path(__file__).resolve().parents[1]
APP = str(REPO_ROOT / "app.py")

#: Compile (or load) every kernel, then check a simulation against the one this test process computes.
_SIMULATE = """
import json, optiviz
optiviz.warmup()
sim = optiviz.simulate("beale", optiviz.default_runs("beale"), steps=200)
print(json.dumps([run.path[-1].tolist() for run in sim.runs]))
"""


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, env=env,
                          timeout=300, check=False)


def _expected_ends() -> list[list[float]]:
    import optiviz

    sim = optiviz.simulate("beale", optiviz.default_runs("beale"), steps=200)
    return [run.path[-1].tolist() for run in sim.runs]


def _assert_simulated(result: subprocess.CompletedProcess) -> None:
    import json

    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == _expected_ends()


def _env(**changes: str) -> dict[str, str]:
    return {**os.environ, **changes}


# ------------------------------------------------------------------------------------- Numba's cache


def test_an_unwritable_numba_cache_dir_moves_the_cache_and_says_so(tmp_path):
    # A directory under a regular file cannot be made, even by root.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = _python("import os, surfaces; print(os.environ['NUMBA_CACHE_DIR'])" + _SIMULATE,
                     _env(NUMBA_CACHE_DIR=str(blocker / "cache")))
    _assert_simulated(result)
    moved_to = result.stdout.strip().splitlines()[0]
    assert moved_to.startswith(tempfile.gettempdir()) and "optiviz-numba" in moved_to
    assert f"NUMBA_CACHE_DIR={blocker / 'cache'} cannot be written; Numba's cache is in {moved_to} instead" in (
        result.stderr)


def test_a_writable_numba_cache_dir_is_used_quietly(tmp_path):
    result = _python("import os, surfaces; print(os.environ['NUMBA_CACHE_DIR'])" + _SIMULATE,
                     _env(NUMBA_CACHE_DIR=str(tmp_path)))
    _assert_simulated(result)
    assert result.stdout.strip().splitlines()[0] == str(tmp_path)
    assert "optiviz:" not in result.stderr
    assert any(tmp_path.rglob("*.nbi")), "the kernels were not cached"


def test_with_no_writable_directory_at_all_the_kernels_are_compiled_in_memory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    # The temporary directory is made unwritable too (for root, only a path under a file is).
    code = (f"import tempfile; tempfile.gettempdir = lambda: {str(blocker / 'tmp')!r}\n"
            "import surfaces._numba as n; print(n.CACHE)" + _SIMULATE)
    result = _python(code, _env(NUMBA_CACHE_DIR=str(blocker / "cache")))
    _assert_simulated(result)
    assert result.stdout.strip().splitlines()[0] == "False"
    assert "no writable directory for Numba's cache" in result.stderr
    assert "compiled in memory at every start" in result.stderr


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated"])
@pytest.mark.parametrize("which", [".nbi", ".nbc"])
def test_a_damaged_numba_cache_file_is_compiled_again_and_rewritten(tmp_path, damage, which):
    env = _env(NUMBA_CACHE_DIR=str(tmp_path))
    _assert_simulated(_python(_SIMULATE, env))
    files = sorted(tmp_path.rglob(f"*{which}"))
    assert files, "nothing was cached"
    for path in files:
        data = path.read_bytes()
        path.write_bytes({"garbage": os.urandom(64), "empty": b"", "truncated": data[: len(data) // 2]}[damage])
    damaged = _python(_SIMULATE, env)
    _assert_simulated(damaged)
    assert "could not be read" in damaged.stderr and "compiling it again, which rewrites it" in damaged.stderr
    again = _python(_SIMULATE, env)
    _assert_simulated(again)
    assert "optiviz:" not in again.stderr, "the cache was not rewritten"


# -------------------------------------------------------------------------------------------- plotly.js


def test_a_missing_plotly_js_is_said_in_the_page_and_the_rest_works(monkeypatch, tmp_path):
    from optiviz import chart

    monkeypatch.setattr(chart, "_PLOTLY_DIR", tmp_path)  # a plotly package without its plotly.min.js
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not chart_elements(at), "no chart can be drawn without plotly.js"
    errors = [e.value for e in at.error]
    assert errors and all("plotly.js is missing" in e for e in errors), errors
    assert str(tmp_path / "plotly.min.js") in errors[0] and "pip install --force-reinstall plotly==" in errors[0]
    assert len(at.table) == 1 and len(at.table[0].value) == 4  # the runs still ran; their table is there
