"""Engagement: meetings per user, minutes per user, session lengths, rejoins, devices, busiest hosts."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from ..figures import bars
from ..page import Context, Page, Panel, fmt_num, table


def build_meetings_per_user(ctx: Context):
    rows = ctx.data("engagement.meetings_per_user")
    fig = bars([str(r["meetings"]) for r in rows], [r["users"] for r in rows], ctx.uirevision,
               x_title="meetings attended in range", y_title="users")
    return fig, rows


def build_minutes_per_user(ctx: Context):
    d = ctx.data("engagement.minutes_per_user")
    top = d["top"]
    fig = bars([r["user_id"] for r in top], [r["minutes"] for r in top], ctx.uirevision, x_title="user",
               y_title="participant minutes", horizontal=True)
    if d["users"]:
        fig.update_layout(title=dict(text=f"{d['users']:,} users, mean {fmt_num(d['mean_minutes'])} min per user",
                                     x=0.01, font=dict(size=13)), margin=dict(l=90, r=24, t=36, b=40))
    return fig, top


def build_session_lengths(ctx: Context):
    rows = ctx.data("engagement.session_lengths")
    fig = bars([r["length"] for r in rows], [r["sessions"] for r in rows], ctx.uirevision,
               x_title="session length", y_title="sessions")
    return fig, rows


def build_rejoins(ctx: Context):
    d = ctx.data("engagement.rejoins")
    items = [("Rejoin rate", "–" if d["rejoin_rate_pct"] is None else f"{d['rejoin_rate_pct']:.1f}%",
              "rejoin-rate", d["rejoin_rate_pct"]),
             ("Pairs that rejoined", fmt_num(d["rejoined_pairs"], 0), "rejoined-pairs", d["rejoined_pairs"]),
             ("(meeting, user) pairs", fmt_num(d["pairs"], 0), "pairs", d["pairs"]),
             ("Sessions", fmt_num(d["sessions"], 0), "sessions", d["sessions"])]
    body = dbc.Row([dbc.Col(html.Div([html.Div(label, className="kpi-label"),
                                      html.Div(text, className="kpi-value", id=f"eng-{key}",
                                               **{"data-value": "" if v is None else repr(v)})]), xs=6)
                    for label, text, key, v in items], className="g-2")
    note = html.Small("Share of (meeting, user) pairs with more than one join in the range.", className="text-muted")
    return html.Div([body, note]), [d]


def build_devices(ctx: Context):
    d = ctx.data("engagement.devices")
    rows = [{"dimension": dim, "name": r["name"], "joins": r["joins"]}
            for dim in ("device_type", "device_os", "device_browser") for r in d[dim]]
    import plotly.graph_objects as go

    from ..figures import PALETTE, base_layout, empty_figure

    if not rows:
        return empty_figure(ctx.uirevision), rows
    fig = go.Figure()
    for i, (dim, label) in enumerate((("device_type", "device type"), ("device_os", "operating system"),
                                      ("device_browser", "browser"))):
        fig.add_trace(go.Bar(x=[r["name"] for r in d[dim]], y=[r["joins"] for r in d[dim]], name=label,
                             marker_color=PALETTE[i]))
    fig.update_layout(**base_layout(ctx.uirevision, hovermode="closest", yaxis=dict(title="joins"),
                                    xaxis=dict(type="category")))
    return fig, rows


HOST_COLUMNS = (("host_id", "Host", 0), ("meetings", "Meetings started", 0))


def build_hosts(ctx: Context):
    rows = ctx.data("engagement.hosts")
    return table(rows, HOST_COLUMNS, table_id="busiest-hosts"), rows


PAGE = Page(
    key="engagement", path="/engagement", title="Engagement",
    panels=[
        Panel("eng-meetings-per-user", "Meetings attended per user", build_meetings_per_user, width=6),
        Panel("eng-minutes-per-user", "Participant minutes per user (top 20)", build_minutes_per_user, width=6),
        Panel("eng-session-lengths", "Session length", build_session_lengths, width=6),
        Panel("eng-rejoins", "Rejoins", build_rejoins, kind="html", width=6),
        Panel("eng-devices", "Devices, operating systems and browsers", build_devices, width=8),
        Panel("eng-hosts", "Busiest hosts", build_hosts, kind="html", width=4),
    ],
)
