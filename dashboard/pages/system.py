"""System: client CPU, memory and bandwidth; ingest throughput, dead letters, consumer lag, query latency."""
from __future__ import annotations

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html

from queries.engine import EngineUnavailable, QueryError

from ..data import LiveUnavailable
from ..figures import COLORS, base_layout, empty_figure, time_series
from ..page import Context, Page, Panel, PanelFailed, fmt_num, table
from ..timerange import local_label


def build_client(ctx: Context):
    rows = ctx.data("system.client")
    fig = time_series(rows, ctx.tz, [("avg_cpu_pct", "CPU % (mean)"), ("p95_cpu_pct", "CPU % (p95)"),
                                     ("avg_memory_pct", "memory % (mean)"),
                                     ("avg_bandwidth_kbps", "bandwidth kbps (mean)", "y2")],
                      ctx.uirevision, y_title="percent", y2_title="bandwidth (kbps)")
    return fig, [{"bucket_start": local_label(r["t"], ctx.tz), "bucket_start_ms": r["t"],
                  **{k: v for k, v in r.items() if k != "t"}} for r in rows]


def build_ingest(ctx: Context):
    rows = ctx.data("system.ingest")
    fig = time_series(rows, ctx.tz, [("stored", "events stored"), ("dead_lettered", "dead-lettered", "y2")],
                      ctx.uirevision, y_title="events stored", y2_title="dead-lettered", kind="bar")
    return fig, [{"bucket_start": local_label(r["t"], ctx.tz), "bucket_start_ms": r["t"],
                  "stored": r["stored"], "dead_lettered": r["dead_lettered"]} for r in rows]


def _live(ctx: Context, fn):
    try:
        return fn()
    except LiveUnavailable as exc:
        raise PanelFailed(str(exc)) from None


def build_minutes(ctx: Context):
    rows = _live(ctx, lambda: ctx.service.ingest_minutes(60))
    if not any(r["consumed"] or r["consumer_lag"] for r in rows):
        return empty_figure(ctx.uirevision, "No ingest in the last hour"), rows
    x = [local_label(r["minute_ms"], ctx.tz) for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=[r["stored"] for r in rows], name="stored", marker_color=COLORS["blue"]))
    fig.add_trace(go.Bar(x=x, y=[r["duplicates"] for r in rows], name="duplicates", marker_color=COLORS["amber"]))
    fig.add_trace(go.Bar(x=x, y=[r["dead_lettered"] for r in rows], name="dead-lettered", marker_color=COLORS["red"]))
    fig.add_trace(go.Scatter(x=x, y=[r["consumer_lag"] for r in rows], name="consumer lag", yaxis="y2",
                             mode="lines+markers", line=dict(color=COLORS["purple"], dash="dot")))
    fig.update_layout(**base_layout(ctx.uirevision, barmode="stack", xaxis=dict(title=f"minute ({ctx.tz})", type="date"),
                                    yaxis=dict(title="messages per minute"),
                                    yaxis2=dict(title="consumer lag (messages)", overlaying="y", side="right",
                                                showgrid=False, rangemode="tozero"),
                                    margin=dict(l=56, r=64, t=16, b=44)))
    return fig, [{"minute": local_label(r["minute_ms"], ctx.tz), **r} for r in rows]


def build_latency(ctx: Context):
    rows = ctx.service.query_latencies()
    if not rows:
        return empty_figure(ctx.uirevision, "No queries measured yet"), rows
    fig = go.Figure(go.Scatter(x=[local_label(r["t"], ctx.tz, True) for r in rows], y=[r["ms"] for r in rows],
                               mode="markers", text=[r["panel"] for r in rows], marker=dict(color=COLORS["teal"]),
                               hovertemplate="%{text}: %{y:.1f} ms<extra></extra>"))
    fig.update_layout(**base_layout(ctx.uirevision, hovermode="closest", xaxis=dict(title=f"time ({ctx.tz})", type="date"),
                                    yaxis=dict(title="ms per data function", rangemode="tozero"), showlegend=False))
    return fig, [{"time": local_label(r["t"], ctx.tz, True), **r} for r in rows]


def build_status(ctx: Context):
    items, rows = [], []
    try:
        ping = ctx.service.ping_ms()
        items.append(("ClickHouse round trip", f"{ping:.1f} ms", "ch-ping", ping))
    except (EngineUnavailable, QueryError) as exc:
        raise PanelFailed(f"ClickHouse unavailable: {exc}") from None
    try:
        live = ctx.service.live()
        items += [("Events/s", f"{live['events_per_second']:.1f}", "eps", live["events_per_second"]),
                  ("Consumer lag", fmt_num(live["consumer_lag"], 0), "consumer-lag", live["consumer_lag"]),
                  ("Ingest lag", "–" if live["ingest_lag_ms"] is None else f"{live['ingest_lag_ms'] / 1000:.1f} s",
                   "ingest-lag", live["ingest_lag_ms"]),
                  ("Dead-lettered (Redis)", fmt_num(live["dead_lettered"], 0), "dlq-redis", live["dead_lettered"])]
    except LiveUnavailable as exc:
        items.append(("Redis", "unavailable", "redis", None))
        rows.append({"metric": "redis", "value": str(exc)})
    rows += [{"metric": label, "value": v} for label, _t, _k, v in items]
    reasons = ctx.data("system.dead_letters")
    body = html.Div([
        dbc.Row([dbc.Col(html.Div([html.Div(label, className="kpi-label"),
                                   html.Div(text, className="kpi-value", id=f"sys-{key}")]), xs=6, md=4)
                 for label, text, key, _v in items], className="g-2 mb-2"),
        html.Div("Dead letters by reason (ClickHouse, all time)", className="kpi-label mt-2"),
        table(reasons, (("reason", "Reason", 0), ("messages", "Messages", 0))),
    ])
    return body, rows + [{"metric": f"dead_letters:{r['reason']}", "value": r["messages"]} for r in reasons]


PAGE = Page(
    key="system", path="/system", title="System",
    panels=[
        Panel("sys-client", "Client CPU, memory and bandwidth", build_client, width=12),
        Panel("sys-ingest", "Ingest throughput and dead letters (ClickHouse, by ingest time)", build_ingest, width=6),
        Panel("sys-minutes", "Last hour per minute (Redis): throughput and consumer lag", build_minutes, width=6),
        Panel("sys-latency", "ClickHouse query latency (this web app)", build_latency, width=6),
        Panel("sys-status", "Pipeline status", build_status, kind="html", width=6),
    ],
)
