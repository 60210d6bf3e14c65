"""The Dash app: navbar with a tab per page, range/zone/filter controls kept in the URL, auto-refresh
with at most one refresh in flight per browser, a live panel from Redis, CSV export, and the REST API
on the same Flask server.

Entry point: ``create_app(settings, engine_provider, redis_client) -> dash.Dash``.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import dash
import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Input, Output, State, ctx, dcc, html, no_update
from flask import jsonify
from flask_caching import Cache

from queries.engine import Engine, EngineUnavailable

from . import ids
from .api import create_api
from .data import DataService, LiveUnavailable
from .page import Context, context_for, page_layout, register_page, rows_to_csv
from .pages import PAGES, page_for
from .pages.overview import register_live
from .timerange import (
    FILTER_PARAMS,
    RANGES,
    ParamError,
    build_search,
    iso_to_local_input,
    local_input_to_iso,
    parse_search,
    zone_names,
)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
REFRESH_CHOICES = (5, 10, 30, 60)
LIVE_REFRESH_MS = 3000


def cache_config(redis_client) -> dict:
    """flask-caching on Redis when there is one, else an in-process cache (embedded mode)."""
    if redis_client is not None:
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_HOST": redis_client,
                "CACHE_KEY_PREFIX": "meetpulse:cache:", "CACHE_DEFAULT_TIMEOUT": 30}
    return {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 30, "CACHE_THRESHOLD": 2000}


def navbar() -> dbc.Navbar:
    links = [dbc.NavItem(dbc.NavLink(p.title, href=p.path, id=ids.NAV_LINKS[p.key], active="exact"))
             for p in PAGES if p.nav]
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand([html.Span("●", className="brand-dot"), " meetpulse"], href="/", className="me-4"),
        dbc.Nav(links, navbar=True, className="me-auto", id=ids.NAV),
    ], fluid=True), color="dark", dark=True, className="mb-3 mp-navbar")


def controls(refresh_s: int) -> dbc.Card:
    range_options = [{"label": k, "value": k} for k in RANGES] + [{"label": "custom", "value": "custom"}]
    zones = [{"label": z, "value": z} for z in zone_names()]
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col([dbc.Label("Range", className="ctl-label"),
                     dbc.RadioItems(id=ids.RANGE, options=range_options, value="24h", inline=True,
                                    className="btn-group range-group", inputClassName="btn-check",
                                    labelClassName="btn btn-outline-primary btn-sm",
                                    labelCheckedClassName="active")], width="auto"),
            dbc.Col(html.Div([
                dbc.Label("From", className="ctl-label"),
                dbc.Input(id=ids.FROM, type="datetime-local", size="sm", debounce=True),
                dbc.Label("To", className="ctl-label ms-2"),
                dbc.Input(id=ids.TO, type="datetime-local", size="sm", debounce=True),
            ], className="d-flex align-items-end gap-1"), id=ids.CUSTOM_ROW, width="auto", style={"display": "none"}),
            dbc.Col([dbc.Label("Time zone", className="ctl-label"),
                     dcc.Dropdown(id=ids.TZ, options=zones, value="UTC", clearable=False, className="tz-select")],
                    width="auto"),
            dbc.Col([dbc.Label("Region", className="ctl-label"),
                     dcc.Dropdown(id=ids.REGION, multi=True, placeholder="all regions", className="filter")], md=2),
            dbc.Col([dbc.Label("Meeting type", className="ctl-label"),
                     dcc.Dropdown(id=ids.MEETING_TYPE, multi=True, placeholder="all types", className="filter")], md=2),
            dbc.Col([dbc.Label("Platform", className="ctl-label"),
                     dcc.Dropdown(id=ids.PLATFORM, multi=True, placeholder="all platforms", className="filter")], md=2),
            dbc.Col([dbc.Label("Refresh", className="ctl-label"),
                     html.Div([
                         dbc.Select(id=ids.REFRESH_EVERY, size="sm", value=str(refresh_s),
                                    options=[{"label": f"{s} s", "value": str(s)} for s in REFRESH_CHOICES]),
                         dbc.Switch(id=ids.PAUSE, label="pause", value=False, className="ms-2 mb-0"),
                     ], className="d-flex align-items-center")], width="auto"),
        ], className="g-2 align-items-end"),
        html.Div(id=ids.URL_ERROR),
    ]), className="mb-3 controls")


def shell(refresh_s: int) -> html.Div:
    return html.Div([
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Store(id=ids.TOKEN), dcc.Store(id=ids.LIVE_TOKEN),
        dcc.Store(id=ids.DONE_SINK), dcc.Store(id=ids.LIVE_DONE_SINK),
        dcc.Interval(id=ids.INTERVAL, interval=refresh_s * 1000),
        dcc.Interval(id=ids.LIVE_INTERVAL, interval=LIVE_REFRESH_MS),
        dcc.Download(id=ids.DOWNLOAD),
        navbar(),
        dbc.Container([controls(refresh_s), html.Div(id=ids.PAGE)], fluid=True, className="mp-main"),
    ])


def not_found(pathname: str) -> html.Div:
    return html.Div(dbc.Alert(f"No page at {pathname}.", color="warning"), className="page")


def create_app(settings, engine_provider: Callable[[], Engine], redis_client=None) -> dash.Dash:
    """The dashboard and its REST API; ``engine_provider()`` may raise EngineUnavailable."""
    refresh_s = max(5, int(getattr(settings, "cache_seconds", 5)))
    quantum_ms = max(1, int(getattr(settings, "cache_seconds", 5))) * 1000
    app = dash.Dash(__name__, assets_folder=str(ASSETS), title="meetpulse", update_title=None,
                    serve_locally=True, suppress_callback_exceptions=False)
    server = app.server
    cache = Cache(server, config=cache_config(redis_client))
    service = DataService(engine_provider, redis_client, cache, cache_seconds=getattr(settings, "cache_seconds", 5),
                          idle_timeout_s=getattr(settings, "idle_timeout_s", 1800))
    server.extensions["meetpulse"] = service

    app.layout = shell(refresh_s)
    app.validation_layout = html.Div([shell(refresh_s), *[page_layout(p) for p in PAGES]])

    # -- routing: the skeleton of the page the URL names ---------------------------------
    @app.callback(Output(ids.PAGE, "children"), Input(ids.URL, "pathname"))
    def _route(pathname):
        page = page_for(pathname)
        return page_layout(page) if page else not_found(pathname or "")

    @app.callback([Output(ids.NAV_LINKS[p.key], "href") for p in PAGES if p.nav], Input(ids.URL, "search"))
    def _nav(search):
        return [p.path + (search or "") for p in PAGES if p.nav]

    # -- controls <-> URL ---------------------------------------------------------------------
    control_ids = (ids.RANGE, ids.FROM, ids.TO, ids.TZ, ids.REGION, ids.MEETING_TYPE, ids.PLATFORM)

    @app.callback(
        Output(ids.URL, "search"), *[Output(c, "value") for c in control_ids],
        Output(ids.CUSTOM_ROW, "style"), Output(ids.URL_ERROR, "children"),
        Input(ids.URL, "search"), *[Input(c, "value") for c in control_ids],
    )
    def _sync(search, rng, f, t, tz, regions, types, platforms):
        now = int(time.time() * 1000)
        current = (rng, f, t, tz, regions or [], types or [], platforms or [])
        if ctx.triggered_id in (None, ids.URL):
            error = None
            try:
                q = parse_search(search, now, quantum_ms)
            except ParamError as exc:
                error = dbc.Alert(f"Showing the last 24 h in UTC instead of this link: its {exc.param} is bad "
                                  f"({exc.problem})", color="warning",
                                  className="mt-2 mb-0 py-1", id="url-error-alert")
                q = parse_search("", now, quantum_ms)
            custom = q.range_key is None
            want = (q.range_key or "custom",
                    iso_to_local_input(q.from_ms, q.tz) if custom else f,
                    iso_to_local_input(q.to_ms, q.tz) if custom else t,
                    q.tz, list(q.filters.regions), list(q.filters.meeting_types), list(q.filters.platforms))
            values = [w if w != c else no_update for w, c in zip(want, current)]
            return [no_update, *values, {"display": "block" if custom else "none"}, error]
        style = {"display": "block" if rng == "custom" else "none"}
        fill = [no_update, no_update]
        if rng == "custom" and (not f or not t):
            try:
                q = parse_search(search, now, quantum_ms)
            except ParamError:
                q = parse_search("", now, quantum_ms)
            f = f or iso_to_local_input(q.from_ms, tz or "UTC")
            t = t or iso_to_local_input(q.to_ms, tz or "UTC")
            fill = [f, t]
        new = build_search(rng, local_input_to_iso(f, tz or "UTC"), local_input_to_iso(t, tz or "UTC"), tz,
                           zip(FILTER_PARAMS, (regions, types, platforms)))
        if new == (search or ""):
            new = no_update
        return [new, no_update, *fill, no_update, no_update, no_update, no_update, style, None]

    @app.callback(Output(ids.REGION, "options"), Output(ids.MEETING_TYPE, "options"),
                  Output(ids.PLATFORM, "options"), Input(ids.TOKEN, "data"), State(ids.URL, "search"),
                  State(ids.REGION, "value"), State(ids.MEETING_TYPE, "value"), State(ids.PLATFORM, "value"))
    def _options(_token, search, regions, types, platforms):
        c = context_for(service, "", "/", quantum_ms)
        value, error = service.try_panel("options", c.q)
        value = value or {"region": [], "meeting_type": [], "platform": []}
        out = []
        for dim, chosen in zip(("region", "meeting_type", "platform"), (regions, types, platforms)):
            names = sorted(set(value[dim]) | set(chosen or []))
            out.append([{"label": n, "value": n} for n in names])
        return out

    # -- refresh: interval -> gate (client side, one in flight) -> page callback -> done ---------
    @app.callback(Output(ids.INTERVAL, "disabled"), Output(ids.INTERVAL, "interval"),
                  Output(ids.LIVE_INTERVAL, "disabled"), Input(ids.PAUSE, "value"), Input(ids.REFRESH_EVERY, "value"))
    def _interval(paused, every):
        try:
            seconds = max(1, int(every))
        except (TypeError, ValueError):
            seconds = refresh_s
        return bool(paused), seconds * 1000, bool(paused)

    app.clientside_callback(ClientsideFunction("meetpulse", "gate"), Output(ids.TOKEN, "data"),
                            Input(ids.INTERVAL, "n_intervals"), Input(ids.URL, "search"))
    app.clientside_callback(ClientsideFunction("meetpulse", "liveGate"), Output(ids.LIVE_TOKEN, "data"),
                            Input(ids.LIVE_INTERVAL, "n_intervals"))
    for page in PAGES:
        register_page(app, page, service, quantum_ms)
        app.clientside_callback(ClientsideFunction("meetpulse", "done"),
                                Output(ids.DONE_SINK, "data", allow_duplicate=True),
                                Input(ids.page_done(page.key), "data"), prevent_initial_call=True)
    register_live(app, service)
    app.clientside_callback(ClientsideFunction("meetpulse", "liveDone"), Output(ids.LIVE_DONE_SINK, "data"),
                            Input(ids.LIVE_DONE, "data"), prevent_initial_call=True)

    # -- CSV export of any panel --------------------------------------------------------------
    @app.callback(Output(ids.DOWNLOAD, "data"), Input({"type": ids.CSV_TYPE, "panel": ALL}, "n_clicks"),
                  State(ids.URL, "search"), State(ids.URL, "pathname"), prevent_initial_call=True)
    def _csv(_clicks, search, pathname):
        trig = ctx.triggered_id
        if not trig or not ctx.triggered or not ctx.triggered[0].get("value"):
            return no_update
        page = page_for(pathname)
        panel = next((p for p in (page.panels if page else []) if p.id == trig["panel"]), None)
        if panel is None:
            return no_update
        c = context_for(service, search, pathname, quantum_ms)
        try:
            _out, rows = panel.build(c)
        except Exception as exc:
            rows = [{"error": str(exc)}]
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        return dict(content=rows_to_csv(rows), filename=f"meetpulse-{panel.id}-{stamp}.csv", type="text/csv")

    # -- REST API and health on the same server ----------------------------------------------------
    server.register_blueprint(create_api(service, quantum_ms))

    @server.get("/healthz")
    def _health():
        status = {"clickhouse": "ok", "redis": "ok" if redis_client is not None else "not configured"}
        code = 200
        try:
            service.ping_ms()
        except EngineUnavailable as exc:
            status["clickhouse"] = str(exc)
            code = 503
        except Exception as exc:
            status["clickhouse"] = f"{type(exc).__name__}: {exc}"
            code = 503
        if redis_client is not None:
            try:
                redis_client.ping()
            except Exception as exc:
                status["redis"] = f"unavailable: {exc}"
        return jsonify(status), code

    return app


__all__ = ["create_app", "cache_config", "Context", "LiveUnavailable"]
