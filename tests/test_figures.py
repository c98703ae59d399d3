"""The figures: validated by plotly's own classes, frames and traces as the app needs them, payload bounds."""

import copy
import itertools
import json

import numpy as np
import plotly.io as pio
import pytest

import optiviz
import surfaces
from optiviz import _codec, _layouts, chart, figures


@pytest.fixture(scope="module")
def sim():
    return optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"), steps=1000)


def _names(spec):
    return [t.get("name") for t in spec["data"]]


@pytest.mark.parametrize("arrows", [False, True])
@pytest.mark.parametrize("moments", [False, True])
def test_trajectory_figure_is_valid_plotly(sim, arrows, moments):
    fig = figures.create_trajectory_figure(sim, arrows=arrows, moments=moments)
    validated = fig.validated()  # raises on any invalid property
    # played back by the chart component: no Plotly frames, buttons or step slider
    assert not validated.frames and not validated.layout.updatemenus and not validated.layout.sliders
    playback = fig.spec["layout"]["meta"]["optivizPlayback"]
    assert playback["n"] == 1000 and len(playback["runs"]) == 4
    assert len(playback["cursors"]) == (6 if moments else 0) and ("vectors" in playback) == arrows


def _playback(fig):
    spec = fig.spec
    playback = spec["layout"]["meta"]["optivizPlayback"]
    return spec, playback


@pytest.mark.parametrize("arrows", [False, True])
def test_the_playback_names_each_runs_moving_traces(sim, arrows):
    """Per run: its path (filled in from the positions), a head and a trail (and three arrows); six cursors.
    Nothing else moves, and none of them is the surface."""
    spec, playback = _playback(figures.create_trajectory_figure(sim, arrows=arrows))
    labels = figures.default_labels(sim)
    for label, run, entry in zip(labels, sim.runs, playback["runs"], strict=True):
        data = spec["data"]
        assert entry["n"] == run.steps_done
        assert data[entry["line"]]["name"] == label and "x" not in data[entry["line"]]
        assert data[entry["head"]]["name"] == f"{label} now" and data[entry["trail"]]["name"] == f"{label} trail"
        kinds = [data[i]["name"][len(label) + 1:] for i in entry["arrows"] or []]
        assert kinds == (list(figures.ARROW_KINDS) if arrows else [])
    assert [spec["data"][i]["name"] for i in playback["cursors"]] == ["current step"] * 6
    moving = [i for e in playback["runs"] for i in (e["head"], e["trail"], *(e["arrows"] or []))]
    assert {spec["data"][i]["type"] for i in moving + playback["cursors"]} == {"scatter"}
    assert len(set(moving + playback["cursors"])) == len(moving) + 6
    assert playback["trail"] == figures.trail_steps(1000) == 25


def test_the_playback_holds_every_steps_position(sim):
    """Every step of every run, to within 2^-24 of the run's own range (float32's resolution): the chart
    can show any step."""
    _, playback = _playback(figures.create_trajectory_figure(sim))
    positions = _codec.decode(playback["positions"])
    for i, run in enumerate(sim.runs):
        for k in range(2):
            values = run.path[:, k]
            quantum = (values.max() - values.min()) / (2**24 - 2) / 2
            assert positions[2 * i + k].shape == (1001,)
            np.testing.assert_allclose(positions[2 * i + k], values, rtol=0, atol=quantum * 1.0001)


def test_the_arrows_point_along_each_steps_vectors(sim):
    """The arrows at every step: the update x_{t+1} − x_t, −η·m̂ (Adam's momentum as it steps along it) and
    −η·∇f, in that order; directions to 2^-10 of a turn, lengths to 1% (10 bits of log10 over 7 decades) up to
    ten times the longest arrow drawn (those are drawn cut anyway)."""
    _, playback = _playback(figures.create_trajectory_figure(sim, arrows=True))
    columns = _codec.decode(playback["vectors"])
    top = 10 * playback["arrows"]["cap"] / playback["arrows"]["scale"]
    adam = sim.runs[0]
    lr = adam.spec.lr
    expected = [adam.update, -lr * adam.bias_corrected["m_hat"], -lr * adam.grad]
    for k, vectors in enumerate(expected):
        angle = columns[2 * k]
        length = 10 ** columns[2 * k + 1]
        norm = np.hypot(*vectors.T)
        np.testing.assert_allclose(np.cos(angle), vectors[:, 0] / norm, atol=2 * np.pi / 2**10)
        np.testing.assert_allclose(length, np.minimum(norm, top), rtol=0.01)
    sgd = 6 * 3  # plain SGD keeps no momentum: that arrow has no data
    assert columns[sgd + 2].size == 0 and columns[sgd + 3].size == 0


def test_payload_at_the_defaults_is_under_one_megabyte(sim):
    traj = pio.to_json(figures.create_trajectory_figure(sim), validate=False)
    loss = pio.to_json(figures.create_loss_figure(sim), validate=False)
    assert len(traj) + len(loss) < 1_000_000


def test_every_steps_path_is_drawn_so_a_zigzag_keeps_every_corner():
    """SGD zig-zagging across the quadratic's valley at 4,000 steps: the path on the contour is every
    step's position, so every corner is drawn."""
    sim = optiviz.simulate("quadratic", [optiviz.RunSpec("sgd", lr=0.4)], steps=4000)
    spec = figures.create_trajectory_figure(sim, labels=["zigzag"], moments=False).unpacked()
    zigzag = next(t for t in spec["data"] if t["name"] == "zigzag")
    assert len(zigzag["y"]) == 4001
    assert np.sign(zigzag["y"][:6]).tolist() == [-1, 1, -1, 1, -1, 1]


def test_thinning_a_long_path_keeps_every_turn():
    """The 3D view thins long paths: every k-th point and every point where the path turns by more than 15
    degrees (every k-th alone drew a zig-zag across a valley, SGD's signature, as a smooth curve)."""
    sim = optiviz.simulate("quadratic", [optiviz.RunSpec("sgd", lr=0.4), optiviz.RunSpec("adam", lr=0.05)],
                           steps=4000)
    for run in sim.runs:
        rows = figures._path_rows(run.path, 2000)
        assert np.all(np.diff(rows) > 0) and rows[0] == 0 and rows[-1] == len(run.path) - 1
        assert set(range(0, len(run.path), 3)) <= set(rows.tolist())  # every k-th (k = 3 for 4,001 points)
        step = np.diff(run.path, axis=0)
        cos = np.einsum("ij,ij->i", step[:-1], step[1:]) / (
            np.linalg.norm(step[:-1], axis=1) * np.linalg.norm(step[1:], axis=1))
        turns = np.flatnonzero(cos < np.cos(np.radians(15))) + 1
        assert set(turns.tolist()) <= set(rows)
        assert len(rows) <= len(range(0, len(run.path), 3)) + len(turns) + 1
    smooth = figures._path_rows(sim.runs[1].path, 2000)
    assert len(smooth) < 4001 / 2  # a smooth path is thinned


def test_a_series_that_fits_is_kept_whole():
    values = np.arange(10.0)
    kept, out = figures._envelope(values, 10)
    assert kept is None and np.array_equal(out, values)


def test_reducing_a_long_series_keeps_a_step_to_step_oscillation():
    """A learning rate a little too large makes a moment flip sign every step. Every k-th value (k even)
    would show a smooth curve; the envelope keeps both signs everywhere, and the extremes."""
    n = 10_000
    steps = np.arange(n)
    values = (-1.0) ** steps * (1.0 + steps / n)
    assert (values[::10] > 0).all()  # what a stride would have drawn
    kept, out = figures._envelope(values, 1000)
    assert len(out) <= 1000 and np.array_equal(out, values[kept])
    assert (np.diff(kept) > 0).all() and kept[0] == 0 and kept[-1] == n - 1
    for start in range(0, n, 50):  # both signs drawn in every stretch of 50 steps
        window = out[(kept >= start) & (kept < start + 50)]
        assert window.min() < 0 < window.max(), start
    assert out.min() == values.min() and out.max() == values.max()


def test_reducing_keeps_gaps_where_a_whole_bucket_is_missing():
    values = np.linspace(1.0, 2.0, 5000)
    values[2000:2100] = np.nan  # e.g. non-positive values on a log axis
    kept, out = figures._envelope(values, 500)
    assert np.isnan(out).any()
    finite = np.isfinite(out)
    assert np.array_equal(out[finite], values[kept[finite]])


def test_long_runs_draw_the_moments_at_the_steps_they_name():
    sim = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adam", lr=0.05)], steps=5000)
    spec = json.loads(pio.to_json(figures.create_trajectory_figure(sim), validate=False))
    m_x = next(t for t in spec["data"] if t["name"].endswith("m_t (exp_avg)") and t.get("xaxis") == "x2")
    x, y = _decoded(m_x["x"]).astype(int), _decoded(m_x["y"])
    assert len(y) <= figures.MAX_SERIES_POINTS and 1 <= x[0] and x[-1] <= 5000
    state = sim.runs[0].state["exp_avg"][:, 0]  # row s: after step s
    assert np.allclose(y, state[x], rtol=1e-6)
    loss = json.loads(pio.to_json(figures.create_loss_figure(sim), validate=False))["data"][0]
    lx, ly = _decoded(loss["x"]).astype(int), _decoded(loss["y"])
    assert np.allclose(ly, sim.runs[0].loss[lx] - sim.surface.min_value, rtol=1e-5)


def test_diverged_run_gets_a_stop_marker():
    sim = optiviz.simulate("rosenbrock", [optiviz.RunSpec("sgd", lr=0.01), optiviz.RunSpec("adam", lr=0.05)],
                           steps=200)
    spec = figures.create_trajectory_figure(sim).spec
    stops = [t for t in spec["data"] if t.get("name", "").endswith(" stopped")]
    assert len(stops) == 1
    assert f"step {sim.runs[0].diverged_at}" in stops[0]["text"][0]
    figures.create_trajectory_figure(sim).validated()


def test_run_that_stops_at_step_one_still_draws():
    sim = optiviz.simulate("rosenbrock", [optiviz.RunSpec("sgd", lr=10.0)], steps=50)
    assert sim.runs[0].steps_done == 0
    for fig in (figures.create_trajectory_figure(sim, arrows=True), figures.create_loss_figure(sim),
                figures.create_surface3d_figure(sim)):
        fig.validated()


def test_a_stop_label_is_placed_to_stay_inside_the_plot():
    # SGD at lr 10 from (-1.5, 2) escapes at step 1: its marker is near the left edge, so its label goes
    # to the right (centred, it was cut off by the y axis)
    sim = optiviz.simulate("rosenbrock", [optiviz.RunSpec("sgd", lr=10.0), optiviz.RunSpec("adam", lr=0.05)],
                           start=(-1.5, 2.0), steps=100)
    (stop,) = [t for t in figures.create_trajectory_figure(sim).spec["data"] if t["name"].endswith(" stopped")]
    assert stop["textposition"] == "top right"
    domain = ((-2.0, 2.0), (-1.0, 3.0))
    assert figures._text_position(np.array([1.9, 0.0]), domain) == "top left"
    assert figures._text_position(np.array([0.0, 2.9]), domain) == "bottom center"
    assert figures._text_position(np.array([-1.9, -0.9]), domain) == "top right"


@pytest.mark.parametrize("name", surfaces.names())
def test_every_surface_draws(name):
    surf = surfaces.get(name)
    sim = optiviz.simulate(surf, optiviz.default_runs(surf), steps=300)
    grid = figures.surface_grid(surf)
    assert grid.png.startswith("data:image/png;base64,")
    assert np.isfinite(grid.z).all()
    figures.create_trajectory_figure(sim, grid=grid, arrows=True).validated()
    figures.create_loss_figure(sim).validated()
    figures.create_surface3d_figure(sim).validated()


def test_3d_surface_samples_the_contour_grid_finely_enough_and_stays_light():
    """The app hands the 3D view the contour's 361-point grid: it keeps every third sample (121 a side;
    at 73 Rosenbrock's log valley showed saw teeth), the full extent, and a figure under 250 KB."""
    sim = optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"), steps=1000)
    grid = figures.surface_grid(sim.surface)
    fig = figures.create_surface3d_figure(sim, grid=grid)
    surface = fig.spec["data"][0]
    assert surface["type"] == "surface" and surface["z"]["shape"] == "121, 121"
    assert _decoded(surface["z"]).size == 121 * 121
    xs, ys = _decoded(surface["x"]), _decoded(surface["y"])
    assert (xs[0], xs[-1], ys[0], ys[-1]) == pytest.approx((grid.xs[0], grid.xs[-1], grid.ys[0], grid.ys[-1]))
    assert len(chart.figure_json(fig)) < 250_000


def _surface3d(name, steps=300, runs=None):
    """A 3D figure as the app builds it (the contour's 361-point grid), its surface as drawn, and the runs'
    playback columns decoded: per run (x, y, z of every drawn point, each step's index among them)."""
    surf = surfaces.get(name)
    sim = optiviz.simulate(surf, runs or optiviz.default_runs(surf), steps=steps)
    fig = figures.create_surface3d_figure(sim, grid=figures.surface_grid(surf))
    spec = fig.spec
    surface = spec["data"][0]
    n = int(surface["z"]["shape"].split(",")[0])
    drawn = (_decoded(surface["x"]), _decoded(surface["y"]), _decoded(surface["z"]).reshape(n, -1))
    pb = spec["layout"]["meta"]["optivizPlayback3d"]
    cols = _codec.decode(pb["positions"])
    runs = [tuple(cols[4 * i: 4 * i + 4]) for i in range(len(sim.runs))]
    return sim, spec, drawn, pb, runs


_SURFACES_3D = ["himmelblau", "rosenbrock", "booth", "rastrigin", "beale", "saddle", "monkey_saddle",
                "goldstein_price", "levi", "ackley"]


@pytest.mark.parametrize("name", _SURFACES_3D)
def test_3d_paths_are_drawn_above_the_surface(name):
    """Every point of every path, and the middle of every segment between them, is above the surface as drawn
    (the higher of its two triangulations): no path hides in the surface (Himmelblau's did)."""
    _sim, _spec, (xs, ys, z), _pb, runs = _surface3d(name)
    lift = figures.LIFT_3D * (z.max() - z.min())
    checked = 0
    for px, py, pz, _ in runs:
        under = figures.drawn_height(xs, ys, z, px, py)
        ok = np.isfinite(pz) & np.isfinite(under)
        assert np.all(pz[ok] >= under[ok] + 0.99 * lift)
        mx, my, mz = ((a[:-1] + a[1:]) / 2 for a in (px, py, pz))
        under_mid = figures.drawn_height(xs, ys, z, mx, my)
        ok_mid = np.isfinite(mz) & np.isfinite(under_mid)
        assert np.all(mz[ok_mid] > under_mid[ok_mid])
        checked += ok.sum()
    assert checked > 100


@pytest.mark.parametrize("name", ["himmelblau", "booth", "saddle"])  # linear heights: z is f itself
def test_3d_playback_is_every_step_of_every_run_at_its_height(name):
    """The 3D playback holds each run's every step: x and y as run.path (to the codec's 24 bits), and the
    height f(x_t) = run.loss, lifted above the surface (or the surface's own height, lifted, where the drawn
    surface is above f there); its traces are each run's full path, trail and head."""
    sim, spec, (xs, ys, z), pb, runs = _surface3d(name)
    lift = figures.LIFT_3D * (z.max() - z.min())
    assert pb["n"] == max(r.steps_done for r in sim.runs) and pb["trail"] == figures.trail_steps(pb["n"])
    for run, entry, (px, py, pz, at) in zip(sim.runs, pb["runs"], runs, strict=True):
        at = at.astype(int)
        assert entry["n"] == run.steps_done and len(at) == run.steps_done + 1
        assert at[0] == 0 and np.all(np.diff(at) >= 1)
        span = np.ptp(run.path, axis=0)
        assert np.allclose(px[at], run.path[:, 0], atol=span[0] * 1e-6 + 1e-12)
        assert np.allclose(py[at], run.path[:, 1], atol=span[1] * 1e-6 + 1e-12)
        under = figures.drawn_height(xs, ys, z, run.path[:, 0], run.path[:, 1])
        expected = np.maximum(np.clip(run.loss, z.min(), z.max()), under) + lift
        ok = np.isfinite(expected)
        assert np.allclose(pz[at][ok], expected[ok], atol=1e-5 * (z.max() - z.min()))
        assert np.all(np.isnan(pz[at][~ok]))  # outside the domain: a break in the line, no head
        for key, kind in (("line", "lines"), ("trail", "lines"), ("head", "markers")):
            trace = spec["data"][entry[key]]
            assert trace["type"] == "scatter3d" and trace["mode"] == kind
    figures.create_surface3d_figure(sim).validated()


def test_3d_figure_marks_start_minima_and_keeps_the_camera():
    sim, spec, (xs, ys, z), _pb, _runs = _surface3d("himmelblau")
    names = _names(spec)
    minimum = spec["data"][names.index("global minimum")]
    assert len(minimum["x"]) == 4 and minimum["marker"]["symbol"] == "diamond"
    start = spec["data"][names.index("start")]
    assert (start["x"][0], start["y"][0]) == sim.scenario.start and start["marker"]["symbol"] == "circle-open"
    assert start["z"][0] > figures.drawn_height(xs, ys, z, start["x"], start["y"])[0]
    assert spec["layout"]["uirevision"] and spec["layout"]["scene"]["camera"] == figures.CAMERA_3D
    assert spec["data"][0]["opacity"] < 1  # translucent: a path behind a ridge still shows through


def test_3d_figure_marks_where_a_run_stopped():
    _sim, spec, *_ = _surface3d("rosenbrock", 50, [optiviz.RunSpec("sgd", lr=10.0), optiviz.RunSpec("adam")])
    (stop,) = [t for t in spec["data"] if t["name"].endswith(" stopped")]
    assert stop["type"] == "scatter3d" and stop["marker"]["symbol"] == "x" and np.isfinite(stop["z"][0])


def test_drawn_height_is_the_higher_triangulation():
    xs = ys = np.array([0.0, 1.0])
    z = np.array([[0.0, 1.0], [1.0, 0.0]])  # z[j, i]: a saddle-like cell, the diagonals disagree at the centre
    assert figures.drawn_height(xs, ys, z, [0.5], [0.5])[0] == pytest.approx(1.0)
    assert figures.drawn_height(xs, ys, z, [0.0, 1.0], [0.0, 0.0]).tolist() == [0.0, 1.0]
    assert np.isnan(figures.drawn_height(xs, ys, z, [2.0], [0.5])[0])


def _merged(base, patch):
    """What the chart component does with a narrow-screen patch (``merged`` in _plotly_chart.js)."""
    if isinstance(patch, list) and isinstance(base, list):
        return [_merged(b, patch[i]) if i < len(patch) else b for i, b in enumerate(base)]
    if isinstance(patch, dict) and isinstance(base, dict):
        return {**base, **{k: _merged(base.get(k), v) for k, v in patch.items()}}
    return patch


def _stacked_checks(layout, patch, square, *, rows, cols):
    """What a stacked layout (narrow, focus) promises, in the pixels it is laid out for: the contour across the
    full width on top, exactly ``square["side"]`` px tall; the legend centred right under it, clear of it and of
    the first panels' titles; the six panels in ``rows`` rows of ``cols`` under that, not overlapping; each
    title centred over its panel and lifted clear of the panel's top tick label; tick labels and the "step"
    title on the last row only. Returns the panels' (x domain, y domain) in the wide layout's order."""
    stacked = _merged(layout, patch)
    plot = stacked["height"] - stacked["margin"]["t"] - stacked["margin"]["b"]
    px = lambda f: (1 - f) * plot  # noqa: E731  (paper fraction -> px from the plot area's top)
    assert square["plot"] == pytest.approx(plot) and square["l"] == stacked["margin"]["l"]
    assert stacked["xaxis"]["domain"] == [0.0, 1.0] and stacked["yaxis"]["domain"][1] == 1.0
    contour_bottom = px(stacked["yaxis"]["domain"][0])
    assert contour_bottom == pytest.approx(square["side"])
    legend = stacked["legend"]
    assert (legend["orientation"], legend["yref"], legend["yanchor"], legend["x"], legend["xanchor"]) == (
        "h", "paper", "top", 0.5, "center")
    assert contour_bottom + 40 <= px(legend["y"]) <= contour_bottom + 60  # under the x axis's ticks and title
    if not rows:
        return []
    panels = [(stacked[f"xaxis{k}"]["domain"], stacked[f"yaxis{k}"]["domain"]) for k in range(2, 8)]
    tops = sorted({round(px(y[1]), 6) for _, y in panels})
    lefts = sorted({x[0] for x, _ in panels})
    assert len(tops) == rows and len(lefts) == cols
    # the legend's lines fit between the contour's axis and the first titles
    # and the moment key's band
    assert tops[0] - px(legend["y"]) >= 25 * _layouts.legend_lines(["global minimum"], 1) + 30 + _layouts.STACK_KEY_PX
    for (x, y), ann in zip(panels, stacked["annotations"][:6], strict=True):
        assert ann["x"] == pytest.approx((x[0] + x[1]) / 2) and ann["y"] == pytest.approx(y[1])
        assert ann["yanchor"] == "bottom" and ann["yshift"] >= 10  # clear of the top tick label (half a line)
    for a, (xa, ya) in enumerate(panels):
        for xb, yb in panels[a + 1:]:
            apart_x = xa[1] < xb[0] or xb[1] < xa[0]
            apart_y = ya[1] < yb[0] or yb[1] < ya[0]
            assert apart_x or apart_y
    for k, (_, y) in enumerate(panels, start=2):
        last = round(px(y[1]), 6) == tops[-1]
        assert stacked[f"xaxis{k}"]["showticklabels"] is last
        assert stacked[f"xaxis{k}"]["title"]["text"] == ("step" if last else "")
    # between rows: the title's zone above each panel, and room for the last row's ticks and "step" under it
    heights = {round(px(y[0]) - px(y[1]), 6) for _, y in panels}
    assert len(heights) == 1
    for upper, lower in itertools.pairwise(tops):
        assert lower - upper >= next(iter(heights)) + 30
    bottom = max(px(y[0]) for _, y in panels)
    assert plot - bottom >= 45
    return panels


def test_narrow_screens_get_the_moment_panels_under_the_contour(sim):
    layout = figures.create_trajectory_figure(sim).spec["layout"]
    narrow = layout["meta"]["optivizNarrow"]
    assert narrow["below"] == _layouts.NARROW_BELOW
    square = narrow["square"]
    assert square["fit"] == "width"  # the chart component makes the contour as wide as the chart
    panels = _stacked_checks(layout, narrow["patch"], square, rows=3, cols=2)
    for row in range(3):  # three rows of two: x then y
        (lx, ly), (rx, ry) = panels[2 * row], panels[2 * row + 1]
        assert lx[1] < rx[0] and ly == ry
        if row:
            assert ly[1] < panels[2 * row - 2][1][0]
    # the key and the notes are placed on a panel's own domain: they follow it from one layout to the other
    others = _merged(layout, narrow["patch"])["annotations"][6:]
    assert others and all(a["xref"].endswith(" domain") and a["yref"].endswith(" domain") for a in others)
    # the patch leaves data and ranges alone
    axes = {f"{a}axis{k}" for a in "xy" for k in ("", *range(2, 8))}
    assert set(narrow["patch"]) == {"height", "margin", "legend", "annotations"} | axes
    assert all(set(v) <= {"domain", "showticklabels", "title"} for k, v in narrow["patch"].items() if k in axes)
    # without the panels: the contour and its legend under it
    alone = figures.create_trajectory_figure(sim, moments=False).spec["layout"]
    _stacked_checks(alone, alone["meta"]["optivizNarrow"]["patch"], alone["meta"]["optivizNarrow"]["square"],
                    rows=0, cols=0)


def test_the_focus_layout_has_a_large_contour_bold_paths_and_the_panels_below(sim):
    """The classroom layout: the contour (sized to the screen's height by the chart component) with its legend
    under it, the six panels below in two rows of three (x, then y; m, v, η), and paths and heads bolder."""
    plain = figures.create_trajectory_figure(sim).unpacked()
    focus = figures.create_trajectory_figure(sim, focus=True)
    spec = focus.unpacked()
    focus.validated()
    layout = spec["layout"]
    square = layout["meta"]["optivizSquare"]
    assert square["fit"] == "screen" and square["min"] >= 300 and square["side"] >= 440
    panels = _stacked_checks(layout, {}, square, rows=2, cols=3)
    assert [round(y[1], 6) for _, y in panels[0::2]] == [round(panels[0][1][1], 6)] * 3  # x: the first row
    assert [x for x, _ in panels[0::2]] == [x for x, _ in panels[1::2]]  # m, v, η in columns
    assert [x[0] for x, _ in panels[0::2]] == sorted(x[0] for x, _ in panels[0::2])
    # a phone in focus gets the narrow layout; a chart beside a lesson's text (~570 px) keeps three in a row
    assert layout["meta"]["optivizNarrow"]["below"] == _layouts.FOCUS_NARROW_BELOW < 570
    for before, after in zip(plain["layout"]["meta"]["optivizPlayback"]["runs"],
                             layout["meta"]["optivizPlayback"]["runs"], strict=True):
        for key, scale in (("line", figures.FOCUS_SCALE), ("trail", figures.FOCUS_SCALE)):
            assert spec["data"][after[key]]["line"]["width"] == pytest.approx(
                plain["data"][before[key]]["line"]["width"] * scale, rel=0.02)
        assert spec["data"][after["head"]]["marker"]["size"] == figures.FOCUS_HEAD_SIZE > figures.HEAD_SIZE
    assert "optivizSquare" not in plain["layout"]["meta"]


def test_runs_that_share_one_line_are_drawn_wider_under_narrower():
    """Booth's default runs all take one line: each colour shows as a stripe, the first run widest and drawn
    first, each later one narrower on top; every halo under every line."""
    sim = optiviz.simulate("booth", optiviz.default_runs("booth"), steps=1000)
    assert figures.shared_lines([run.path for run in sim.runs], sim.surface.domain) == [3, 2, 1, 0]
    spec = figures.create_trajectory_figure(sim).spec
    runs = spec["layout"]["meta"]["optivizPlayback"]["runs"]
    widths = [spec["data"][r["line"]]["line"]["width"] for r in runs]
    assert widths == sorted(widths, reverse=True) and widths[-1] == figures.PATH_WIDTH
    assert min(a - b for a, b in itertools.pairwise(widths)) >= 2 * 1.0  # a 1 px stripe each side
    assert [r["line"] for r in runs] == sorted(r["line"] for r in runs)  # later runs drawn on top
    assert max(r["halo"] for r in runs) < min(r["line"] for r in runs)
    for r, w in zip(runs, widths, strict=True):
        assert spec["data"][r["halo"]]["line"]["width"] == pytest.approx(w + 3)
    # paths apart keep the plain width; eight runs on one line stay within MAX_STACKED_WIDTH
    apart = [np.array([[-4.0, y], [4.0, y]]) for y in (-4.0, 4.0)]
    assert figures.shared_lines(apart, sim.surface.domain) == [0, 0]
    assert figures.path_widths([0, 0]) == [figures.PATH_WIDTH] * 2
    eight = figures.path_widths(list(range(7, -1, -1)))
    assert eight[0] == pytest.approx(figures.MAX_STACKED_WIDTH) and eight == sorted(eight, reverse=True)


def _luminance(color):
    channel = [int(color[k:k + 2], 16) / 255 for k in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channel]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


@pytest.mark.parametrize("optimizer", list(figures.OPTIMIZER_COLORS))
def test_a_second_run_of_an_optimizer_is_clearly_darker_and_dashed(optimizer):
    first, second, third = figures.run_colors([optimizer] * 3)
    ratio = (_luminance(first) + 0.05) / (_luminance(second) + 0.05)
    assert ratio >= 2.5, (first, second)  # told apart at a glance, also on a washed-out projector
    assert len({first, second, third}) == 3
    other = "adagrad" if optimizer != "adagrad" else "sgd"
    assert figures.run_dashes([optimizer, other, optimizer, optimizer, other]) == [
        "solid", "solid", "dash", "dot", "dash"]


def test_repeats_are_dashed_in_the_paths_the_loss_chart_and_the_legend():
    sim = optiviz.simulate("booth", [optiviz.RunSpec("adam", lr=0.2), optiviz.RunSpec("sgd", lr=0.01),
                                     optiviz.RunSpec("adam", lr=0.05)], steps=50)
    spec = figures.create_trajectory_figure(sim).spec
    paths = [spec["data"][r["line"]] for r in spec["layout"]["meta"]["optivizPlayback"]["runs"]]
    assert [p["line"]["dash"] for p in paths] == ["solid", "solid", "dash"]
    assert all(p.get("showlegend", True) for p in paths)  # the legend draws each entry with its line's pattern
    # thin and long in the legend, whatever the path's width: the pattern shows
    assert spec["layout"]["legend"]["itemsizing"] == "constant" and spec["layout"]["legend"]["itemwidth"] >= 40
    loss = figures.create_loss_figure(sim).spec
    lines = [t for t in loss["data"] if t["mode"] == "lines" and t["name"] != "current step"]
    assert [t["line"]["dash"] for t in lines] == ["solid"] * 4 + ["dash"] * 2  # both panels
    custom = figures.create_trajectory_figure(sim, dashes=["dot", "solid", "solid"]).spec
    assert custom["data"][custom["layout"]["meta"]["optivizPlayback"]["runs"][0]["line"]]["line"]["dash"] == "dot"
    with pytest.raises(ValueError, match="dashes: expected 3, got 1"):
        figures.create_trajectory_figure(sim, dashes=["dot"])


def test_narrow_screens_get_the_loss_panels_one_above_the_other(sim):
    layout = figures.create_loss_figure(sim).spec["layout"]
    stacked = _merged(layout, layout["meta"]["optivizNarrow"]["patch"])
    assert stacked["xaxis"]["domain"] == stacked["xaxis2"]["domain"] == [0.0, 1.0]
    assert stacked["yaxis2"]["domain"][1] < stacked["yaxis"]["domain"][0]
    assert [a["text"] for a in stacked["annotations"]] == [a["text"] for a in layout["annotations"]]
    assert stacked["annotations"][1]["y"] == pytest.approx(stacked["yaxis2"]["domain"][1])


def test_a_run_that_lands_exactly_on_the_minimum_is_marked_where_its_log_line_stops():
    # Himmelblau's defaults: three runs reach f* = 0 exactly in float64, which a log scale cannot show.
    sim = optiviz.simulate("himmelblau", optiviz.default_runs("himmelblau"), steps=1000)
    colors = figures.run_colors([run.spec.optimizer for run in sim.runs])
    spec = figures.create_loss_figure(sim, colors=colors).spec
    layout = spec["layout"]
    marks = [t for t in spec["data"] if t["name"].endswith(" exact")]
    expected = []
    for i, run in enumerate(sim.runs):
        gap = run.loss - sim.surface.min_value
        expected += [(i, "y", int(np.flatnonzero(gap <= 0)[0]))] if (gap <= 0).any() else []
        distance = run.distance_to(sim.surface.minima)
        expected += [(i, "y2", int(np.flatnonzero(distance == 0)[0]))] if (distance == 0).any() else []
    assert sum(axis == "y" for _, axis, _ in expected) == 3
    got = [(int(t["legendgroup"][3:]), t["yaxis"], t["x"][0]) for t in marks]
    assert got == expected
    for t, (i, axis, step) in zip(marks, expected, strict=True):
        name = "yaxis" if axis == "y" else "yaxis2"
        assert t["y"] == [pytest.approx(10.0 ** layout[name]["range"][0])]  # on the panel's floor
        assert t["marker"]["color"] == colors[i] and t["showlegend"] is False and t["cliponaxis"] is False
        assert f"step {step}:" in t["hovertemplate"]
        # the run's line has nothing to draw at that step (1,000 steps: every step is in the series)
        line = next(d for d in spec["data"] if d["legendgroup"] == f"run{i}" and d.get("yaxis", "y") == axis
                    and d["mode"] == "lines")
        assert "x" not in line and not _decoded(line["y"])[step] > 0  # NaN, or 0 (no place on a log axis)
    # Runs that never land exactly (Rosenbrock's defaults) get none.
    rosenbrock = optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"), steps=1000)
    assert not [t for t in figures.create_loss_figure(rosenbrock).spec["data"] if t["name"].endswith(" exact")]


def test_a_start_at_a_corner_is_drawn_whole(sim):
    # not cut to a quarter by the plot's edge; Plotly still hides it when a zoom leaves it outside
    start = next(t for t in figures.create_trajectory_figure(sim).spec["data"] if t["name"] == "start")
    assert start["cliponaxis"] is False


def test_repeated_labels_get_the_runs_own_numbers():
    assert figures.unique_labels(["A", "B", "A", "A"]) == ["A", "B", "A #2", "A #3"]  # by occurrence
    assert figures.unique_labels(["A", "B", "A"], numbers=[1, 3, 4]) == ["A", "B", "A #4"]


def test_log_levels_where_values_span_decades():
    assert figures.surface_grid(surfaces.get("rosenbrock")).log_scaled
    assert figures.surface_grid(surfaces.get("goldstein_price")).log_scaled
    assert not figures.surface_grid(surfaces.get("booth")).log_scaled
    assert not figures.surface_grid(surfaces.get("saddle")).log_scaled


def _pixels(data_uri):
    """The RGB pixels of a PNG as ``_surface_image`` writes it (one IDAT chunk, no row filters)."""
    import base64
    import struct
    import zlib

    png = base64.b64decode(data_uri.split(",", 1)[1])
    width, height = struct.unpack(">II", png[16:24])
    at, data = 8, b""
    while at < len(png):
        (length,), tag = struct.unpack(">I", png[at:at + 4]), png[at + 4:at + 8]
        data += png[at + 8:at + 8 + length] if tag == b"IDAT" else b""
        at += 12 + length
    rows = np.frombuffer(zlib.decompress(data), np.uint8).reshape(height, 3 * width + 1)
    assert not rows[:, 0].any()  # no filters
    return rows[:, 1:].reshape(height, width, 3).astype(float)


@pytest.mark.parametrize("name", ["levi", "rastrigin"])
def test_ripples_finer_than_a_pixel_are_drawn_as_their_average_not_as_moire(name):
    # Lévi has 60 ripples across its domain, 6 pixels each: sampled once per pixel, they alias into bands that
    # are not on the surface. Compared over 8 x 8 pixel blocks (what the eye averages) with a rendering of 6 x 6
    # samples a pixel, the image must be at least twice as close as a one-sample-a-pixel rendering.
    surf = surfaces.get(name)

    def blocks(img):
        n = img.shape[0] // 8 * 8
        return img[:n, :n].reshape(n // 8, 8, n // 8, 8, 3).mean(axis=(1, 3))

    reference = blocks(_pixels(figures.surface_grid(surf, supersample=6).png))
    error = {ss: np.abs(blocks(_pixels(figures.surface_grid(surf, supersample=ss).png)) - reference).mean()
             for ss in (1, 2)}
    assert error[2] < 0.5 * error[1]
    drawn = _pixels(figures.surface_grid(surf).png)  # what the app sends
    assert drawn.shape == (361, 361, 3) and np.abs(blocks(drawn) - reference).mean() == error[2]


def test_labels_must_match_runs(sim):
    with pytest.raises(ValueError, match="labels"):
        figures.create_trajectory_figure(sim, labels=["only one"])


def test_spec_round_trips_through_json(sim):
    fig = figures.create_trajectory_figure(sim)
    assert json.loads(pio.to_json(fig, validate=False))["layout"]["meta"] == fig.spec["layout"]["meta"]


def _decoded(values):
    if _codec.is_packed(values):
        return _codec.unpack(values)
    if isinstance(values, dict):  # plotly's base64 typed array
        import base64
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"])).astype(float)
    return np.asarray(values, dtype=float)


@pytest.mark.parametrize("make", ["trajectory", "loss"])
@pytest.mark.parametrize("name", ["rosenbrock", "beale", "quadratic", "noisy_saddle"])
def test_every_axis_has_a_fixed_range_holding_its_data(name, make):
    """The app updates charts in place without autoranging, so every axis needs a fixed range, and the
    range must hold the data drawn on it. Two exceptions by design: the contour panel shows the surface's
    domain (a path may leave it), and the first-moment panels show the 1st to 99th percentile (transients
    clipped)."""
    surface = surfaces.get(name)
    sim = optiviz.simulate(surface, optiviz.default_runs(surface), start=surface.start, steps=300,
                           noise=surface.noise)
    fig = figures.create_trajectory_figure(sim) if make == "trajectory" else figures.create_loss_figure(sim)
    spec = json.loads(pio.to_json(fig, validate=False))
    axes = {k: v for k, v in spec["layout"].items() if k.startswith(("xaxis", "yaxis"))}
    assert axes and all(ax.get("autorange") is False and len(ax["range"]) == 2 for ax in axes.values()), axes
    for trace in spec["data"]:
        ref = (trace.get("yaxis") or "y")[1:]
        ax = axes["yaxis" + ref]
        if "y" not in trace or trace.get("name") == "current step" or (make == "trajectory" and ref in ("", "2", "3")):
            continue
        y = _decoded(trace["y"])
        y = y[np.isfinite(y)]
        if ax.get("type") == "log":
            y = np.log10(y[y > 0])
        if y.size:
            lo, hi = ax["range"]
            assert lo <= y.min() and y.max() <= hi, (trace["name"], ax["range"], y.min(), y.max())


def test_ranges_end_on_round_numbers():
    ax = {}
    assert figures._fix_range(ax, 0.0, 1.0, log=False) == (-0.2, pytest.approx(1.2))
    assert figures._fix_range(ax, -1234.0, 5.0, log=False) == (-1400.0, 200.0)
    figures._fix_range(ax, 1e-5, 3.2, log=True)
    assert ax["type"] == "log" and ax["range"] == [-5.25, 0.75]
    assert figures._nice_step(0.3) == 0.5 and figures._nice_step(2.1) == 2.5 and figures._nice_step(7) == 10


@pytest.mark.parametrize("width", [1100, 700])  # the wide grid, and the narrow one (below 760 px)
def test_the_contour_is_the_largest_panel_at_every_width(sim, width):
    """The contour's square (its shorter side squared: the axes keep equal scales) against each moment panel's
    rectangle, in pixels, in the grid the chart draws at ``width``."""
    spec = figures.create_trajectory_figure(sim).spec
    layout = copy.deepcopy(spec["layout"])
    if width < _layouts.NARROW_BELOW:
        layout = _merged(layout, layout["meta"]["optivizNarrow"]["patch"])
    plot_w = width - layout["margin"]["l"] - layout["margin"]["r"]
    plot_h = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
    def size(axis):
        x, y = layout[f"xaxis{axis}"]["domain"], layout[f"yaxis{axis}"]["domain"]
        return (x[1] - x[0]) * plot_w, (y[1] - y[0]) * plot_h

    contour = min(size(""))
    panels = [size(k) for k in range(2, 8)]
    assert all(contour**2 > w * h for w, h in panels), (contour, panels)
    assert contour > max(max(w, h) for w, h in panels)


def test_paths_are_drawn_bold_on_a_white_halo_with_the_same_points(sim):
    spec = figures.create_trajectory_figure(sim).unpacked()
    playback = spec["layout"]["meta"]["optivizPlayback"]
    for run in playback["runs"]:
        line, halo = spec["data"][run["line"]], spec["data"][run["halo"]]
        assert line["line"]["width"] >= 2.5 and line["opacity"] >= 0.9
        assert halo["line"]["color"] == "white" and halo["line"]["width"] > line["line"]["width"]
        assert halo["x"] == line["x"] and halo["y"] == line["y"] and run["halo"] < run["line"]  # drawn under
        assert halo["legendgroup"] == line["legendgroup"] and halo["showlegend"] is False


def test_the_legend_is_clear_of_plotlys_toolbar(sim):
    """Plotly's toolbar sits over the top 30 px of a chart (on hover; always on touch): the legend goes under
    the plots, in a bottom margin of its own (wide), or under the contour (narrow, focus: the stacked layouts,
    see _stacked_checks), hundreds of pixels under the toolbar."""
    for fig in (figures.create_trajectory_figure(sim), figures.create_trajectory_figure(sim, moments=False)):
        legend, margin = fig.spec["layout"]["legend"], fig.spec["layout"]["margin"]
        assert legend["yref"] == "container" and legend["y"] == 0 and legend["yanchor"] == "bottom"
        assert margin["b"] >= 100
        narrow = fig.spec["layout"]["meta"]["optivizNarrow"]
        stacked = _merged(fig.spec["layout"], narrow["patch"])
        plot = stacked["height"] - stacked["margin"]["t"] - stacked["margin"]["b"]
        assert (1 - stacked["legend"]["y"]) * plot > narrow["square"]["side"] > 250


def test_the_contour_palette_is_light_so_the_paths_stand_out():
    from optiviz._surface_image import CONTOUR_SCALE

    lightness = [sum(int(c[k:k + 2], 16) for k in (1, 3, 5)) / 3 for _, c in CONTOUR_SCALE]
    assert min(lightness) > 200  # the darkest level is still light: every run's colour is dark against it


def test_the_contour_sits_at_the_top_of_its_column_by_the_play_controls(sim):
    """The square contour is narrower than its column is tall: it is drawn at the top, right under the play
    controls, not centred with a blank band above it (at 1280 x 720 that band pushed it off the first screen)."""
    layout = figures.create_trajectory_figure(sim).spec["layout"]
    assert layout["yaxis"]["constrain"] == "domain" and layout["yaxis"]["constraintoward"] == "top"


def test_without_bias_correction_the_moment_panels_draw_no_hat_lines():
    """m̂ = m and v̂ = v there: the dotted bias-corrected lines would hide under the solid ones."""
    sim = optiviz.simulate("booth", [optiviz.RunSpec("adam", lr=0.1),
                                     optiviz.RunSpec("adam", lr=0.1, bias_correction=False)], steps=20)
    corrected, plain = (figures.moment_series(run) for run in sim.runs)
    assert [name for name, _, _ in corrected[0] + corrected[1]] == [
        "m_t (exp_avg)", "m̂_t (bias-corrected)", "v_t (exp_avg_sq)", "v̂_t (bias-corrected)"]
    assert [name for name, _, _ in plain[0] + plain[1]] == ["m_t (exp_avg)", "v_t (exp_avg_sq)"]


# ----------------------------------------------------------------------------------- moment panels a class reads

def _annotations(fig, name=None):
    anns = fig.spec["layout"]["annotations"][6:]  # after the six panel titles
    return [a for a in anns if name is None or a.get("name") == name]


def _notes(fig):
    """Each panel note's text without its colour spans, by the panel's x axis ("x2" ... "x7")."""
    import re

    return {a["xref"].split()[0]: re.sub(r"<[^>]+>", " ", a["text"]).replace("  ", " ")
            for a in _annotations(fig, "panel note")}


def _key(fig) -> list[str]:
    (key,) = _annotations(fig, "moment key")
    return key["text"].split("<br>")


@pytest.mark.parametrize(("runs", "surface", "lines"), [
    (None, "rosenbrock", ["——", "····· m̂_t, v̂_t (bias-corrected); g_t where no m_t"]),
    (None, "rastrigin", ["——", "····· m̂_t, v̂_t (bias-corrected); g_t where no m_t", "▒ oscillating"]),
    ([optiviz.RunSpec("sgd", lr=1e-3)], "rosenbrock", ["——", "····· g_t where no m_t"]),
    ([optiviz.RunSpec("adam", lr=0.05, amsgrad=True), optiviz.RunSpec("rmsprop", lr=0.005, centered=True)],
     "rosenbrock", ["——", "····· m̂_t, v̂_t (bias-corrected)", "– – – AMSGrad's max; grad_avg (centered)"]),
    ([optiviz.RunSpec("sgd", lr=1e-3, momentum=0.9)], "rosenbrock", ["——"]),
])
def test_the_moment_key_names_the_line_styles_drawn_right_above_the_panels(runs, surface, lines):
    sim = optiviz.simulate(surface, runs or optiviz.default_runs(surface), steps=300)
    fig = figures.create_trajectory_figure(sim)
    key = _key(fig)
    assert len(key) == len(lines) and all(k.startswith(want) for k, want in zip(key, lines, strict=True)), key
    styles = {t["line"]["dash"] for t in fig.spec["data"] if t.get("yaxis") in {f"y{k}" for k in range(2, 8)}
              and t.get("name") != "current step" and t["mode"] == "lines" and not t["name"].endswith(" range")}
    named = {"solid"} | {s for s, mark in (("dot", "·····"), ("dash", "– – –")) if any(mark in k for k in key)}
    assert styles == named
    (ann,) = _annotations(fig, "moment key")
    # on the first panel's own domain, above its title: it follows the panel into the narrow layout
    assert (ann["xref"], ann["yref"], ann["x"], ann["y"], ann["yanchor"]) == ("x2 domain", "y2 domain", 0, 1,
                                                                              "bottom")
    assert ann["yshift"] >= 15  # clear of the panel's title


def test_there_is_room_for_the_key_above_the_panels_in_both_layouts(sim):
    """Three lines of the key (13 px each) over the panel's title (17 px): under Plotly's toolbar band in the wide
    layout, and between the contour's x axis (45 px of ticks and title) and the panels in the narrow one, even
    where the contour fills its row (700 px wide)."""
    layout = figures.create_trajectory_figure(sim).spec["layout"]
    plot_h = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
    assert (1 - layout["yaxis2"]["domain"][1]) * plot_h >= 17 + 3 * 13
    stacked = _merged(layout, layout["meta"]["optivizNarrow"]["patch"])
    narrow_h = stacked["height"] - layout["margin"]["t"] - layout["margin"]["b"]
    assert (stacked["yaxis"]["domain"][0] - stacked["yaxis2"]["domain"][1]) * narrow_h >= 45 + 17 + 3 * 13


@pytest.mark.parametrize(("runs", "no_v", "no_m"), [
    (None, "SGD keeps no v_t", "RMSProp , AdaGrad and SGD keep no m_t"),
    ([optiviz.RunSpec("adam", lr=0.05), optiviz.RunSpec("rmsprop", lr=0.005)], None, "RMSProp keeps no m_t"),
    ([optiviz.RunSpec("adam", lr=0.05), optiviz.RunSpec("sgd", lr=1e-3, momentum=0.9)], "SGD keeps no v_t", None),
    ([optiviz.RunSpec("adam", lr=0.05)], None, None),
])
def test_a_note_in_the_panels_says_which_runs_keep_no_such_state(runs, no_v, no_m):
    """"SGD keeps no v_t" in both second-moment panels iff a run keeps none; the runs that keep no first moment
    named in the x panel, with "dotted line is g_t"; each name in its run's colour."""
    sim = optiviz.simulate("rosenbrock", runs or optiviz.default_runs("rosenbrock"), steps=300)
    colors = figures.run_colors([run.spec.optimizer for run in sim.runs])
    fig = figures.create_trajectory_figure(sim, colors=colors)
    notes = _notes(fig)
    for axis in ("x4", "x5"):
        assert (no_v in notes.get(axis, "")) if no_v else ("keep" not in notes.get(axis, ""))
    if no_m:
        assert " ".join(no_m.split()) in " ".join(notes["x2"].split()) and "dotted line" in notes["x2"]
    else:
        assert "x2" not in notes
    assert "x3" not in notes  # said once, in the x panel
    raw = {a["xref"]: a["text"] for a in _annotations(fig, "panel note")}
    for i, run in enumerate(sim.runs):
        if run.spec.optimizer == "sgd" and no_v:
            assert f'<span style="color:{colors[i]}">SGD</span>' in raw["x4 domain"]


def test_notes_fit_inside_their_panel():
    """At most NOTE_CHARS characters a line (a panel is ~130 px wide at its narrowest), in the corner of the panel
    that the runs' lines leave most free."""
    import re

    for surface, start in (("rosenbrock", None), ("rosenbrock", (1.0, 1.0)), ("rastrigin", None)):
        sim = optiviz.simulate(surface, optiviz.default_runs(surface), steps=300, start=start)
        for ann in _annotations(figures.create_trajectory_figure(sim), "panel note"):
            assert all(len(re.sub(r"<[^>]+>", "", line)) <= figures.NOTE_CHARS for line in ann["text"].split("<br>"))
            assert ann["xanchor"] == {0.0: "left", 1.0: "right"}[ann["x"]]
    # the quietest corner: points crowding the top right send a note to the bottom right
    u = np.linspace(0.5, 1, 50)
    assert figures._quiet_corner([(u, np.full(50, 0.9))], (0.5, 0.3)) == (1.0, 0.0, "right", "bottom")
    assert figures._quiet_corner([(u, np.full(50, 0.1))], (0.5, 0.3)) == (1.0, 1.0, "right", "top")


def test_values_beyond_a_first_moment_panel_are_marked_at_exactly_those_steps(sim):
    """The first-moment panels span the 1st to 99th percentile: at each step where a series is above (below) the
    panel, a ▲ (▼) in its run's colour just inside the top (bottom) edge, whose hover gives the value."""
    spec = figures.create_trajectory_figure(sim).spec
    layout, data = spec["layout"], spec["data"]
    checked = 0
    for trace in data:
        if trace.get("yaxis") not in ("y2", "y3") or trace["mode"] != "lines" or trace["name"] == "current step" \
                or trace["name"].endswith((" range", " mean")):
            continue
        values = _decoded(trace["y"])
        assert "x" not in trace  # 1,000 steps: every step is in the series
        lo, hi = layout["yaxis" + trace["yaxis"][1:]]["range"]
        steps = np.arange(1, values.size + 1)
        (mark,) = [t for t in data if t["name"] == f"{trace['name']} beyond the edge" and t["yaxis"] == trace["yaxis"]]
        outside = (values > hi) | (values < lo)
        assert mark["x"] == steps[outside].tolist()  # none where none is beyond (the trace stays, empty)
        assert mark["text"] == np.where(values[outside] > hi, "▲", "▼").tolist()
        y = np.asarray(mark["y"])
        assert np.all((y > lo) & (y < hi)) and np.all((y > (lo + hi) / 2) == (values[outside] > hi))
        np.testing.assert_allclose(mark["customdata"], values[outside], rtol=5e-6)  # 6 digits, shown as 4
        assert mark["textfont"]["color"] == trace["line"]["color"] and "customdata" in mark["hovertemplate"]
        checked += bool(outside.any())
    assert checked >= 4  # Rosenbrock's first steps send several series off the panels


def test_an_oscillating_first_moment_is_drawn_as_a_band_with_its_mean():
    """On Rastrigin RMSProp's g_t flips sign at every step: a band (its range over each bucket of steps, filled
    in its colour) and a dotted line for its mean there; the exact series stays, unseen, for the hover. Adam's
    m_t, which does not oscillate, stays a line; Rosenbrock's defaults have no band."""
    sim = optiviz.simulate("rastrigin", optiviz.default_runs("rastrigin"), steps=1000)
    colors = figures.run_colors([run.spec.optimizer for run in sim.runs])
    data = figures.create_trajectory_figure(sim, colors=colors).spec["data"]
    rmsprop = sim.runs[1]
    for j, axis in enumerate(("y2", "y3")):
        band = next(t for t in data if t["name"] == "RMSProp g_t (gradient; no first moment kept) range"
                    and t["yaxis"] == axis)
        mean = next(t for t in data if t["name"] == "RMSProp g_t (gradient; no first moment kept) mean"
                    and t["yaxis"] == axis)
        exact = next(t for t in data if t["name"] == "RMSProp g_t (gradient; no first moment kept)"
                     and t["yaxis"] == axis)
        assert band["fill"] == "toself" and band["fillcolor"].startswith("rgba(220, 38, 38, ")
        assert mean["line"]["dash"] == "dot" and mean["line"]["color"] == colors[1]
        g = rmsprop.grad[:, j]
        k = 10  # 1,000 steps in buckets of 10
        x, hi = _decoded(band["x"]), _decoded(band["y"])
        m = len(x) // 2
        np.testing.assert_allclose(hi[:m], g.reshape(-1, k).max(axis=1), rtol=1e-6)
        np.testing.assert_allclose(hi[m:][::-1], g.reshape(-1, k).min(axis=1), rtol=1e-6)
        np.testing.assert_allclose(_decoded(mean["y"]), g.reshape(-1, k).mean(axis=1), rtol=1e-5, atol=1e-5)
        assert exact["line"]["color"] == "rgba(0, 0, 0, 0)" and exact["hoverlabel"]["bgcolor"] == colors[1]
        np.testing.assert_allclose(_decoded(exact["y"]), g, rtol=1e-3, atol=1e-9)  # every step, for the hover
    names = [t["name"] for t in data]
    assert "Adam m_t (exp_avg)" in names and not any(n.startswith("Adam") and n.endswith(" range")
                                                                for n in names)
    defaults = figures.create_trajectory_figure(optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"),
                                                                 steps=1000)).spec["data"]
    assert not any(t["name"].endswith(" range") for t in defaults)


def test_a_huge_effective_step_is_explained_in_its_panel():
    """A start on the minimum: v = 0 at every step, ε alone is the denominator, η_t = η/ε; the effective-step
    panels say so with each run's η/ε. At the defaults they say nothing. Per coordinate: on the quadratic from
    (0, 1) the gradient's x is 0 at every step, so only the x panel has the note."""
    sim = optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"), start=(1.0, 1.0), steps=300)
    notes = _notes(figures.create_trajectory_figure(sim))
    for axis in ("x6", "x7"):
        text = " ".join(notes[axis].split())
        assert text.startswith("v = 0 at every step, so η_t ≈ η/ε:")
        assert "Adam 5·10⁶" in text and "RMSProp 5·10⁵" in text and "AdaGrad 10¹⁰" in text and "SGD" not in text
    defaults = optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"), steps=300)
    notes = _notes(figures.create_trajectory_figure(defaults))
    assert "x6" not in notes and "x7" not in notes
    axis_x = optiviz.simulate("quadratic", [optiviz.RunSpec("adam", lr=0.05, eps_inside_sqrt=True)],
                              start=(0.0, 1.0), steps=100)
    notes = _notes(figures.create_trajectory_figure(axis_x))
    assert " ".join(notes["x6"].split()) == "v = 0 at every step, so η_t ≈ η/√ε: Adam 500" and "x7" not in notes


def test_eps_dominated_is_where_the_root_of_v_is_under_eps():
    sim = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adam", lr=0.05), optiviz.RunSpec("sgd", lr=1e-3),
                                          optiviz.RunSpec("adagrad", lr=1.0, eps_inside_sqrt=True)],
                           start=(1.0, 1.0), steps=20)
    adam, sgd, adagrad = sim.runs
    assert adam.eps_dominated.all() and not sgd.eps_dominated.any() and adagrad.eps_dominated.all()
    moved = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adam", lr=0.05)], steps=20).runs[0]
    v_hat = moved.bias_corrected["v_hat"]
    np.testing.assert_array_equal(moved.eps_dominated, np.sqrt(v_hat) < 1e-8)
    assert not moved.eps_dominated.any()


# ----------------------------------------------------------------------------------- arrows that carry magnitude

@pytest.mark.parametrize("surface", ["rosenbrock", "booth", "rastrigin"])
def test_arrows_are_the_steps_at_one_stated_power_of_ten_scale(surface):
    """One scale per figure, stated in the arrow key: the largest power of ten (at least 1) at which the typical
    run's typical step (half its path's length is in steps at least that long) is no longer than the cap. The
    update arrow's length is each step's length, −η·∇f's and −η·m's the steps they give (plain SGD's −η·∇f is its
    update)."""
    sim = optiviz.simulate(surface, [*optiviz.default_runs(surface), optiviz.RunSpec("sgd", lr=1e-3, momentum=0.9)],
                           steps=500)
    fig = figures.create_trajectory_figure(sim, arrows=True)
    playback = fig.spec["layout"]["meta"]["optivizPlayback"]
    scale, cap = playback["arrows"]["scale"], playback["arrows"]["cap"]
    (x0, x1), (y0, y1) = sim.surface.domain
    span = max(x1 - x0, y1 - y0)
    assert cap == pytest.approx(figures.ARROW_CAP * span) and playback["arrows"]["box"] == [x0, x1, y0, y1]

    def typical(run):
        steps = np.sort(np.hypot(*run.update.T))
        steps = steps[steps > 0]
        return steps[np.cumsum(steps) >= steps.sum() / 2][0]  # half the path in steps at least this long

    step = np.median([typical(run) for run in sim.runs])
    assert scale >= 1 and np.log10(scale) == round(np.log10(scale))
    assert step * scale <= cap and (scale == 1 or step * scale * 10 > cap)
    assert scale == {"rosenbrock": 100, "booth": 1, "rastrigin": 10}[surface]
    (key,) = _annotations(fig, "arrow key")
    assert key["text"].startswith(f"arrows ×{optiviz.diagnosis.fmt_value(scale)}, one scale:" if scale != 1
                                  else "arrows at true length:")
    assert key["xref"] == "x domain" and key["yref"] == "y domain"
    columns = _codec.decode(playback["vectors"])
    top = 10 * cap / scale
    for i, run in enumerate(sim.runs):
        lr = run.spec.lr
        momentum = run.first_moment
        expected = [run.update, None if momentum is None else -lr * momentum, -lr * run.grad]
        for k, vectors in enumerate(expected):
            length = columns[6 * i + 2 * k + 1]
            if vectors is None:
                assert length.size == 0
                continue
            norm = np.hypot(*vectors.T)
            drawn = norm > 1e-6 * cap / scale  # shorter ones are kept as that, far under a pixel
            np.testing.assert_allclose(10 ** length[drawn], np.minimum(norm, top)[drawn], rtol=0.01)
    plain_sgd = next(i for i, r in enumerate(sim.runs) if r.spec.optimizer == "sgd" and not r.spec.hyper["momentum"])
    moved = np.hypot(*sim.runs[plain_sgd].update.T) > 0  # (a step too small to change x in float64 is 0)
    np.testing.assert_array_equal(columns[6 * plain_sgd + 1][moved], columns[6 * plain_sgd + 5][moved])  # −η·∇f


def test_the_arrow_key_says_when_an_arrow_is_cut():
    """A double head marks an arrow cut short (longer than ARROW_CAP of the plot, or leaving it): the key says so
    only where one is."""
    big = optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"), steps=200)  # Adam's −η·∇f: ~8 units
    assert "double head" in _annotations(figures.create_trajectory_figure(big, arrows=True), "arrow key")[0]["text"]
    small = optiviz.simulate("quadratic", [optiviz.RunSpec("sgd", lr=0.01)], steps=50)
    fig = figures.create_trajectory_figure(small, arrows=True)
    assert "double head" not in _annotations(fig, "arrow key")[0]["text"]
    assert "−η·m" not in _annotations(fig, "arrow key")[0]["text"]  # no run has a momentum


def test_the_arrows_are_told_apart_by_line_and_head():
    sim = optiviz.simulate("booth", [optiviz.RunSpec("sgd", lr=0.01, momentum=0.5)], steps=20)
    data = figures.create_trajectory_figure(sim, arrows=True, labels=["S"]).spec["data"]
    arrows = {t["name"][2:]: t for t in data if t["name"] in {f"S {k}" for k in figures.ARROW_KINDS}}
    assert list(arrows) == list(figures.ARROW_KINDS)  # drawn in this order: the update, widest, under the others
    assert len({a["line"]["dash"] for a in arrows.values()}) == 3
    assert len({a["marker"]["symbol"][2] for a in arrows.values()}) == 3
    assert arrows["update"]["line"]["width"] > max(arrows[k]["line"]["width"] for k in ("−momentum", "−∇f"))


def test_a_note_names_a_run_by_its_label_where_its_optimizers_name_would_not_tell():
    """Two SGDs, one with momentum: the one without is "SGD (lr 0.15)" in the m_t note; both keep no v_t, so
    that note says "SGD". In the effective-step note each run has its own number, so each its own name."""
    runs = [optiviz.RunSpec("sgd", lr=0.15), optiviz.RunSpec("sgd", lr=0.015, momentum=0.9),
            optiviz.RunSpec("adam", lr=0.1), optiviz.RunSpec("adam", lr=0.01)]
    sim = optiviz.simulate("quadratic", runs, start=(0.0, 1.0), steps=100)
    labels = ["SGD (lr 0.15)", "SGD (lr 0.015, μ 0.9)", "Adam (lr 0.1)", "Adam (lr 0.01)"]
    notes = {k: " ".join(v.split()) for k, v in _notes(figures.create_trajectory_figure(sim, labels=labels)).items()}
    assert notes["x2"].startswith("SGD (lr 0.15) keeps no m_t") and notes["x5"] == "SGD keeps no v_t"
    assert notes["x6"] == "v = 0 at every step, so η_t ≈ η/ε: Adam (lr 0.1) 10⁷, Adam (lr 0.01) 10⁶"


@pytest.mark.parametrize("focus", [False, True], ids=["narrow", "focus"])
def test_in_the_stacks_the_moment_key_sits_above_the_lifted_panel_titles(sim, focus):
    # the stacks lift each title clear of its panel's top tick label; the key must clear the title in turn,
    # inside the band kept for it (a title is one 11 px line)
    layout = figures.create_trajectory_figure(sim, focus=focus).spec["layout"]
    stacked = layout if focus else _merged(layout, layout["meta"]["optivizNarrow"]["patch"])
    titles = stacked["annotations"][:6]
    key = next(a for a in stacked["annotations"] if a.get("name") == "moment key")
    lift = max(t["yshift"] for t in titles)
    assert key["yanchor"] == "bottom" and key["yshift"] >= lift + 14
    assert key["yshift"] + 3 * 14 <= _layouts.STACK_KEY_PX + 30


@pytest.mark.parametrize("color", figures.PALETTE)
def test_every_palette_colour_leaves_room_for_a_darker_repeat(color):
    """The colours an optimizer added later will get: each one's darker shade stands apart as the first five's do."""
    darker = figures._mix(color, figures._SHADES[1])
    assert (_luminance(color) + 0.05) / (_luminance(darker) + 0.05) >= 2.5, (color, darker)


def test_the_moment_key_names_the_dotted_and_dashed_series_of_any_optimizer():
    """RAdam's dashed r_t and NAdam's dotted blend are in the key by their own names, next to Adam's."""
    sim = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adam", lr=0.01, amsgrad=True),
                                          optiviz.RunSpec("radam", lr=0.01), optiviz.RunSpec("nadam", lr=0.01)],
                           steps=60)
    key = next(a["text"] for a in figures.create_trajectory_figure(sim).spec["layout"]["annotations"]
               if a.get("name") == "moment key")
    dashed = {n.split(" (")[0] for run in sim.runs for series in figures.moment_series(run)[:2]
              for n, _, d in series if d == "dash" and not n.startswith("max_exp")}
    dotted = {n.split(" (")[0] for run in sim.runs for series in figures.moment_series(run)[:2]
              for n, _, d in series if d == "dot" and not n.startswith(("m̂", "v̂"))}
    assert dashed and dotted, (dashed, dotted)
    for name in dashed | dotted | {"AMSGrad's max", "bias-corrected"}:
        assert name in key, (name, key)
