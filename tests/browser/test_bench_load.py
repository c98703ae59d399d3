"""The load benchmark, small (5 sessions for 20 s), as CI runs it: it asserts what went wrong, never a time."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _count(out: str, what: str) -> int:
    match = re.search(rf"^{re.escape(what)}: (\d+)", out, re.MULTILINE)
    assert match, f"no line {what!r} in:\n{out}"
    return int(match[1])


def test_five_sessions_for_twenty_seconds_meet_no_error():
    r = subprocess.run([sys.executable, "benchmarks/bench_load.py", "--sessions", "5", "--duration", "20",
                        "--alone", "3"], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    for what in ("exceptions shown in pages", "page errors", "failed loads", "tracebacks in the server's log"):
        assert _count(out, what) == 0, out
    assert _count(out, "actions done") >= 5, out  # the students did something
    assert re.search(r"slider->redraw under load: .*\(n=[1-9]", out), out
    assert "no exception, page error or failed load: met" in out, out
