"""Pure ``data -> figure`` builders: no queries, no callbacks, no global state."""
from __future__ import annotations

import html
from typing import Iterable, Sequence

import plotly.graph_objects as go

from .timerange import local_label

COLORS = {
    "blue": "#2563eb", "orange": "#ea580c", "green": "#16a34a", "red": "#dc2626", "purple": "#7c3aed",
    "teal": "#0d9488", "amber": "#d97706", "slate": "#475569", "pink": "#db2777", "cyan": "#0891b2",
}
PALETTE = list(COLORS.values())
BAND_COLORS = {"good": COLORS["green"], "fair": COLORS["amber"], "poor": COLORS["red"]}
NO_DATA = "No data in this range"


def plain(values) -> list:
    """Labels from event data (ids, names, regions) as text: Plotly would render <b>, <a>, <br> in them."""
    return [html.escape(v, quote=False) if isinstance(v, str) else v for v in values]


def base_layout(uirevision: str, **extra) -> dict:
    layout = dict(
        template="plotly_white",
        uirevision=uirevision,
        margin=dict(l=56, r=24, t=16, b=44),
        font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=13, color="#1f2937"),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        hovermode="x unified",
        colorway=PALETTE,
        autosize=True,
        # a vertical tool bar at the right keeps clear of the legend row above the plot
        modebar=dict(orientation="v", bgcolor="rgba(255,255,255,0.7)"),
    )
    layout.update(extra)
    return layout


def empty_figure(uirevision: str = "", text: str = NO_DATA) -> go.Figure:
    """A figure that says there is nothing to show, instead of an empty axis."""
    fig = go.Figure()
    fig.update_layout(**base_layout(uirevision, hovermode=False))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.add_annotation(text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=16, color="#6b7280"))
    return fig


def _has_values(rows: Sequence[dict], keys: Iterable[str]) -> bool:
    return any(r.get(k) not in (None, 0) for r in rows for k in keys)


def time_series(rows: Sequence[dict], tz: str, series: Sequence[tuple], uirevision: str,
                y_title: str = "", y2_title: str = "", kind: str = "line") -> go.Figure:
    """Lines (or bars) over bucket starts; ``series`` items are (key, label[, "y2"]) - y2 on the right."""
    keys = [s[0] for s in series]
    if not rows or not _has_values(rows, keys):
        return empty_figure(uirevision)
    x = [local_label(r["t"], tz) for r in rows]
    fig = go.Figure()
    for i, spec in enumerate(series):
        key, label = spec[0], spec[1]
        right = len(spec) > 2 and spec[2] == "y2"
        y = [r.get(key) for r in rows]
        color = PALETTE[i % len(PALETTE)]
        if kind == "bar" and not right:
            fig.add_trace(go.Bar(x=x, y=y, name=label, marker_color=color))
        else:
            fig.add_trace(go.Scatter(x=x, y=y, name=label, mode="lines+markers" if len(x) <= 60 else "lines",
                                     line=dict(color=color, width=2, dash="dot" if right else "solid"),
                                     yaxis="y2" if right else "y", connectgaps=False))
    extra = {"xaxis": dict(title=f"time ({tz})", type="date"), "yaxis": dict(title=y_title, rangemode="tozero")}
    if any(len(s) > 2 and s[2] == "y2" for s in series):
        extra["yaxis2"] = dict(title=y2_title, overlaying="y", side="right", rangemode="tozero", showgrid=False)
        extra["margin"] = dict(l=56, r=64, t=16, b=44)
    if kind == "bar":
        extra["barmode"] = "group"
    fig.update_layout(**base_layout(uirevision, **extra))
    return fig


def bars(categories: Sequence, values: Sequence, uirevision: str, x_title: str = "", y_title: str = "",
         color: str = COLORS["blue"], horizontal: bool = False, colors: Sequence[str] | None = None) -> go.Figure:
    if not categories or not any(v for v in values):
        return empty_figure(uirevision)
    marker = dict(color=list(colors) if colors else color)
    if horizontal:
        trace = go.Bar(y=plain(categories), x=list(values), orientation="h", marker=marker)
        axes = {"xaxis": dict(title=y_title), "yaxis": dict(title=x_title, autorange="reversed", type="category")}
    else:
        trace = go.Bar(x=plain(categories), y=list(values), marker=marker)
        axes = {"xaxis": dict(title=x_title, type="category"), "yaxis": dict(title=y_title)}
    fig = go.Figure(trace)
    fig.update_layout(**base_layout(uirevision, hovermode="closest", showlegend=False, **axes))
    return fig


def grouped_bars(categories: Sequence, groups: Sequence[tuple[str, Sequence]], uirevision: str,
                 y_title: str = "", y2: tuple[str, Sequence] | None = None, y2_title: str = "") -> go.Figure:
    """Bars per category for several measures, optionally a line on a right-hand axis."""
    if not categories:
        return empty_figure(uirevision)
    fig = go.Figure()
    for i, (label, values) in enumerate(groups):
        fig.add_trace(go.Bar(x=plain(categories), y=list(values), name=label, marker_color=PALETTE[i % len(PALETTE)]))
    extra = {"xaxis": dict(type="category"), "yaxis": dict(title=y_title), "barmode": "group"}
    if y2 is not None:
        fig.add_trace(go.Scatter(x=plain(categories), y=list(y2[1]), name=y2[0], yaxis="y2", mode="markers+lines",
                                 line=dict(color=COLORS["red"], dash="dot")))
        extra["yaxis2"] = dict(title=y2_title, overlaying="y", side="right", showgrid=False, rangemode="tozero")
    fig.update_layout(**base_layout(uirevision, hovermode="x", **extra))
    return fig


def donut(labels: Sequence[str], values: Sequence[int], uirevision: str,
          colors: Sequence[str] | None = None) -> go.Figure:
    if not any(values):
        return empty_figure(uirevision)
    fig = go.Figure(go.Pie(labels=plain(labels), values=list(values), hole=0.55, sort=False,
                           marker=dict(colors=list(colors) if colors else None),
                           textinfo="label+percent"))
    fig.update_layout(**base_layout(uirevision, hovermode="closest", showlegend=False,
                                    margin=dict(l=16, r=16, t=16, b=16)))
    return fig


def meeting_timeline(events: Sequence[dict], tz: str, uirevision: str) -> go.Figure:
    """Joins and leaves per participant (one row each), plus the meeting's start and end."""
    people = [e for e in events if e.get("user_id") and e["event_type"] in ("PARTICIPANT_JOINED", "PARTICIPANT_LEFT")]
    if not events:
        return empty_figure(uirevision, "No events for this meeting")
    fig = go.Figure()
    for kind, symbol, color, label in (("PARTICIPANT_JOINED", "triangle-right", COLORS["green"], "joined"),
                                        ("PARTICIPANT_LEFT", "x", COLORS["red"], "left")):
        sel = [e for e in people if e["event_type"] == kind]
        fig.add_trace(go.Scatter(
            x=[local_label(e["ts_ms"], tz, True) for e in sel], y=plain(e["user_id"] for e in sel), mode="markers",
            name=label, marker=dict(symbol=symbol, size=11, color=color),
            text=[e.get("leave_reason") or e.get("device_type") or "" for e in sel],
            hovertemplate="%{y} " + label + " at %{x}<br>%{text}<extra></extra>"))
    for e in events:
        if e["event_type"] in ("MEETING_STARTED", "MEETING_ENDED"):
            fig.add_vline(x=local_label(e["ts_ms"], tz, True), line=dict(color=COLORS["slate"], dash="dash"))
    fig.update_layout(**base_layout(uirevision, hovermode="closest",
                                    xaxis=dict(title=f"time ({tz})", type="date"),
                                    yaxis=dict(title="participant", type="category")))
    return fig


def step_series(points: Sequence[dict], key: str, tz: str, uirevision: str, y_title: str) -> go.Figure:
    if not points:
        return empty_figure(uirevision)
    fig = go.Figure(go.Scatter(x=[local_label(p["t"], tz, True) for p in points], y=[p[key] for p in points],
                               mode="lines", line=dict(shape="hv", color=COLORS["blue"], width=2), name=y_title))
    fig.update_layout(**base_layout(uirevision, xaxis=dict(title=f"time ({tz})", type="date"),
                                    yaxis=dict(title=y_title, rangemode="tozero"), showlegend=False))
    return fig


def per_participant(samples: Sequence[dict], key: str, tz: str, uirevision: str, y_title: str) -> go.Figure:
    if not samples:
        return empty_figure(uirevision, "No quality samples for this meeting")
    fig = go.Figure()
    users = sorted({s["user_id"] for s in samples})
    for i, user in enumerate(users):
        mine = [s for s in samples if s["user_id"] == user]
        fig.add_trace(go.Scatter(x=[local_label(s["ts_ms"], tz, True) for s in mine], y=[s[key] for s in mine],
                                 mode="lines+markers", name=plain([user])[0],
                                 line=dict(color=PALETTE[i % len(PALETTE)])))
    fig.update_layout(**base_layout(uirevision, hovermode="closest", xaxis=dict(title=f"time ({tz})", type="date"),
                                    yaxis=dict(title=y_title)))
    return fig
