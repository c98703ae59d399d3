"""The minimal page's chart, shared with the control page so that both draw exactly the same figure."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st


def sine_chart(frequency: int) -> None:
    """One small Plotly line, sin(2π·frequency·x) at 200 points, drawn by ``st.plotly_chart``."""
    x = np.linspace(0.0, 1.0, 200)
    figure = go.Figure(go.Scatter(x=x, y=np.sin(2.0 * np.pi * frequency * x), mode="lines", name="sin"))
    figure.update_layout(height=360, margin={"l": 40, "r": 20, "t": 30, "b": 40}, title=f"sin(2π·{frequency}·x)")
    st.plotly_chart(figure, width="stretch")
