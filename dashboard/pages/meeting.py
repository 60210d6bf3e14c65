"""Meeting drill-down (/meetings/<id>): timeline, concurrency, per-participant quality, participants."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from ..data import NotFound
from ..figures import meeting_timeline, per_participant, step_series
from ..page import Context, MissingSubject, Page, Panel, fmt_num, table


def _detail(ctx: Context) -> dict:
    d = ctx.data("meeting.detail", meeting_id=ctx.meeting_id)
    if d is None:
        raise MissingSubject(f"No meeting {ctx.meeting_id!r} in the data: check the link, or pick one from "
                             "the worst-meetings table on the Quality page.")
    return d


def build_facts(ctx: Context):
    m = _detail(ctx)["meeting"]
    facts = [("Meeting", m["meeting_id"]), ("Host", m["host_id"] or "–"), ("Type", m["meeting_type"] or "–"),
             ("Platform", m["platform"] or "–"), ("Region", m["region"] or "–"),
             ("Started", ctx.label(m["started_ms"], True) if m["started_ms"] else "–"),
             ("Ended", ctx.label(m["ended_ms"], True) if m["ended_ms"] else "not ended"),
             ("Duration", "–" if m["duration_s"] is None else f"{m['duration_s'] / 60:.1f} min"),
             ("Participants", fmt_num(m["participants"], 0)), ("Sessions", fmt_num(m["sessions"], 0)),
             ("Quality samples", fmt_num(m["quality_samples"], 0))]
    body = dbc.Row([dbc.Col(html.Div([html.Div(k, className="kpi-label"), html.Div(v, className="fact-value")]),
                            xs=6, md=3, xl=2, className="mb-2") for k, v in facts], id="meeting-facts")
    return body, [m]


def build_timeline(ctx: Context):
    events = _detail(ctx)["timeline"]
    rows = [{"time": ctx.label(e["ts_ms"], True), **e} for e in events]
    return meeting_timeline(events, ctx.tz, ctx.uirevision), rows


def build_concurrency(ctx: Context):
    points = _detail(ctx)["concurrency"]
    return (step_series(points, "participants", ctx.tz, ctx.uirevision, "participants present"),
            [{"time": ctx.label(p["t"], True), **p} for p in points])


def build_quality(ctx: Context):
    samples = _detail(ctx)["samples"]
    return (per_participant(samples, "mos", ctx.tz, ctx.uirevision, "MOS"),
            [{"time": ctx.label(s["ts_ms"], True), **s} for s in samples])


PARTICIPANT_COLUMNS = (("user_id", "User", 0), ("user_name", "Name", 0), ("device_type", "Device", 0),
                       ("device_os", "OS", 0), ("region", "Region", 0), ("sessions", "Sessions", 0),
                       ("minutes", "Minutes", 1), ("samples", "Samples", 0), ("avg_mos", "MOS", 2),
                       ("avg_latency_ms", "Latency ms", 0), ("poor_pct", "Poor %", 1))


def build_participants(ctx: Context):
    rows = _detail(ctx)["participants"]
    return table(rows, PARTICIPANT_COLUMNS, table_id="participant-table"), rows


PAGE = Page(
    key="meeting", path="/meetings/", title="Meeting drill-down", nav=False,
    panels=[
        Panel("mt-facts", "Meeting", build_facts, kind="html", width=12),
        Panel("mt-timeline", "Joins and leaves", build_timeline, width=6),
        Panel("mt-concurrency", "Participants present over time", build_concurrency, width=6),
        Panel("mt-quality", "MOS per participant over time", build_quality, width=6),
        Panel("mt-participants", "Participants", build_participants, kind="html", width=6),
    ],
)

__all__ = ["PAGE", "NotFound"]
