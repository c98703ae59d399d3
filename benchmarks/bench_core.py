"""Speed of the engine against a torch.optim loop and a bare Numba loop, in one process.

    python benchmarks/bench_core.py [--steps 100000] [--torch-steps 5000] [--repeats 5]

Prints nanoseconds per optimizer-step (median of the repeats) for:
  optiviz   optiviz.simulate: adam, rmsprop, adagrad, sgd on Rosenbrock, everything recorded
  torch     the same four as a PyTorch user writes them (autograd, optimizer.step()), float64
  bare      a bare Numba loop: Adam on Rosenbrock, recording positions only
  each      every registered optimizer alone, everything recorded
and the ratios (goals: torch/optiviz >= 1000, optiviz/bare <= 3, slowest optimizer/bare <= 3). Then typed
functions: a new expression's first simulate of 1,000 steps (goal < 50 ms) and Rosenbrock typed as text against
the built-in (goal <= 4x). Then the time of a first ``simulate`` call in a fresh process, with Numba's on-disk
cache warm and cold.
Timings are never asserted anywhere: these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import optiviz  # noqa: E402
from surfaces._numba import jit  # noqa: E402

START = (-1.5, 2.0)
OPTIMIZERS = ("adam", "rmsprop", "adagrad", "sgd")


@jit
def bare_adam_rosenbrock(x, y, lr, beta1, beta2, eps, steps, path):
    """The least a Numba user could write: Adam on Rosenbrock, recording positions."""
    m0 = m1 = v0 = v1 = 0.0
    path[0, 0] = x
    path[0, 1] = y
    for t in range(1, steps + 1):
        gx = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x)
        gy = 200.0 * (y - x * x)
        m0 = beta1 * m0 + (1.0 - beta1) * gx
        m1 = beta1 * m1 + (1.0 - beta1) * gy
        v0 = beta2 * v0 + (1.0 - beta2) * gx * gx
        v1 = beta2 * v1 + (1.0 - beta2) * gy * gy
        bc1 = 1.0 - beta1 ** float(t)
        bc2 = 1.0 - beta2 ** float(t)
        x -= lr / bc1 * m0 / (np.sqrt(v0 / bc2) + eps)
        y -= lr / bc1 * m1 / (np.sqrt(v1 / bc2) + eps)
        path[t, 0] = x
        path[t, 1] = y


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_optiviz(steps: int, repeats: int) -> float:
    runs = optiviz.default_runs("rosenbrock", OPTIMIZERS)
    sim = optiviz.simulate("rosenbrock", runs, start=START, steps=steps)  # compile / load cache
    done = sum(r.steps_done for r in sim.runs)
    if done != steps * len(runs):
        print(f"  note: some runs stopped early ({done} of {steps * len(runs)} steps)")
    t = _median_time(lambda: optiviz.simulate("rosenbrock", runs, start=START, steps=steps), repeats)
    return t / done * 1e9


def bench_each(steps: int, repeats: int) -> dict[str, tuple[float, float]]:
    """Each registered optimizer alone (torch's defaults, its recommended lr on Rosenbrock): ns per step, and its
    ratio to the bare loop timed right before it in the same repeat (median of the repeats' ratios, so that the
    machine's drift over the minutes this takes does not enter the ratio)."""
    out = {}
    lr = optiviz.default_runs("rosenbrock", ("adam",))[0].lr
    for name in optiviz.OPTIMIZERS:
        runs = optiviz.default_runs("rosenbrock", (name,))
        done = optiviz.simulate("rosenbrock", runs, start=START, steps=steps).runs[0].steps_done
        times, ratios = [], []
        for _ in range(repeats):
            path = np.empty((steps + 1, 2))
            t0 = time.perf_counter()
            bare_adam_rosenbrock(START[0], START[1], lr, 0.9, 0.999, 1e-8, steps, path)
            t1 = time.perf_counter()
            optiviz.simulate("rosenbrock", runs, start=START, steps=steps)
            t2 = time.perf_counter()
            times.append((t2 - t1) / max(1, done) * 1e9)
            ratios.append(((t2 - t1) / max(1, done)) / ((t1 - t0) / steps))
        out[name] = (statistics.median(times), statistics.median(ratios))
        if done < steps:
            print(f"  note: {name} stopped at step {done + 1} of {steps:,}")
    return out


def bench_bare(steps: int, repeats: int) -> float:
    path = np.empty((steps + 1, 2))
    lr = optiviz.default_runs("rosenbrock", ("adam",))[0].lr
    bare_adam_rosenbrock(START[0], START[1], lr, 0.9, 0.999, 1e-8, steps, path)
    t = _median_time(lambda: bare_adam_rosenbrock(START[0], START[1], lr, 0.9, 0.999, 1e-8, steps,
                                                  np.empty((steps + 1, 2))), repeats)
    return t / steps * 1e9


def bench_torch(steps: int, repeats: int) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    specs = optiviz.default_runs("rosenbrock", OPTIMIZERS)
    classes = {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad,
               "sgd": torch.optim.SGD}

    def loop():
        for spec in specs:
            p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
            opt = classes[spec.optimizer]([p], **spec.torch_hyper)
            for _ in range(steps):
                opt.zero_grad()
                x, y = p[0], p[1]
                loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
                loss.backward()
                opt.step()

    loop_steps = steps * len(specs)
    t = _median_time(loop, repeats)
    return t / loop_steps * 1e9


TYPED_ROSENBROCK = "(1-x)^2 + 100*(y-x^2)^2"


def bench_typed(steps: int, repeats: int) -> tuple[float, float, float]:
    """A typed function: the first ``simulate`` of 1,000 steps of an expression never seen before (parse,
    compile to a program, run; the kernel already loaded), and Rosenbrock typed as text against the built-in
    (ns per step of the four default runs, each paired with the built-in timed right before it)."""
    import surfaces

    optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"), steps=10)  # the kernel, loaded
    firsts = []
    for k in range(repeats):
        text = f"log(1 + (x - {k + 1})^2) + abs(y) + 0.{k + 1}*sin(3*x)"  # a new text each time
        t0 = time.perf_counter()
        surface = surfaces.from_expression(text, domain=((-2.0, 4.0), (-2.0, 2.0)))
        optiviz.simulate(surface, optiviz.default_runs(surface), steps=1000)
        firsts.append(time.perf_counter() - t0)
    typed = surfaces.from_expression(TYPED_ROSENBROCK, domain=((-2.0, 2.0), (-1.0, 3.0)))
    runs = optiviz.default_runs("rosenbrock")
    ratios, times = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        optiviz.simulate("rosenbrock", runs, start=START, steps=steps)
        t1 = time.perf_counter()
        optiviz.simulate(typed, runs, start=START, steps=steps)
        t2 = time.perf_counter()
        ratios.append((t2 - t1) / (t1 - t0))
        times.append((t2 - t1) / (steps * len(runs)) * 1e9)
    return statistics.median(firsts), statistics.median(times), statistics.median(ratios)


def first_call_seconds(cache_dir: str) -> float:
    code = (
        "import time; t0 = time.perf_counter(); import optiviz; "
        "optiviz.simulate('rosenbrock', optiviz.default_runs('rosenbrock'), steps=1000); "
        "print(time.perf_counter() - t0)"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100_000, help="steps per run for optiviz and bare (100,000)")
    ap.add_argument("--torch-steps", type=int, default=5_000,
                    help="steps per run for the torch loop (5,000: it is ~10^4 times slower; per-step figures)")
    ap.add_argument("--repeats", type=int, default=5, help="repeats; medians are printed (5)")
    args = ap.parse_args()

    print(f"optiviz core benchmark: Rosenbrock from {START}, {', '.join(OPTIMIZERS)}")
    ours = bench_optiviz(args.steps, args.repeats)
    bare = bench_bare(args.steps, args.repeats)
    tor = bench_torch(args.torch_steps, max(1, args.repeats // 2))
    print(f"  optiviz.simulate  {ours:10.1f} ns/step   (4 runs x {args.steps:,} steps, all state recorded)")
    print(f"  bare Numba Adam   {bare:10.1f} ns/step   ({args.steps:,} steps, positions only)")
    if tor is None:
        print("  torch.optim loop  (torch not installed: pip install torch==2.13.0)")
    else:
        print(f"  torch.optim loop  {tor:10.1f} ns/step   (4 runs x {args.torch_steps:,} steps, autograd + step())")
        print(f"  torch / optiviz   {tor / ours:10.0f} x      (goal >= 1000)")
    print(f"  optiviz / bare    {ours / bare:10.2f} x      (goal <= 3)")
    each = bench_each(args.steps, args.repeats)
    print("  each optimizer alone (ns/step, and / the bare loop timed beside it):")
    for name, (ns, ratio) in sorted(each.items(), key=lambda item: item[1][1]):
        print(f"    {name:20s} {ns:8.1f}  {ratio:6.2f} x")
    slowest = max(each, key=lambda name: each[name][1])
    print(f"  slowest / bare    {each[slowest][1]:10.2f} x      ({slowest}; goal <= 3)")
    first, typed_ns, typed_ratio = bench_typed(args.steps, args.repeats)
    print(f"  a new typed function's first simulate (1,000 steps, 4 runs): {first * 1e3:.1f} ms   (goal < 50 ms)")
    print(f"  Rosenbrock typed as text {typed_ns:8.1f} ns/step, {typed_ratio:5.2f} x the built-in's   (goal <= 4)")
    with tempfile.TemporaryDirectory(prefix="optiviz-bench-cache-") as cache:
        cold = first_call_seconds(cache)
        warm = first_call_seconds(cache)
    print(f"  first simulate() in a fresh process: cold cache {cold:.2f} s, warm cache {warm:.2f} s "
          "(includes importing numpy and numba)")


if __name__ == "__main__":
    main()
