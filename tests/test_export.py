"""Exports: the CSV as pandas and the csv module read it, JSON's settings, the standalone HTML page, the
torch.optim script, and the CLI formats."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import optiviz
import surfaces
from optiviz import export
from optiviz._engine import RunSpec
from optiviz._text import format_run

REPO_ROOT = Path(__file__).resolve().parents[1]
RTOL = 1e-9

# Every registered surface, plus the quadratic at a rotation (its Hessian has an off-diagonal term).
SURFACES = [surfaces.get(name) for name in surfaces.names()] + [surfaces.get("quadratic", kappa=50, angle=30)]


def _ids(surface) -> str:
    return surface.name + "".join(f"-{k}{v:g}" for k, v in surface.parameters.items())


# --------------------------------------------------------------------------------------------
# CSV: a table anything opens; JSON: the settings


def _csv_sim():
    # Two optimizers with state, one without, one stopped early (SGD at lr 0.01 leaves Rosenbrock at step 4), noise.
    return optiviz.simulate("rosenbrock", [RunSpec("adam", lr=3e-4, betas=(0.8, 0.9)), RunSpec("sgd", lr=0.01),
                                           RunSpec("sgd", lr=1e-4, momentum=0.5, nesterov=True), RunSpec("adagrad")],
                            start=(-1.5, 2.0), steps=12, noise=0.1, seed=3)


_FLOAT_COLUMNS = ["x", "y", "loss", "grad_x", "grad_y", "lr", "exp_avg_x", "exp_avg_y", "exp_avg_sq_x", "exp_avg_sq_y",
                  "momentum_buffer_x", "momentum_buffer_y", "sum_x", "sum_y"]


def test_csv_opens_in_pandas_with_one_header_row_runs_from_1_and_the_right_dtypes():
    import pandas as pd  # installed with Streamlit
    sim = _csv_sim()
    assert sim.runs[1].diverged_at == 4 and sim.runs[1].steps_done == 3
    text = export.to_csv(sim)
    assert text.isascii() and not text.startswith("#") and "\n#" not in text
    table = pd.read_csv(io.StringIO(text))  # no options: as a spreadsheet or a newcomer opens it
    assert list(table.columns) == ["run", "optimizer", "settings", "step", *_FLOAT_COLUMNS]
    assert len(table) == sum(run.steps_done + 1 for run in sim.runs) == 3 * 13 + 4
    assert str(table["run"].dtype) == "int64" and str(table["step"].dtype) == "int64"
    assert all(str(table[c].dtype) == "float64" for c in _FLOAT_COLUMNS)
    assert all(not pd.api.types.is_numeric_dtype(table[c]) for c in ("optimizer", "settings"))
    assert list(table["run"].unique()) == [1, 2, 3, 4]  # as the app numbers them
    for number, run in enumerate(sim.runs, start=1):
        rows = table[table["run"] == number]
        assert set(rows["optimizer"]) == {run.optimizer}
        assert set(rows["settings"]) == {format_run(run.spec)}
        assert list(rows["step"]) == list(range(run.steps_done + 1))
        np.testing.assert_array_equal(rows[["x", "y"]].to_numpy(), run.path)  # every digit
        np.testing.assert_array_equal(rows["loss"].to_numpy(), run.loss)
        np.testing.assert_array_equal(rows[["grad_x", "grad_y"]].to_numpy()[:-1], run.grad)
        assert rows[["grad_x", "grad_y"]].iloc[-1].isna().all()  # no gradient after the last step
        np.testing.assert_array_equal(rows["lr"].to_numpy()[:-1], run.lr)  # the rate step t + 1 is taken with
        assert np.isnan(rows["lr"].iloc[-1])
        for name in ("exp_avg", "exp_avg_sq", "momentum_buffer", "sum"):
            got = rows[[f"{name}_x", f"{name}_y"]].to_numpy()
            if name in run.state:
                np.testing.assert_array_equal(got, run.state[name])
            else:
                assert np.isnan(got).all(), (run.optimizer, name)
    assert set(table["settings"]) == {"adam:lr=0.0003,betas=0.8/0.9", "sgd:lr=0.01",
                                      "sgd:lr=0.0001,momentum=0.5,nesterov=true", "adagrad"}


def test_csv_reads_with_pythons_csv_module():
    sim = _csv_sim()
    text = export.to_csv(sim)
    sample = "\n".join(text.splitlines()[:20])
    assert csv.Sniffer().sniff(sample).delimiter == "," and csv.Sniffer().has_header(sample)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 * 13 + 4
    for row in rows:
        assert 1 <= int(row["run"]) <= 4 and int(row["step"]) >= 0
        assert row["optimizer"] in {"adam", "sgd", "adagrad"} and row["settings"].startswith(row["optimizer"])
        for column in _FLOAT_COLUMNS:
            assert row[column] == "" or math.isfinite(float(row[column])), (column, row[column])
    last = rows[-1]
    assert (last["run"], last["step"], last["optimizer"]) == ("4", "12", "adagrad")
    assert [float(last["x"]), float(last["y"])] == sim.runs[3].path[-1].tolist()


def test_csv_numbers_runs_as_given():
    sim = _csv_sim()
    rows = list(csv.DictReader(io.StringIO(export.to_csv(sim, numbers=[1, 3, 4, 8]))))
    assert sorted({int(row["run"]) for row in rows}) == [1, 3, 4, 8]
    with pytest.raises(ValueError, match="numbers: expected 4, got 2"):
        export.to_csv(sim, numbers=[1, 2])


def test_json_settings_describe_the_scenario():
    sim = optiviz.simulate(surfaces.get("quadratic", kappa=10, angle=30), [RunSpec("adam", lr=0.1, betas=(0.8, 0.9))],
                           start=(1.0, -2.0), steps=7, noise=0.5, seed=4)
    got = json.loads(export.to_json(sim))["settings"]
    assert got == {
        "surface": "quadratic", "surface_params": {"kappa": 10.0, "angle": 30.0}, "start": [1.0, -2.0], "steps": 7,
        "noise": 0.5, "seed": 4,
        "runs": [{"optimizer": "adam", "lr": 0.1, "betas": [0.8, 0.9], "eps": 1e-8, "weight_decay": 0.0,
                  "amsgrad": False, "eps_inside_sqrt": False, "bias_correction": True}],
    }


# --------------------------------------------------------------------------------------------
# HTML


@pytest.fixture(scope="module")
def html_sim():
    runs = (*optiviz.default_runs("rosenbrock"), RunSpec("sgd", lr=0.01))  # the last one overflows
    return optiviz.simulate("rosenbrock", runs, start=(-1.5, 2.0), steps=300)


def test_html_is_a_standalone_page_with_title_settings_and_the_apps_chart(html_sim):
    page = export.to_html(html_sim)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<title>optiviz: 5 optimizers on Rosenbrock</title>" in page
    assert not re.search(r"<script[^>]+src=", page)  # nothing fetched: plotly.js is inlined
    assert "<script src=\"http" not in page
    assert len(page) > 3_000_000  # plotly.js itself is ~4.5 MB
    # The header: surface, start, steps, noise, every run's settings and outcome, and the command.
    for text in ("Rosenbrock", "(-1.5, 2)", "<b>steps</b> 300", "<b>noise</b> none", "lr=0.05, betas=(0.9, 0.999)",
                 "SGD #2", "stopped at step", "python -m optiviz simulate --surface rosenbrock"):
        assert text in page, text
    for option in ("eps_inside_sqrt", "bias_correction"):  # not shown while at torch's behaviour
        assert option not in page.split('id="optiviz-settings-json"')[0], option
    embedded = re.search(r'<script type="application/json" id="optiviz-settings-json">(.*?)</script>', page, re.S)
    assert json.loads(embedded.group(1)) == export.settings(html_sim)
    # The chart: the app's own chart code (its playback included), drawing the same figure as
    # create_trajectory_figure's, embedded as JSON.
    from optiviz._assets import CHART_CSS, CHART_JS
    from optiviz.figures import create_trajectory_figure

    assert CHART_JS in page and CHART_CSS in page and "mountStandalone(document.getElementById(" in page
    spec = create_trajectory_figure(html_sim).to_dict()
    shown = _figure(page)
    assert [t.get("name") for t in shown["data"]] == [t.get("name") for t in spec["data"]]
    assert shown["layout"]["meta"] == json.loads(json.dumps(spec["layout"]["meta"]))
    assert "click to start here" not in page  # the app's hint; nothing to click in a static page


def _figure(page: str) -> dict:
    """The figure the page draws (embedded as JSON, "</" written "<\\/" so it cannot end the script)."""
    found = re.search(r'<script type="application/json" id="optiviz-figure-json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def test_html_options_reach_the_figure(html_sim):
    page = export.to_html(html_sim, labels=list("ABCDE"), colors=["#000000"] * 5, arrows=True, moments=False)
    assert "<b>E</b>" in page and "#000000" in page
    figure = _figure(page)
    names = {t.get("name") for t in figure["data"]}
    assert {"A −∇f", "A −momentum", "A update"} <= names  # arrows
    assert "xaxis2" not in figure["layout"]  # no moment panels
    with pytest.raises(ValueError, match="labels: expected 5, got 1"):
        export.to_html(html_sim, labels=["A"])


# --------------------------------------------------------------------------------------------
# The torch script: the surface formulas


def _namespace(surface) -> dict:
    ns: dict = {}
    exec(compile("import math\n" + export.surface_source(surface), "<surface_source>", "exec"), ns)  # our code
    return ns


@pytest.mark.parametrize("surface", SURFACES, ids=_ids)
def test_script_surface_formulas_equal_optivizs_kernels(surface):
    ns = _namespace(surface)
    (x0, x1), (y0, y1) = surface.domain
    rng = np.random.default_rng(sum(map(ord, _ids(surface))))
    points = np.column_stack([rng.uniform(x0, x1, 50), rng.uniform(y0, y1, 50)])
    points = np.vstack([points, [[0.0, 0.0], [x1, y1]]])  # the origin too (Ackley's 0/0 case)
    for x, y in points.tolist():
        assert ns["grad"](x, y) == surface.grad(x, y), (x, y)  # bit for bit
        assert ns["value"](x, y) == surface.value(x, y), (x, y)


def test_script_surface_formulas_overflow_like_the_kernels():
    # Far outside the domain the compiled kernels overflow to inf/NaN; the script's powers are products, so
    # Python does the same instead of raising OverflowError.
    for surface in SURFACES:
        ns = _namespace(surface)
        for x, y in ((1e200, -3e150), (-1e300, 1e300)):
            try:
                got = ns["grad"](x, y)
            except (OverflowError, ValueError):  # only math.sin/cos of inf (the script maps these to NaN)
                assert surface.sid in (surfaces._kernels.RASTRIGIN, surfaces._kernels.ACKLEY, surfaces._kernels.LEVI)
                continue
            want = surface.grad(x, y)
            for g, w in zip(got, want, strict=True):
                assert g == w or (math.isnan(g) and math.isnan(w)), (surface.name, x, y, got, want)


# --------------------------------------------------------------------------------------------
# The torch script, run


_LINE = re.compile(
    r"^run (\d+) (\w+) (?:final \(x, y\) = \((\S+), (\S+)\)"
    r"|stopped at step (\d+) \(([\w-]+)\); last \(x, y\) = \((\S+), (\S+)\)"
    r"|skipped \((.*)\))$"
)


def _run_script(script: str, tmp_path: Path) -> dict[int, dict]:
    path = tmp_path / "reproduce.py"
    path.write_text(script, encoding="utf-8")
    r = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    out = {}
    for line in r.stdout.splitlines():
        m = _LINE.match(line)
        assert m, f"unexpected output line {line!r}"
        i, name, fx, fy, step, reason, lx, ly, skipped = m.groups()
        if fx is not None:
            out[int(i)] = {"name": name, "final": (float(fx), float(fy))}
        elif step is not None:
            out[int(i)] = {"name": name, "stopped": int(step), "reason": reason, "last": (float(lx), float(ly))}
        else:
            out[int(i)] = {"name": name, "skipped": skipped}
    return out


def _close(got, want) -> bool:
    got, want = np.asarray(got), np.asarray(want)
    return bool(np.all(np.abs(got - want) <= RTOL * np.maximum(1.0, np.abs(want))))


SCENARIOS = {
    "rosenbrock_default_runs": lambda: optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"),
                                                        start=(-1.5, 2.0), steps=300),
    "every_option_on_beale": lambda: optiviz.simulate("beale", [
        RunSpec("adam", lr=0.05, amsgrad=True, weight_decay=0.01), RunSpec("adamw", lr=0.05),
        RunSpec("rmsprop", lr=5e-3, centered=True, momentum=0.5), RunSpec("adagrad", lr=0.5, lr_decay=0.01,
                                                                           initial_accumulator_value=0.1),
        RunSpec("sgd", lr=1e-3, momentum=0.9, nesterov=True), RunSpec("sgd", lr=1e-3, momentum=0.9, dampening=0.5),
    ], steps=300),
    "quadratic_rotated_noise": lambda: optiviz.simulate(
        surfaces.get("quadratic", kappa=50, angle=30), optiviz.default_runs("quadratic", ("adam", "rmsprop",
                                                                                          "adagrad")),
        steps=300, noise=0.3, seed=7),
    "noisy_saddle_escapes": lambda: optiviz.simulate("noisy_saddle", [RunSpec("sgd", lr=0.05), RunSpec("adam",
                                                                                                       lr=0.05)],
                                                     steps=2000),
    "diverging_and_skipped": lambda: optiviz.simulate("rosenbrock", [
        RunSpec("sgd", lr=0.01),  # escapes
        RunSpec("adam", lr=0.05, eps_inside_sqrt=True), RunSpec("adam", lr=0.05),
        RunSpec("rmsprop", lr=5e-3, eps_inside_sqrt=True),
        RunSpec("sgd", lr=1e308),  # the position overflows
        # the variance estimate sinks below rounding: sqrt of a negative number is NaN, in torch as in optiviz
        RunSpec("rmsprop", lr=0.0, alpha=0.5, centered=True),
        RunSpec("adam", lr=0.05, bias_correction=False), RunSpec("adamw", lr=0.05, bias_correction=False,
                                                                 eps_inside_sqrt=True),
    ], start=(-1.5, 2.0), steps=200),
    # g*g overflows exp_avg_sq while the position stays finite
    "adam_state_overflows": lambda: optiviz.simulate("quadratic", [RunSpec("adam", lr=0.1)], start=(1.0, 1.0),
                                                     steps=50, noise=2e155),
    "ackley": lambda: optiviz.simulate("ackley", optiviz.default_runs("ackley"), steps=300),
    # Every optimizer beyond the first five, at its recommended lr (the script imports the reference packages).
    "every_later_optimizer": lambda: optiviz.simulate("himmelblau", optiviz.default_runs(
        "himmelblau", [n for n in optiviz.OPTIMIZERS if n not in ("adam", "adamw", "rmsprop", "adagrad", "sgd")]),
        steps=300),
    # Not AdaGrad at lr=1 here: its path crosses Lévi's ripples in big steps, which amplify the one-ulp
    # differences of torch's fused multiply-adds (first at step 9) to 1.6e-3 by step 50 (4.6e-6 at step 300,
    # once both settle in the same minimum); replaying optiviz's gradients into torch agrees to 4e-16.
    "levi": lambda: optiviz.simulate("levi", optiviz.default_runs("levi", ("adam", "rmsprop", "sgd")), steps=300),
    "goldstein_price": lambda: optiviz.simulate("goldstein_price", optiviz.default_runs("goldstein_price"),
                                                steps=300),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_torch_script_reproduces_the_runs(scenario, tmp_path):
    pytest.importorskip("torch")
    sim = SCENARIOS[scenario]()
    for spec in sim.scenario.runs:
        module, _ = spec.spec.reference
        pytest.importorskip(module, reason=f"{spec.optimizer}'s reference needs the {spec.spec.package} package")
    got = _run_script(export.to_torch_script(sim), tmp_path)
    assert sorted(got) == list(range(1, len(sim.runs) + 1))  # numbered as in the app
    for i, run in enumerate(sim.runs):
        line = got[i + 1]
        assert line["name"] == run.optimizer
        if run.spec.extensions:
            assert all(f"{k}={v}" in line["skipped"] for k, v in run.spec.extensions.items()), line
        elif run.diverged_at is None:
            assert "final" in line, (i, line, run)
            assert _close(line["final"], run.path[-1]), (i, line["final"], run.path[-1].tolist())
        else:
            assert line.get("stopped") == run.diverged_at, (i, line, run)
            assert line["reason"] == run.diverged_reason
            assert _close(line["last"], run.path[-1]), (i, line["last"], run.path[-1].tolist())


def test_torch_script_scenarios_cover_every_outcome():
    outcomes = {}
    for name, make in SCENARIOS.items():
        for run in make().runs:
            skipped = bool(run.spec.extensions)
            outcomes.setdefault("skipped" if skipped else run.diverged_reason or "final", []).append(name)
    assert set(outcomes) == {"final", "non-finite", "escaped", "skipped"}
    assert len(outcomes["non-finite"]) == 3, outcomes["non-finite"]  # position, NaN state, overflowing state


def test_torch_script_is_readable_python():
    sim = SCENARIOS["diverging_and_skipped"]()
    script = export.to_torch_script(sim)
    compile(script, "reproduce.py", "exec")
    assert "import torch" in script and "autograd" not in script and ".backward(" not in script
    assert "foreach=False" in script and "p.grad = torch.tensor([gx, gy], dtype=torch.float64)" in script
    assert re.search(r'^run\(1, "sgd", torch\.optim\.SGD,\s+lr=0\.01, momentum=0\.0, dampening=0\.0', script, re.M)
    assert "# run 2 (adam, eps_inside_sqrt=True) cannot be reproduced with torch.optim" in script
    assert 'print("run 2 adam skipped (eps_inside_sqrt=True: not a torch.optim option)")' in script
    assert re.search(r'^run\(8, "sgd"', export.to_torch_script(sim, numbers=list(range(8, 8 + len(sim.runs)))), re.M)
    assert "eps_inside_sqrt=True)" not in script.replace("eps_inside_sqrt=True) cannot", "")  # never handed to torch
    assert "# run 7 (adam, bias_correction=False) cannot be reproduced with torch.optim" in script
    assert 'print("run 7 adam skipped (bias_correction=False: not a torch.optim option)")' in script
    assert "# run 8 (adamw, eps_inside_sqrt=True, bias_correction=False) cannot be reproduced" in script
    assert "bias_correction" not in "".join(line for line in script.splitlines() if line.startswith("run("))
    assert f"ESCAPE_BOX = {sim.surface.escape_box!r}" in script and "(-200.0, 200.0, -199.0, 201.0)" in script
    assert "NOISE = SIGMA * np.random.default_rng(SEED).standard_normal((STEPS, 2))" in script
    quad = export.to_torch_script(optiviz.simulate(surfaces.get("quadratic", kappa=50, angle=30),
                                                   [RunSpec("sgd", lr=0.01)], steps=3))
    h11, h12, h22 = surfaces.get("quadratic", kappa=50, angle=30).params
    assert f"H11, H12, H22 = {h11!r}, {h12!r}, {h22!r}" in quad


# --------------------------------------------------------------------------------------------
# The command line


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optiviz", *args], capture_output=True, timeout=300, cwd=REPO_ROOT)


_CLI_ARGS = ("simulate", "--surface", "quadratic:kappa=10,angle=30", "--run", "sgd:lr=0.1,nesterov=true,momentum=0.5",
             "--run", "adam:lr=0.1,eps_inside_sqrt=true", "--start=-4,1", "--steps", "40", "--noise", "0.1",
             "--seed", "3")


def _cli_sim():
    return optiviz.simulate(surfaces.get("quadratic", kappa=10, angle=30),
                            [RunSpec("sgd", lr=0.1, nesterov=True, momentum=0.5),
                             RunSpec("adam", lr=0.1, eps_inside_sqrt=True)],
                            start=(-4.0, 1.0), steps=40, noise=0.1, seed=3)


@pytest.mark.parametrize(("fmt", "writer"), [
    ("json", export.to_json), ("csv", export.to_csv), ("html", export.to_html), ("torch", export.to_torch_script),
])
def test_cli_formats_write_what_the_functions_return(fmt, writer):
    r = _cli(*_CLI_ARGS, "--format", fmt)
    assert r.returncode == 0, r.stderr.decode()
    want = writer(_cli_sim())
    assert r.stdout.decode("utf-8") == (want if want.endswith("\n") else want + "\n")


def test_cli_help_explains_each_format():
    r = _cli("simulate", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.decode().split())
    for words in ("json:", "the settings", "csv:", "a header row", "numbered from 1", "html:", "plays offline",
                  "torch:", "torch.optim", "eps_inside_sqrt", "bias_correction=false"):
        assert words in text, words


def test_cli_rejects_an_unknown_format():
    r = _cli("simulate", "--surface", "beale", "--run", "adam", "--format", "xml")
    assert r.returncode == 2
    assert "invalid choice: 'xml'" in r.stderr.decode()
