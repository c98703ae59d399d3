"""The bad-input catalogue: every way in (the sidebar's widgets, a link's parameters, the command line, the
Python API), each at and past its limits, with the message each produces. Nothing here may raise anything
but the documented ``ValueError`` (API), exit with anything but code 2 and one line (CLI), or show a
traceback (app); and a value refused in the app leaves the setting as it was.

Sliders cannot be moved past their ends in a browser; they are tried at both ends, and a link that asks for
more is in the link cases. docs/robustness.md states how many inputs this tries: a test keeps it true.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _apptest import open_app

import optiviz
from optiviz import RunSpec, _cli

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


@dataclass(frozen=True)
class Case:
    path: str  # "widget", "link", "cli" or "api"
    given: Any  # widget: (key, value); link: {param: text}; cli: argv; api: a callable
    expect: str  # a piece of the message it must produce ("" for a widget value that is taken as it is)
    label: str = ""

    @property
    def id(self) -> str:
        text = self.label or (repr(self.given) if self.path != "api" else self.expect)
        return f"{self.path}: {text[:70]}"


def _widget(key: str, value: Any, expect: str = "") -> Case:
    return Case("widget", (key, value), expect)


def _refused(key: str, label: str, lo: str, hi: str, value: Any, kept: str, shown: str | None = None) -> Case:
    """``value`` typed into the box labelled ``label`` (None: the box emptied): refused, shown as ``shown`` (by
    default as Python's ``g`` format shows it, and integers with thousands separators)."""
    if shown is None and value is not None:
        shown = f"{value:g}" if isinstance(value, float) else f"{value:,}"
    said = "" if value is None else f", not {shown}"
    return _widget(key, value, f"{label} takes a number from {lo} to {hi}{said}; it stays {kept}.")


WIDGETS = [
    # number inputs: both ends are taken; past them, or left empty, the value stays and the range is said
    _widget("start_x", -2.0), _widget("start_x", 2.0),
    _refused("start_x", "start x", "-2", "2", 2.5, "-1.5"), _refused("start_x", "start x", "-2", "2", -3.0, "-1.5"),
    _refused("start_x", "start x", "-2", "2", None, "-1.5"),
    _refused("start_x", "start x", "-2", "2", 1e300, "-1.5", "1e300"),
    _widget("start_y", -1.0), _widget("start_y", 3.0),
    _refused("start_y", "start y", "-1", "3", 3.5, "2"), _refused("start_y", "start y", "-1", "3", -1.5, "2"),
    _refused("start_y", "start y", "-1", "3", None, "2"),
    _widget("seed", 0), _widget("seed", 2**31 - 1),
    _refused("seed", "seed", "0", "2,147,483,647", -1, "0"), _refused("seed", "seed", "0", "2,147,483,647", 2**31, "0"),
    _refused("seed", "seed", "0", "2,147,483,647", None, "0"),
    _widget("tolerance", 1e-8), _widget("tolerance", 10.0),
    _refused("tolerance", "tolerance for “steps to within … of a minimum”", "1e-8", "10", 0.0, "0.01"),
    _refused("tolerance", "tolerance for “steps to within … of a minimum”", "1e-8", "10", 11.0, "0.01"),
    _widget("r0.weight_decay", 0.0), _widget("r0.weight_decay", 10.0),
    _refused("r0.weight_decay", "weight_decay", "0", "10", -0.1, "0"),
    _refused("r0.weight_decay", "weight_decay", "0", "10", 10.5, "0"),
    _refused("r0.weight_decay", "weight_decay", "0", "10", None, "0"),
    _widget("r3.dampening", 0.0), _widget("r3.dampening", 1.0),
    _refused("r3.dampening", "dampening", "0", "1", 1.5, "0"),
    _refused("r3.dampening", "dampening", "0", "1", -0.5, "0"),
    _widget("r2.lr_decay", 10.0), _refused("r2.lr_decay", "lr_decay", "0", "10", -1.0, "0"),
    _widget("r2.initial_accumulator_value", 100.0),
    _refused("r2.initial_accumulator_value", "initial_accumulator_value", "0", "100", 101.0, "0"),
    _refused("r2.initial_accumulator_value", "initial_accumulator_value", "0", "100", None, "0"),
    # sliders, at both ends (a browser cannot move them further)
    _widget("r0.lr", 1e-5), _widget("r0.lr", 10.0), _widget("r0.eps", 1e-12), _widget("r0.eps", 1.0),
    _widget("r0.beta1", 0.0), _widget("r0.beta1", 0.99999), _widget("r0.beta2", 0.0), _widget("r0.beta2", 0.99999),
    _widget("r1.alpha", 0.0), _widget("r1.alpha", 0.99999), _widget("r3.momentum", 0.0),
    _widget("r3.momentum", 0.99999), _widget("steps", 10), _widget("steps", 10_000), _widget("noise", 0.0),
    _widget("noise", 2.0),
]

_SURFACES = "valid surfaces: rosenbrock, beale"
LINKS = [Case("link", {param: text}, expect) for param, text, expect in [
    ("surface", "nope", f"`surface=nope`: Unknown surface 'nope'; {_SURFACES}"),
    ("surface", "", f"`surface=`: Unknown surface ''; {_SURFACES}"),
    ("surface", "quadratic:kappa=0", "quadratic: kappa must be a number in [1, 1e6], got 0.0; using Rosenbrock."),
    ("surface", "quadratic:kappa=abc", "kappa must be a number, got 'abc'; using Rosenbrock."),
    ("surface", "quadratic:foo=1", "quadratic got an unexpected parameter 'foo'; valid: kappa, angle"),
    ("surface", "rosenbrock:kappa=2", "rosenbrock takes no parameters, got 'kappa=2'; using Rosenbrock."),
    ("surface", "x" * 600, "too long; using the default."),
    ("surface", "<script>alert(1)</script>", "Unknown surface '<script>alert(1)</script>'"),
    ("surface", "\x00", "`surface=\N{REPLACEMENT CHARACTER}`: Unknown surface '\\x00'"),
    ("start", "abc", "`start=abc`: expected two numbers x,y; using the surface's start (-1.5, 2.0)."),
    ("start", "1", "expected two numbers x,y"), ("start", "1,2,3", "expected two numbers x,y"),
    ("start", "", "expected two numbers x,y"),
    ("start", "nan,0", "'nan' is not a finite number"), ("start", "inf,0", "'inf' is not a finite number"),
    ("start", "1e400,0", "'1e400' is not a finite number"), ("start", "a,0", "'a' is not a number"),
    ("start", "10,10", "outside the surface's domain [-2, 2] x [-1, 3]"),
    ("steps", "0", "'0' is not a whole number from 10 to 10,000; using 1000."),
    ("steps", "9", "'9' is not a whole number from 10 to 10,000"),
    ("steps", "10001", "'10001' is not a whole number from 10 to 10,000"),
    ("steps", "1.5", "'1.5' is not a whole number"), ("steps", "-5", "'-5' is not a whole number"),
    ("steps", "1e9", "'1e9' is not a whole number"), ("steps", "nan", "'nan' is not a finite number"),
    ("steps", "abc", "`steps=abc`: 'abc' is not a number; using 1000."),
    ("noise", "-1", "`noise=-1`: must be from 0 to 2; using the surface's 0."),
    ("noise", "3", "must be from 0 to 2"), ("noise", "nan", "'nan' is not a finite number"),
    ("noise", "inf", "'inf' is not a finite number"), ("noise", "abc", "'abc' is not a number"),
    ("seed", "-1", "'-1' is not a whole number from 0 to 2,147,483,647; using 0."),
    ("seed", "2147483648", "'2147483648' is not a whole number from 0 to 2,147,483,647"),
    ("seed", "1.5", "'1.5' is not a whole number"), ("seed", "abc", "'abc' is not a number"),
    ("step", "-1", "`step=-1`: '-1' is not a step: steps are whole numbers from 0 to 1,000; using 0."),
    ("step", "1001", "`step=1001`: '1001' is past the last step, 1,000; using 0."),
    ("step", "1.5", "'1.5' is not a step"), ("step", "nan", "'nan' is not a finite number"),
    ("step", "abc", "`step=abc`: 'abc' is not a number; using 0."),
    ("show", "foo", "`show=foo`: unknown option(s) foo (valid: moments, arrows, 3d, focus); using the known ones."),
    ("show", "moments,foo", "unknown option(s) foo"),
    ("show", "focus,fokus", "unknown option(s) fokus"),
    ("run", "nope", "`run #1=nope`: Unknown optimizer 'nope'; valid optimizers: adam, adamw, rmsprop"),
    ("run", "adam:lr=-1", "`run #1=adam:lr=-1`: Invalid learning rate: -1.0; using no run in its place."),
    ("run", "adam:lr=nan", "Invalid learning rate: nan"),
    ("run", "adam:lr=100", "lr=100 is outside the app's range, 1e-05 to 10"),
    ("run", "adam:eps=0", "eps=0 is outside the app's range, 1e-12 to 1"),
    ("run", "adam:lr=abc", "lr must be a number, got 'abc'"),
    ("run", "adam:betas=1/0.999", "Invalid beta parameter at index 0: 1.0"),
    ("run", "adam:betas=0.9", "betas must be 2 numbers separated by '/', got '0.9'"),
    ("run", "adam:amsgrad=maybe", "amsgrad must be true or false, got 'maybe'"),
    ("run", "sgd:nesterov=true", "Nesterov momentum requires a momentum and zero dampening"),
    ("run", "adam:foo=1", "adam got an unexpected hyperparameter 'foo'; valid: lr, betas, eps"),
    ("run", "adam:lr", "adam: expected key=value, got 'lr'"),
    ("run", "adam:bias_correction=maybe", "bias_correction must be true or false, got 'maybe'"),
    ("run", "sgd:bias_correction=false", "sgd got an unexpected hyperparameter 'bias_correction'"),
    ("lesson", "nope", "`lesson=nope`: Unknown lesson 'nope'; valid lessons: bias-correction, eps-inside-sqrt"),
    ("lesson", "", "`lesson=`: Unknown lesson ''; valid lessons: bias-correction"),
    ("lesson", "Bias-Correction", "Unknown lesson 'Bias-Correction'"),
    ("lesson", "x" * 600, "too long; using the default."),
    ("run", ["adam"] * 9, "`run`: 9 runs given, at most 8; using the first 8."),
    ("foo", "bar", "`foo`: not a parameter optiviz knows; ignored."),
]]


def _argv(*extra: str) -> list[str]:
    return ["simulate", "--surface", "rosenbrock", "--run", "adam", "--steps", "5", *extra]


CLI = [Case("cli", argv, expect) for argv, expect in [
    ([], "the following arguments are required: command"),
    (["bogus"], "argument command: invalid choice: 'bogus'"),
    (["simulate"], "the following arguments are required: --surface, --run"),
    (["simulate", "--surface", "nope", "--run", "adam"], "Unknown surface 'nope'; valid surfaces: rosenbrock"),
    (["simulate", "--surface", "rosenbrock:x=1", "--run", "adam"], "rosenbrock takes no parameters, got 'x=1'"),
    (["simulate", "--surface", "quadratic:kappa=0", "--run", "adam"], "kappa must be a number in [1, 1e6]"),
    (["simulate", "--surface", "rosenbrock", "--run", "nope"], "Unknown optimizer 'nope'; valid optimizers"),
    (["simulate", "--surface", "rosenbrock", "--run", "adam:lr=-1"], "Invalid learning rate: -1.0"),
    (["simulate", "--surface", "rosenbrock", "--run", "adam:betas=0.9/1"], "Invalid beta parameter at index 1: 1.0"),
    (["simulate", "--surface", "rosenbrock", "--run", "adam:foo=1"], "adam got an unexpected hyperparameter 'foo'"),
    (["simulate", "--surface", "rosenbrock", "--run", "adam:bias_correction=2"],
     "bias_correction must be true or false, got '2'"),
    (_argv("--start", "1"), "argument --start: expected X,Y (two numbers), got '1'"),
    (_argv("--start", "a,b"), "argument --start: expected X,Y (two numbers), got 'a,b'"),
    (_argv("--start=nan,0"), "start must be two finite numbers (x, y), got (nan, 0.0)"),
    (_argv("--steps", "0"), "steps must be a whole number from 1 to 100,000, got 0"),
    (_argv("--steps", "200000"), "steps must be a whole number from 1 to 100,000, got 200000"),
    (_argv("--steps", "abc"), "argument --steps: invalid int value: 'abc'"),
    (_argv("--noise", "-1"), "noise must be a finite number >= 0, got -1.0"),
    (_argv("--noise", "nan"), "noise must be a finite number >= 0, got nan"),
    (_argv("--seed", "-1"), "seed must be a whole number >= 0, got -1"),
    (_argv("--format", "xml"), "argument --format: invalid choice: 'xml'"),
]]

API = [Case("api", call, expect) for call, expect in [
    (lambda: RunSpec("nope"), "Unknown optimizer 'nope'; valid optimizers: adam"),
    (lambda: RunSpec("adam", foo=1), "adam got an unexpected hyperparameter 'foo'"),
    (lambda: RunSpec("adam", lr="0.1"), "adam: lr must be a number, got '0.1'"),
    (lambda: RunSpec("adam", lr=-1.0), "Invalid learning rate: -1.0"),
    (lambda: RunSpec("adam", lr=math.inf, eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda: RunSpec("adam", betas=(0.9,)), "adam: betas must be a pair of numbers, got (0.9,)"),
    (lambda: RunSpec("adam", betas="ab"), "adam: betas must be a pair of numbers, got 'ab'"),
    (lambda: RunSpec("adam", betas=(0.9, math.nan)), "Invalid beta parameter at index 1: nan"),
    (lambda: RunSpec("adam", amsgrad="yes"), "adam: amsgrad must be True or False, got 'yes'"),
    (lambda: RunSpec("adam", bias_correction="no"), "adam: bias_correction must be True or False, got 'no'"),
    (lambda: RunSpec("rmsprop", bias_correction=False), "rmsprop got an unexpected hyperparameter 'bias_correction'"),
    (lambda: RunSpec("sgd", momentum=-1.0), "Invalid momentum value: -1.0"),
    (lambda: RunSpec("sgd", dampening=math.nan), "Invalid dampening value: nan"),
    (lambda: RunSpec("rmsprop", alpha=-0.5), "Invalid alpha value: -0.5"),
    (lambda: RunSpec("adagrad", lr_decay=-1.0), "Invalid lr_decay value: -1.0"),
    (lambda: optiviz.simulate("nope", [RunSpec("adam")]), "Unknown surface 'nope'"),
    (lambda: optiviz.simulate("rosenbrock", []), "runs must contain at least one RunSpec"),
    (lambda: optiviz.simulate("rosenbrock", ["adam"]), "runs must be RunSpec objects, got 'adam'"),
    (lambda: optiviz.simulate("rosenbrock", [RunSpec("adam")], start=(math.nan, 0)),
     "start must be two finite numbers (x, y), got (nan, 0.0)"),
    (lambda: optiviz.simulate("rosenbrock", [RunSpec("adam")], start="ab"), "start must be two finite numbers"),
    (lambda: optiviz.simulate("rosenbrock", [RunSpec("adam")], start=(1, 2, 3)), "start must be two finite numbers"),
    (lambda: optiviz.simulate("rosenbrock", [RunSpec("adam")], steps=0), "steps must be a whole number from 1"),
    (lambda: optiviz.simulate("rosenbrock", [RunSpec("adam")], steps=1.5), "steps must be a whole number from 1"),
    (lambda: optiviz.simulate("rosenbrock", [RunSpec("adam")], steps=True), "steps must be a whole number from 1"),
    (lambda: optiviz.simulate("rosenbrock", [RunSpec("adam")], noise=-1.0), "noise must be a finite number >= 0"),
    (lambda: optiviz.simulate("rosenbrock", [RunSpec("adam")], noise=math.inf), "noise must be a finite number"),
    (lambda: optiviz.simulate("rosenbrock", [RunSpec("adam")], seed=-1), "seed must be a whole number >= 0"),
    (lambda: optiviz.simulate("rosenbrock", [RunSpec("adam")], seed=1.5), "seed must be a whole number >= 0"),
    (lambda: optiviz.simulate("quadratic:kappa=2", [RunSpec("adam")]), "Unknown surface 'quadratic:kappa=2'"),
]]

CATALOGUE = WIDGETS + LINKS + CLI + API


def _feed_widget(case: Case) -> None:
    key, value = case.given
    at = open_app()
    match = re.match(r"r(\d+)\.", key)
    if match:
        at.radio(key="edit_run").set_value(int(match[1])).run()
    widget = next(w for kind in ("number_input", "select_slider", "slider") for w in at.get(kind) if w.key == key)
    before = widget.value
    widget.set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]
    after = next(w for kind in ("number_input", "select_slider", "slider") for w in at.get(kind) if w.key == key).value
    said = [c.value for c in at.caption if "takes a number from" in c.value]
    if case.expect:
        assert after == before, f"{key}: a refused value changed the setting from {before} to {after}"
        assert any(case.expect in text for text in said), said
    else:
        assert after == value and not said, (after, said)


def _feed_link(case: Case) -> None:
    at = open_app(case.given)
    (warning,) = [w.value for w in at.warning if w.value.startswith("Some settings in the link")]
    assert case.expect in warning, warning


def _feed_cli(case: Case) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = _cli.main(case.given)
        except SystemExit as exc:
            code = exc.code
    lines = err.getvalue().strip().splitlines()
    assert code == 2, (code, lines)
    assert lines[-1].startswith("optiviz: error: ") and case.expect in lines[-1], lines
    assert "Traceback" not in err.getvalue()


def _feed_api(case: Case) -> None:
    with pytest.raises(ValueError, match=re.escape(case.expect)):
        case.given()


@pytest.mark.parametrize("case", CATALOGUE, ids=[c.id for c in CATALOGUE])
def test_bad_input(case: Case) -> None:
    {"widget": _feed_widget, "link": _feed_link, "cli": _feed_cli, "api": _feed_api}[case.path](case)


def test_the_docs_state_the_catalogues_size():
    counts = {path: sum(c.path == path for c in CATALOGUE) for path in ("widget", "link", "cli", "api")}
    line = (f"{len(CATALOGUE)} inputs ({counts['widget']} widget values, {counts['link']} link parameters, "
            f"{counts['cli']} command lines, {counts['api']} API calls)")
    text = " ".join((ROOT / "docs" / "robustness.md").read_text(encoding="utf-8").split())  # lines rewrapped
    assert line in text, line
