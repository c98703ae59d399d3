"""A class at once: many browsers on one freshly started optiviz server, doing what students do.

Starts ``streamlit run app.py`` (a new process: a cold server), opens ``--sessions`` browser contexts of one
headless Chromium at the same moment, each on a shared link, and lets each do what a student does for
``--duration`` seconds: move η and β sliders, switch surfaces, press Play (and Pause), open and close
Explain, add a run (and bring back the default runs when there are eight). Then, with the class gone, one
session alone moves the η slider ``--alone`` times, for comparison in the same run.

It prints the actions done, the exceptions shown in any page, the page errors (uncaught JavaScript
errors), the failed loads (a page that did not show its chart), the tracebacks in the server's log, the
slider-to-redraw time (key press to the main chart redrawn and the script idle, in the page's own clock)
under load and alone, and the server's memory (the whole process tree): its peak, one minute in, and at the
end. It never asserts a time: these machines are shared, and 20 browsers share their two cores with the
server. Usage::

    python benchmarks/bench_load.py                          # 20 sessions, 60 s
    python benchmarks/bench_load.py --sessions 5 --duration 20
    python benchmarks/bench_load.py --duration 600           # memory after 10 minutes against after 1
    python benchmarks/bench_load.py --fairness               # what a heavy session costs a light one
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _browser

#: Links a teacher might hand out: each session opens one (session k the k-th, cycling).
SHARED_LINKS = (
    "",
    "?surface=beale",
    "?surface=quadratic:kappa=50,angle=30&steps=2000",
    "?surface=noisy_saddle&steps=500&show=moments,arrows",
    "?surface=rastrigin&run=adam:lr=0.1&run=adam:lr=0.1,betas=0.9/0.9&run=sgd:lr=0.002,momentum=0.9",
    "?surface=himmelblau&steps=5000",
)
SURFACES = ("Rosenbrock", "Beale", "Himmelblau", "Rastrigin", "Booth", "Matyas", "Goldstein-Price", "Saddle",
            "Noisy saddle", "Quadratic bowl", "Lévi N.13", "Ackley")
#: What a student does, with how often (weights).
ACTIONS = {"eta": 4, "beta": 3, "surface": 2, "play": 2, "explain": 2, "add_run": 1}
#: A heavy session, for --fairness: eight runs of 10,000 steps.
HEAVY_LINK = "?steps=10000" + "".join(f"&run=adam:lr={lr}" for lr in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2))

MAIN_CHART = ".js-plotly-plot"
#: In every page: time stamps (page clock) of key presses, of the main chart's completed updates and of the
#: script going idle; page errors are collected by Playwright.
_PROBE = """
() => {
  if (window.__ovLoad) return;
  const s = window.__ovLoad = {press: null, revisions: [], idle: []};
  document.addEventListener('keydown', () => { s.press = performance.now(); }, true);
  const hook = () => {
    const app = document.querySelector('[data-testid=stApp]');
    if (!app) return setTimeout(hook, 50);
    new MutationObserver(() => {
      if (app.getAttribute('data-test-script-state') === 'notRunning') s.idle.push(performance.now());
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
    new MutationObserver(records => {
      for (const r of records) {
        if (r.attributeName === 'data-optiviz-revision' && r.target === document.querySelector('.js-plotly-plot')) {
          s.revisions.push(performance.now());
        }
      }
    }).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['data-optiviz-revision']});
  };
  hook();
}
"""
_ARM = "() => { const s = window.__ovLoad; s.press = null; s.revisions = []; s.idle = []; }"
_REDRAWN = """
() => {
  const s = window.__ovLoad;
  if (s.press === null) return false;
  const drawn = s.revisions.find(t => t >= s.press);
  const app = document.querySelector('[data-testid=stApp]');
  if (drawn === undefined || !app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid=stSpinner]')) return false;
  const idle = s.idle.filter(t => t >= s.press);
  return Math.max(drawn, idle.length ? idle[idle.length - 1] : drawn) - s.press;
}
"""
_IDLE = """
() => {
  const app = document.querySelector('[data-testid=stApp]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid=stSpinner]');
}
"""


@dataclass
class Tally:
    """What the sessions did and met."""

    actions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTIONS, 0))
    exceptions: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    stalled: list[str] = field(default_factory=list)  # an action whose rerun did not end in time
    latencies_ms: list[float] = field(default_factory=list)
    load_s: list[float] = field(default_factory=list)  # link opened -> chart drawn and the script idle


@dataclass
class Result:
    sessions: int
    duration_s: float
    load: Tally
    alone_ms: list[float]
    server_tracebacks: int
    peak_mb: float
    start_mb: float
    one_minute_mb: float | None
    end_mb: float
    wall_s: float  # from the first page opened to the last student done
    server_cpu_s: float  # CPU time the server used in that time

    @property
    def errors(self) -> int:
        return (len(self.load.exceptions) + len(self.load.page_errors) + len(self.load.failed_loads)
                + self.server_tracebacks)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


class Student:
    """One browser context on the app, doing what a student does."""

    def __init__(self, number: int, browser: Any, url: str, tally: Tally, timeout_s: float, rng: random.Random):
        self.number, self.browser, self.url, self.tally = number, browser, url, tally
        self.timeout_ms = timeout_s * 1000.0
        self.rng = rng
        self.context: Any = None
        self.page: Any = None
        self.current = ""  # the action under way

    async def open(self, link: str, *, skip_redraws: bool = False) -> bool:
        self.context = await self.browser.new_context(viewport={"width": 1400, "height": 1000})
        if skip_redraws:  # the chart component then reports each update without drawing it
            await self.context.add_init_script("window.__optivizSkipRedraws = true;")
        self.page = await self.context.new_page()
        self.page.on("pageerror", lambda error: self.tally.page_errors.append(f"session {self.number}: {error}"))
        began = time.monotonic()
        try:
            await self.page.goto(self.url + link, wait_until="domcontentloaded", timeout=self.timeout_ms)
            await self.page.evaluate(_PROBE)
            await self.page.wait_for_selector(MAIN_CHART, state="visible", timeout=self.timeout_ms)
            await self.page.wait_for_function(_IDLE, timeout=self.timeout_ms, polling=100)
        except Exception as exc:  # playwright's TimeoutError or a navigation error
            self.tally.failed_loads.append(f"session {self.number} ({link or 'defaults'}): {type(exc).__name__}: "
                                           f"{str(exc).splitlines()[0][:200]}")
            return False
        self.tally.load_s.append(time.monotonic() - began)
        await self._check()
        return True

    async def close(self) -> None:
        if self.context is not None:
            with contextlib.suppress(Exception):
                await self.context.close()

    async def _check(self) -> None:
        found = self.page.locator(_browser.EXCEPTION)
        if await found.count():
            for text in await found.all_inner_texts():
                self.tally.exceptions.append(f"session {self.number}: {text.strip()[:300]}")

    async def _settle(self, what: str) -> None:
        await self.page.wait_for_timeout(250)  # the slider debounce
        try:
            await self.page.wait_for_function(_IDLE, timeout=self.timeout_ms, polling=100)
        except Exception:
            self.tally.stalled.append(f"session {self.number}: {what}")
        await self._check()

    def _sidebar(self) -> Any:
        return self.page.locator("[data-testid=stSidebar]")

    def _slider(self, label: re.Pattern[str]) -> Any:
        return self._sidebar().locator("[data-testid=stSlider]").filter(
            has=self.page.locator("[data-testid=stWidgetLabel]", has_text=label)).locator("input[type=range]")

    async def move_slider(self, label: re.Pattern[str]) -> bool:
        """Press an arrow key on the slider labelled ``label``; record the time to the main chart's redraw."""
        slider = self._slider(label)
        if not await slider.count():
            return False
        slider = slider.first
        value, high = await slider.get_attribute("aria-valuenow"), await slider.get_attribute("aria-valuemax")
        key = "ArrowLeft" if value is not None and value == high else self.rng.choice(["ArrowLeft", "ArrowRight"])
        if value is not None and value == await slider.get_attribute("aria-valuemin"):
            key = "ArrowRight"
        await self.page.evaluate(_ARM)
        await slider.focus()
        await slider.press(key)
        try:
            handle = await self.page.wait_for_function(_REDRAWN, timeout=self.timeout_ms, polling=100)
            self.tally.latencies_ms.append(float(await handle.json_value()))
        except Exception:
            self.tally.stalled.append(f"session {self.number}: no redraw after moving {label.pattern}")
        await self._check()
        return True

    async def switch_surface(self) -> None:
        box = self._sidebar().locator("input[aria-label=Surface]")
        await box.fill(self.rng.choice(SURFACES), timeout=self.timeout_ms)  # typed: the list filters to it
        await box.press("Enter")
        await self._settle("switching surface")

    async def play(self) -> None:
        """Play, watch a moment, pause (which reports the step: a rerun)."""
        button = self.page.locator(".optiviz-play").first
        await button.click(timeout=self.timeout_ms)
        await self.page.wait_for_timeout(self.rng.uniform(800, 2500))
        await button.click(timeout=self.timeout_ms)
        await self._settle("pausing")

    async def toggle_explain(self) -> None:
        await self.page.locator("[data-testid=stExpander] summary").filter(has_text="Explain").click()
        await self._settle("opening Explain")

    async def add_run(self) -> None:
        add = self._sidebar().get_by_role("button", name="Add run")
        if await add.is_disabled():
            add = self._sidebar().get_by_role("button", name="Default runs")
        await add.click(timeout=self.timeout_ms)
        await self._settle("adding a run")

    async def act(self) -> str:
        """Do one thing a student does, once the page is idle (they wait to see what they did); its name."""
        await self.page.wait_for_function(_IDLE, timeout=self.timeout_ms, polling=100)
        name = self.current = self.rng.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
        if name == "eta":
            await self.move_slider(re.compile(r"^\s*lr \(η\)\s*$"))
        elif name == "beta":
            if not await self.move_slider(re.compile(r"^\s*beta[12] \(β[₁₂]\)\s*$")):
                name = "eta"
                await self.move_slider(re.compile(r"^\s*lr \(η\)\s*$"))
        elif name == "surface":
            await self.switch_surface()
        elif name == "play":
            await self.play()
        elif name == "explain":
            await self.toggle_explain()
        else:
            await self.add_run()
        self.tally.actions[name] += 1
        return name


async def _sample_memory(server: _browser.Server, samples: list[tuple[float, float]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append((time.monotonic(), server.rss_mb()))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)


async def _student_loop(student: Student, link: str, duration: float, started: list[float]) -> None:
    if not await student.open(link):
        return
    started.append(time.monotonic())
    deadline = time.monotonic() + duration  # each student works for `duration` once the page is there
    while time.monotonic() < deadline:
        try:
            await student.act()
        except Exception as exc:  # a locator that timed out under load: note it, go on
            student.tally.stalled.append(f"session {student.number}, {student.current}: {type(exc).__name__}: "
                                         f"{str(exc).splitlines()[0][:160]}")
        await student.page.wait_for_timeout(student.rng.uniform(300, 1500))  # reading the screen


async def run_load(*, sessions: int = 20, duration: float = 60.0, alone: int = 15, timeout: float = 180.0,
                   seed: int = 0, app: str = "app.py") -> Result:
    """Start a cold server, run the class, then one session alone; return the figures."""
    from playwright.async_api import async_playwright

    load, alone_tally = Tally(), Tally()
    samples: list[tuple[float, float]] = []
    with _browser.serve_app(app, timeout=timeout) as server:
        start_mb, start_cpu = server.rss_mb(), server.cpu_seconds()
        stop = asyncio.Event()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=_browser.find_chromium(), headless=True,
                                               args=list(_browser.CHROMIUM_ARGS))
            sampler = asyncio.create_task(_sample_memory(server, samples, stop))
            began = time.monotonic()
            students = [Student(k + 1, browser, server.url, load, timeout, random.Random(seed * 1000 + k))
                        for k in range(sessions)]
            started: list[float] = []  # when each student's page was there and the work began
            await asyncio.gather(*(_student_loop(s, SHARED_LINKS[k % len(SHARED_LINKS)], duration, started)
                                   for k, s in enumerate(students)))
            ended = time.monotonic()
            cpu_load = server.cpu_seconds()
            for s in students:
                await s.close()
            await asyncio.sleep(2.0)
            single = Student(0, browser, server.url, alone_tally, timeout, random.Random(seed))
            if await single.open(""):
                for _ in range(alone):
                    await single.move_slider(re.compile(r"^\s*lr \(η\)\s*$"))
                    await single.page.wait_for_timeout(300)
            await single.close()
            stop.set()
            await sampler
            await browser.close()
        log = server.log()
    # "After 1 min": one minute after the last page was there, when every student has worked for a minute.
    one_minute = [mb for t, mb in samples if t <= max(started, default=began) + 60.0]
    return Result(
        sessions=sessions, duration_s=duration, load=load, alone_ms=alone_tally.latencies_ms,
        server_tracebacks=log.count("Traceback (most recent call last)"),
        peak_mb=max(mb for _, mb in samples), start_mb=start_mb,
        one_minute_mb=one_minute[-1] if duration >= 60.0 and one_minute else None,
        end_mb=[mb for t, mb in samples if t <= ended][-1], wall_s=ended - began,
        server_cpu_s=cpu_load - start_cpu,
    )


@dataclass
class Fairness:
    alone_ms: list[float]
    beside_heavy_ms: list[float]
    beside_undrawn_heavy_ms: list[float]
    heavy_ms: list[float]
    heavy_server_cpu_s: float  # per heavy rerun


async def run_fairness(*, moves: int = 20, timeout: float = 180.0, seed: int = 0, app: str = "app.py") -> Fairness:
    """One light session (the defaults) moving η: alone; then while a heavy session (eight runs of 10,000 steps)
    moves its own η slider without pause; then the same with the heavy page not drawing its charts, so that
    what is left of the cost is the server's (the browsers share this machine's cores; students would not)."""
    from playwright.async_api import async_playwright

    eta = re.compile(r"^\s*lr \(η\)\s*$")
    phases: dict[str, Tally] = {name: Tally() for name in ("alone", "beside", "beside undrawn", "heavy")}
    with _browser.serve_app(app, timeout=timeout) as server:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=_browser.find_chromium(), headless=True,
                                               args=list(_browser.CHROMIUM_ARGS))
            light = Student(1, browser, server.url, Tally(), timeout, random.Random(seed))
            if not await light.open(""):
                raise SystemExit(f"the light page did not load: {light.tally.failed_loads}")
            for _ in range(3):
                await light.move_slider(eta)

            async def measure(phase: str) -> None:
                light.tally = phases[phase]
                for _ in range(moves):
                    await light.move_slider(eta)
                    await light.page.wait_for_timeout(300)

            await measure("alone")
            heavy_cpu = 0.0
            for phase, skip in (("beside", False), ("beside undrawn", True)):
                hog = Student(2, browser, server.url, Tally(), timeout, random.Random(seed + 1))
                if not await hog.open(HEAVY_LINK, skip_redraws=skip):
                    raise SystemExit(f"the heavy page did not load: {hog.tally.failed_loads}")
                for _ in range(2):
                    await hog.move_slider(eta)
                if not skip:
                    cpu = server.cpu_seconds()
                    hog.tally = phases["heavy"]
                    for _ in range(5):
                        await hog.move_slider(eta)
                        await hog.page.wait_for_timeout(1000)
                    heavy_cpu = (server.cpu_seconds() - cpu) / 5
                stop = asyncio.Event()

                async def keep_busy(hog: Student = hog, stop: asyncio.Event = stop) -> None:
                    while not stop.is_set():
                        await hog.move_slider(eta)

                busy = asyncio.create_task(keep_busy())
                await asyncio.sleep(1.0)
                await measure(phase)
                stop.set()
                await busy
                await hog.close()
            await browser.close()
    return Fairness(phases["alone"].latencies_ms, phases["beside"].latencies_ms,
                    phases["beside undrawn"].latencies_ms, phases["heavy"].latencies_ms, heavy_cpu)


def report_fairness(f: Fairness) -> str:
    def line(name: str, values: list[float]) -> str:
        return (f"{name}: median {statistics.median(values):.0f} ms, p95 {_percentile(values, 95):.0f} ms, "
                f"max {max(values):.0f} ms (n={len(values)})")

    def ratio(values: list[float]) -> str:
        return f"{statistics.median(values) / statistics.median(f.alone_ms):.2f}"

    return "\n".join([
        "What a heavy session (8 runs of 10,000 steps, moving its lr without pause) costs a light one (the "
        "defaults), slider->redraw of the light one:",
        line("alone", f.alone_ms),
        line("beside the heavy session", f.beside_heavy_ms),
        line("beside the heavy session, its page not drawing (the server's share)", f.beside_undrawn_heavy_ms),
        line("the heavy session's own", f.heavy_ms),
        f"server CPU per heavy rerun: {f.heavy_server_cpu_s * 1000:.0f} ms",
        f"ratios to alone (median): beside {ratio(f.beside_heavy_ms)}, beside, not drawing "
        f"{ratio(f.beside_undrawn_heavy_ms)}",
    ])


def report(result: Result) -> str:
    load = result.load
    lines = [
        f"optiviz under load: {result.sessions} browser sessions on a cold server for {result.duration_s:g} s "
        f"({os.cpu_count()} CPUs shared by the server and every browser)",
        f"actions done: {sum(load.actions.values())} ("
        + ", ".join(f"{name} {count}" for name, count in load.actions.items()) + ")",
        f"exceptions shown in pages: {len(load.exceptions)}",
        f"page errors: {len(load.page_errors)}",
        f"failed loads: {len(load.failed_loads)}",
        f"tracebacks in the server's log: {result.server_tracebacks}",
        f"actions whose rerun did not end within the timeout: {len(load.stalled)}",
        f"link opened -> chart drawn: median {statistics.median(load.load_s) if load.load_s else math.nan:.1f} s, "
        f"max {max(load.load_s, default=math.nan):.1f} s",
        f"server CPU: {result.server_cpu_s:.0f} s in {result.wall_s:.0f} s "
        f"({result.server_cpu_s / result.wall_s:.0%} of one core; the browsers had the rest)",
    ]
    for title, items in (("exception", load.exceptions), ("page error", load.page_errors),
                         ("failed load", load.failed_loads), ("stalled", load.stalled)):
        lines += [f"  {title}: {item}" for item in items[:5]]
    for name, values in (("under load", load.latencies_ms), ("one session alone", result.alone_ms)):
        lines.append(f"slider->redraw {name}: median {statistics.median(values) if values else math.nan:.0f} ms, "
                     f"p95 {_percentile(values, 95):.0f} ms (n={len(values)})")
    if load.latencies_ms and result.alone_ms:
        ratio = statistics.median(load.latencies_ms) / statistics.median(result.alone_ms)
        lines.append(f"ratio under load / alone (median): {ratio:.1f}")
    memory = f"server memory (process tree): at start {result.start_mb:.0f} MB, peak {result.peak_mb:.0f} MB"
    if result.one_minute_mb is not None:
        memory += f", after every student's first minute {result.one_minute_mb:.0f} MB"
    memory += f", at the end of the load {result.end_mb:.0f} MB"
    lines.append(memory)
    goals = [f"no exception, page error or failed load: {'met' if result.errors == 0 else 'MISSED'}",
             f"peak memory under 1 GB: {'met' if result.peak_mb < 1000 else 'MISSED'}"]
    if result.one_minute_mb is not None and result.duration_s >= 600:
        growth = result.end_mb / result.one_minute_mb - 1.0
        goals.append(f"memory at the end within 10% of after the first minute: {growth:+.1%}, "
                     f"{'met' if growth <= 0.10 else 'MISSED'}")
    lines += ["goals: " + "; ".join(goals)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20, help="browser contexts at once (default 20)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--alone", type=int, default=15, help="slider moves of the single session after (15)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds for a load or a rerun (180)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the students' choices (default 0)")
    parser.add_argument("--fairness", action="store_true",
                        help="instead: what one heavy session (8 runs of 10,000 steps) costs a light one")
    parser.add_argument("--moves", type=int, default=20, help="--fairness: light slider moves per phase (20)")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.duration <= 0 or args.alone < 1:
        parser.error("--sessions and --alone must be >= 1 and --duration > 0")
    reason = _browser.browser_skip_reason()
    if reason is not None:
        print(reason.replace("browser tests skipped", "bench_load cannot run"), file=sys.stderr)
        return 2
    if args.fairness:
        print(report_fairness(asyncio.run(run_fairness(moves=args.moves, timeout=args.timeout, seed=args.seed))))
        return 0
    result = asyncio.run(run_load(sessions=args.sessions, duration=args.duration, alone=args.alone,
                                  timeout=args.timeout, seed=args.seed))
    print(report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
