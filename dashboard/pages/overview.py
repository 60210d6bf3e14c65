"""Overview: KPI cards with their change, activity over time, live status, quality distribution."""
from __future__ import annotations

import time

import dash_bootstrap_components as dbc
from dash import Input, Output, html

from .. import ids
from ..data import DataService, LiveUnavailable
from ..figures import BAND_COLORS, donut, time_series
from ..page import Context, Page, Panel
from ..timerange import local_label

KPIS = (
    # (key in stats, label, unit, digits, scale, higher is better)
    ("meetings", "Meetings", "", 0, 1, True),
    ("participants", "Participants", "", 0, 1, True),
    ("avg_meeting_duration_s", "Avg meeting duration", "min", 1, 1 / 60, True),
    ("participant_minutes", "Participant minutes", "", 1, 1, True),
    ("peak_concurrent_participants", "Peak concurrent participants", "", 0, 1, True),
    ("quality.avg_mos", "Audio quality (MOS)", "", 2, 1, True),
    ("quality.avg_audio_quality", "Audio score (1-5)", "", 2, 1, True),
    ("quality.poor_audio_pct", "Poor audio", "%", 1, 1, False),
)


def stat(stats: dict, key: str):
    value = stats
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def change(current, previous) -> float | None:
    """Percent change against the previous range; None when there is nothing to compare with."""
    if current is None or previous in (None, 0):
        return None
    return 100.0 * (current - previous) / abs(previous)


def kpi_rows(stats: dict, previous: dict) -> list[dict]:
    return [{"kpi": key, "label": label, "value": stat(stats, key), "previous": stat(previous, key),
             "change_pct": change(stat(stats, key), stat(previous, key))}
            for key, label, *_ in KPIS]


def _fmt(value, digits, scale, unit) -> str:
    if value is None:
        return "–"
    shown = value * scale
    text = f"{shown:,.{digits}f}" if digits else f"{int(round(shown)):,}"
    return f"{text} {unit}".strip() if unit and unit != "%" else text + (unit or "")


def kpi_card(row: dict, digits: int, scale: float, unit: str, higher_better: bool) -> dbc.Col:
    pct = row["change_pct"]
    if pct is None:
        badge = html.Span("no previous data" if row["previous"] in (None, 0) else "–",
                          className="kpi-change text-muted")
    else:
        good = (pct >= 0) == higher_better if pct != 0 else None
        arrow = "▲" if pct > 0 else ("▼" if pct < 0 else "■")
        cls = "kpi-up" if good else ("kpi-down" if good is False else "text-muted")
        badge = html.Span(f"{arrow} {abs(pct):.1f}% vs previous", className=f"kpi-change {cls}",
                          title=f"previous range: {_fmt(row['previous'], digits, scale, unit)}")
    value = row["value"]
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.Div(row["label"], className="kpi-label"),
        html.Div(_fmt(value, digits, scale, unit), id=ids.kpi(row["kpi"]), className="kpi-value",
                 **{"data-value": "" if value is None else repr(value),
                    "data-previous": "" if row["previous"] is None else repr(row["previous"])}),
        badge,
    ]), className="kpi-card h-100"), xs=6, md=3, className="mb-2")


def build_kpis(ctx: Context):
    stats = ctx.data("overview.stats")
    previous = ctx.data("overview.previous")
    rows = kpi_rows(stats, previous)
    cards = [kpi_card(row, spec[3], spec[4], spec[2], spec[5]) for row, spec in zip(rows, KPIS)]
    return dbc.Row(cards, className="g-2 kpi-row"), rows


def build_activity(ctx: Context):
    rows = ctx.data("overview.series")
    fig = time_series(rows, ctx.tz, [("meetings", "meetings started"), ("participants", "participants joining"),
                                     ("sessions", "sessions", "y2")], ctx.uirevision, y_title="meetings / participants",
                      y2_title="sessions")
    return fig, [{"bucket_start": local_label(r["t"], ctx.tz), "bucket_start_ms": r["t"], **{k: v for k, v in r.items()
                 if k != "t"}} for r in rows]


def build_bands(ctx: Context):
    bands = ctx.data("overview.bands")
    labels = ["good", "fair", "poor"]
    fig = donut([f"{b} (MOS {r})" for b, r in zip(labels, ("≥ 4", "3–4", "< 3"))],
                [bands[b] for b in labels], ctx.uirevision, [BAND_COLORS[b] for b in labels])
    return fig, [{"band": b, "samples": bands[b]} for b in labels]


LIVE_FIELDS = (
    ("live_meetings", "Live meetings", lambda v: f"{v:,}"),
    ("live_participants", "Live participants", lambda v: f"{v:,}"),
    ("events_per_second", "Events/s", lambda v: f"{v:,.1f}"),
    ("ingest_lag_ms", "Ingest lag", lambda v: "–" if v is None else f"{v / 1000:,.1f} s"),
    ("last_event_age_s", "Last event", lambda v: "–" if v is None else f"{v:,.0f} s ago"),
    ("dead_lettered", "Dead-lettered", lambda v: f"{v:,}"),
)


def live_panel(status: dict | None, error: LiveUnavailable | None):
    if error is not None:
        text = "Redis not configured" if not error.configured else "Redis unavailable"
        return dbc.Alert([html.Strong(f"{text}: "), html.Span("live status cannot be shown. "),
                          html.Small(str(error), className="text-muted")],
                         color="warning" if not error.configured else "danger",
                         className="error-card mb-0 live-error", id="live-error")
    items = [dbc.Col(html.Div([html.Div(label, className="live-label"),
                               html.Div(fmt(status.get(key)), className="live-value", id=f"live-{key.replace('_', '-')}",
                                        **{"data-value": "" if status.get(key) is None else repr(status.get(key))})],
                              className="live-item"), xs=6, md=4, xl=2)
             for key, label, fmt in LIVE_FIELDS]
    return dbc.Row(items, className="g-2")


def live_block():
    return dbc.Card([
        dbc.CardHeader([html.Span("Live status", className="panel-title"),
                        html.Span("●", className="live-dot ms-2"),
                        html.Small(" from Redis, every few seconds", className="text-muted")]),
        dbc.CardBody(html.Div(id=ids.LIVE_BODY)),
    ], className="panel mb-3 live-panel")


def register_live(app, service: DataService) -> None:
    """The live panel: Redis only, never cached, on its own fast interval."""

    @app.callback(Output(ids.LIVE_BODY, "children"), Output(ids.LIVE_DONE, "data"),
                  Input(ids.LIVE_TOKEN, "data"))
    def _live(_token):
        try:
            return live_panel(service.live(), None), time.time()
        except LiveUnavailable as exc:
            return live_panel(None, exc), time.time()


def header():
    from dash import dcc

    return html.Div([dcc.Store(id=ids.LIVE_DONE), live_block()])


PAGE = Page(
    key="overview", path="/", title="Overview",
    header=header,
    panels=[
        Panel("kpis", "Key figures", build_kpis, kind="html", width=12,
              subtitle="this range against the previous range of equal length"),
        Panel("activity", "Meetings and participants over time", build_activity, width=8),
        Panel("bands", "Audio quality distribution", build_bands, width=4),
    ],
)
