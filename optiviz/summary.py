"""The summary table of a simulation: plain rows, no Streamlit, no Plotly."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from ._engine import Simulation

_MARKDOWN_SPECIAL = re.compile(r"[\\`*_{}\[\]<>#+!|$~]")


def summarize(sim: Simulation, labels: Sequence[str], tol: float = 1e-2) -> list[dict]:
    """One row per run: final and best loss, the first step within ``tol`` (Euclidean distance) of a
    global minimum (on a surface that has one), and where the run stopped early (the step, and why)."""
    surface = sim.surface
    rows = []
    for label, run in zip(labels, sim.runs, strict=True):
        row = {"run": label, "final loss": float(run.loss[-1]), "best loss": float(run.loss.min()),
               "best at step": int(run.loss.argmin())}
        if surface.minima:
            within = np.flatnonzero(run.distance_to(surface.minima) <= tol)
            row[f"steps to within {tol:g} of a minimum"] = int(within[0]) if within.size else None
        row["final position"] = f"({run.path[-1, 0]:.4g}, {run.path[-1, 1]:.4g})"
        row["stopped early"] = "—" if run.diverged_at is None else f"step {run.diverged_at} ({run.stop_reason})"
        rows.append(row)
    return rows


def display_rows(rows: Sequence[dict]) -> list[dict]:
    """The rows as the page shows them (``st.table``, whose cells are Markdown): every cell text (a column
    of numbers and "—" makes Streamlit's Arrow conversion fail, log a traceback and retry on every rerun),
    losses in scientific notation with a real minus sign (the browser breaks lines at "e-", leaving "03" on
    a line of its own; it keeps "e−03" together), "—" for none, and Markdown's special characters escaped so
    labels show as typed."""
    def cell(value):
        if value is None:
            return "—"
        if isinstance(value, float):
            return f"{value:.4e}".replace("-", "\u2212") if math.isfinite(value) else str(value)
        if isinstance(value, str):
            return markdown_text(value)
        return str(value)

    return [{name: cell(value) for name, value in row.items()} for row in rows]


def markdown_text(text: str) -> str:
    """``text`` with Markdown's special characters escaped, so that Streamlit shows it as typed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\g<0>", text)


def summary_cards(rows: Sequence[dict]) -> str:
    """The summary as Markdown for a narrow screen: one short paragraph per run, its name in bold, then each
    column's name and value (``rows``: :func:`display_rows`' cells, already Markdown)."""
    cards = []
    for row in rows:
        items = list(row.items())
        name = items[0][1]
        cards.append(f"**{name}**  \n" + " · ".join(f"{key}: {value}" for key, value in items[1:]))
    return "\n\n".join(cards)
