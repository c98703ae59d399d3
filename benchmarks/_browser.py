"""Real-browser plumbing shared by ``tests/browser`` and ``benchmarks/bench_browser.py``.

Starts a Streamlit script the way a user does (``python -m streamlit run``) on a free port, waits for its
health endpoint, drives it with Playwright in the system's headless Chromium, and knows Streamlit's stable
test ids. Plain functions and one context manager; no pytest here, so the benchmark can import it too.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT_DIR = REPO_ROOT / "tests" / "browser" / "screenshots"

#: Without the background-networking flags Chromium keeps trying to reach the internet and is slow.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

#: A cold Numba compile of every kernel can take a while on a 2-core machine.
SERVER_START_TIMEOUT_S = 120.0

APP_IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
SPINNER = "[data-testid=stSpinner]"
EXCEPTION = "[data-testid=stException]"
SLIDER_INPUT = "[data-testid=stSlider] input[type=range]"
PLOTLY_CHART = ".js-plotly-plot"


def find_chromium() -> str | None:
    """Path of a Chromium binary: ``$OPTIVIZ_CHROMIUM``, ``/usr/bin/chromium``, or ``chromium`` on PATH."""
    env = os.environ.get("OPTIVIZ_CHROMIUM")
    if env:
        return env if os.access(env, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def browser_skip_reason() -> str | None:
    """Why the real-browser tests cannot run here, as one sentence; ``None`` when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "browser tests skipped: playwright not installed (pip install playwright)"
    if find_chromium() is None:
        return "browser tests skipped: no Chromium found (apt-get install chromium)"
    return None


def launch_chromium(playwright: Any, *, executable_path: str | None = None) -> Any:
    """Launch the system Chromium headless through a started ``sync_playwright()`` instance."""
    path = executable_path or find_chromium()
    if path is None:
        raise RuntimeError("no Chromium found (apt-get install chromium, or set OPTIVIZ_CHROMIUM)")
    return playwright.chromium.launch(executable_path=path, headless=True, args=list(CHROMIUM_ARGS))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def streamlit_command(script: str | os.PathLike[str], port: int, *, python: str | None = None) -> list[str]:
    """The command line a user types, on ``port``, with no file watcher and no usage statistics."""
    return [
        python or sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
    ]


def wait_for_health(
    base_url: str, proc: subprocess.Popen[bytes] | None = None, *, timeout: float = SERVER_START_TIMEOUT_S
) -> None:
    """Poll ``BASE/_stcore/health`` until it answers 200; raise if ``proc`` exits or ``timeout`` passes."""
    url = base_url.rstrip("/") + "/_stcore/health"
    deadline = time.monotonic() + timeout
    last_error: object = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last_error = exc
        time.sleep(0.25)
    raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s (last error: {last_error})")


def stop_process_group(proc: subprocess.Popen[bytes], *, grace: float = 10.0) -> None:
    """SIGTERM the process group ``proc`` leads, then SIGKILL it if it is still there after ``grace`` s."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)


@dataclass
class Server:
    """A server started by :func:`serve_process`: its base URL and its process (the leader of its group)."""

    url: str
    proc: subprocess.Popen[bytes]
    stdout: Any = None  # the files its output goes to
    stderr: Any = None

    def log(self) -> str:
        """Everything the server has written to stdout and stderr so far."""
        texts = []
        for stream in (self.stdout, self.stderr):
            if stream is not None:  # pread: the server shares the file's offset, which must not move
                fd = stream.fileno()
                texts.append(os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace"))
        return "\n".join(texts)

    def pids(self) -> list[int]:
        """The server's process and every descendant of it."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += children.get(pid, [])
        return found

    def _stat(self, pid: int) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    def rss_mb(self) -> float:
        """Resident memory of the whole process tree, in MB."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError, ValueError):
                total += int(self._stat(pid)[21]) * os.sysconf("SC_PAGE_SIZE")
        return total / 1e6

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the whole process tree."""
        ticks = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = self._stat(pid)
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def threads(self) -> int:
        """Threads of the server's own process."""
        return int(self._stat(self.proc.pid)[17])


@contextlib.contextmanager
def serve_process(
    command: list[str],
    base_url: str,
    *,
    cwd: str | os.PathLike[str] = REPO_ROOT,
    env: dict[str, str] | None = None,
    timeout: float = SERVER_START_TIMEOUT_S,
    label: str = "server",
) -> Iterator[Server]:
    """Run ``command`` in its own process group, wait for health at ``base_url``, yield the :class:`Server`.

    The process group is terminated afterwards, also when startup or the body fails; on failure the
    server's stdout and stderr are printed (to stderr) so the reason is in the test report.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True
        )
        ok = False
        try:
            wait_for_health(base_url, proc, timeout=timeout)
            yield Server(base_url, proc, out, err)
            ok = True
        finally:
            stop_process_group(proc)
            if not ok:
                for name, stream in (("stdout", out), ("stderr", err)):
                    stream.seek(0)
                    text = stream.read().decode("utf-8", "replace").strip()
                    print(f"----- {label} {name} ({' '.join(command)}) -----\n{text or '(empty)'}", file=sys.stderr)


@contextlib.contextmanager
def serve_command(command: list[str], base_url: str, **options: Any) -> Iterator[str]:
    """:func:`serve_process`, yielding only the base URL."""
    with serve_process(command, base_url, **options) as server:
        yield server.url


@contextlib.contextmanager
def serve_app(
    script: str | os.PathLike[str],
    *,
    port: int | None = None,
    timeout: float = SERVER_START_TIMEOUT_S,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """``streamlit run SCRIPT`` from the repo root on a free port (or ``port``); yields the :class:`Server`."""
    port = port or free_port()
    with serve_process(
        streamlit_command(script, port),
        f"http://127.0.0.1:{port}",
        cwd=REPO_ROOT,
        env=env,
        timeout=timeout,
        label=f"streamlit run {script}",
    ) as server:
        yield server


@contextlib.contextmanager
def serve(script: str | os.PathLike[str], **options: Any) -> Iterator[str]:
    """:func:`serve_app`, yielding only the base URL (``http://127.0.0.1:PORT``)."""
    with serve_app(script, **options) as server:
        yield server.url


def wait_for_idle(page: Any, *, timeout_ms: float = 60_000, debounce_ms: float = 250) -> None:
    """Wait out the slider debounce, then until the script has finished its run and no spinner shows."""
    page.wait_for_timeout(debounce_ms)
    page.wait_for_selector(APP_IDLE, state="attached", timeout=timeout_ms)
    page.wait_for_function(f"() => document.querySelector({SPINNER!r}) === null", timeout=timeout_ms, polling=50)


def assert_no_exception(page: Any) -> None:
    """Fail with the exception's text when Streamlit shows one anywhere on the page."""
    found = page.locator(EXCEPTION)
    if found.count():
        texts = "\n---\n".join(found.all_inner_texts())
        raise AssertionError(f"Streamlit shows {found.count()} exception(s) on the page:\n{texts}")


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save ``tests/browser/screenshots/NAME.png`` (the folder is git-ignored) and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sidebar_slider(page: Any, label: str) -> Any:
    """The sidebar's Streamlit slider labelled ``label`` (its ``stSlider`` block)."""
    return page.locator("[data-testid=stSidebar] [data-testid=stSlider]").filter(
        has=page.locator("[data-testid=stWidgetLabel]", has_text=label)).first


def grab_slider(page: Any, label: str) -> tuple[float, float, dict]:
    """Press the pointer on the thumb of the sidebar slider labelled ``label`` (scrolled into view); returns the
    thumb's centre and the slider's bounding box."""
    slider = sidebar_slider(page, label)
    thumb = slider.locator("[data-testid=stSliderThumbValue]").locator("..")
    thumb.scroll_into_view_if_needed()
    box = thumb.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    return x, y, slider.bounding_box()
