"""The page framework: a page is a list of panels; each panel turns cached data into a figure or
an HTML fragment (and the rows its CSV export holds). One callback per page renders every panel,
and a failing panel shows an error card while the others render.
"""
from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence
from urllib.parse import unquote

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from . import ids
from .data import DataService, NotFound
from .figures import NO_DATA
from .timerange import ParamError, TimeQuery, local_label, parse_search


class PanelFailed(Exception):
    """A panel's data could not be had; the message is shown on its error card."""


@dataclass
class Context:
    """What a panel builder may use: the data service, the parsed query, and display settings."""

    service: DataService
    q: TimeQuery
    search: str
    pathname: str

    @property
    def tz(self) -> str:
        return self.q.tz

    @property
    def uirevision(self) -> str:
        return f"{self.pathname}{self.search}"

    @property
    def meeting_id(self) -> str:
        prefix = "/meetings/"
        return unquote(self.pathname[len(prefix):]) if self.pathname.startswith(prefix) else ""

    def data(self, name: str, **extra):
        value, error = self.service.try_panel(name, self.q, **extra)
        if error is not None:
            raise PanelFailed(error)
        return value

    def label(self, ms: int, seconds: bool = False) -> str:
        return local_label(ms, self.tz, seconds)


Builder = Callable[[Context], tuple[Any, list[dict]]]


@dataclass
class Panel:
    """One card: ``build(ctx) -> (figure or component, csv rows)``."""

    id: str
    title: str
    build: Builder
    kind: str = "graph"  # "graph" (a dcc.Graph kept across refreshes) or "html"
    width: int = 6       # columns of 12 on a wide screen
    height: int = 340
    subtitle: str = ""


@dataclass
class Page:
    key: str
    path: str
    title: str
    panels: Sequence[Panel]
    header: Callable[[], Any] | None = None
    nav: bool = True
    extra: Sequence[Any] = field(default_factory=list)

    def matches(self, pathname: str) -> bool:
        if self.path != "/" and self.path.endswith("/"):
            return pathname.startswith(self.path) and len(pathname) > len(self.path)
        return pathname == self.path or (self.path == "/" and pathname in ("", "/overview"))


def error_card(reason: str) -> dbc.Alert:
    return dbc.Alert([html.Strong("This panel could not be loaded. "), html.Span(reason)],
                     color="danger", className="error-card mb-0")


def no_data(text: str = NO_DATA) -> html.Div:
    return html.Div(text, className="no-data")


def panel_card(panel: Panel) -> dbc.Col:
    header = dbc.CardHeader([
        html.Span(panel.title, className="panel-title"),
        html.Small(panel.subtitle, className="text-muted ms-2") if panel.subtitle else None,
        dbc.Button("CSV", id=ids.csv_button(panel.id), size="sm", color="secondary", outline=True,
                   className="float-end csv-button", title="Download the rows of this panel as CSV"),
    ], className="panel-header")
    if panel.kind == "graph":
        content = [
            html.Div(id=ids.message(panel.id)),
            dcc.Graph(id=ids.graph(panel.id), config={"displaylogo": False, "responsive": True},
                      style={"height": f"{panel.height}px"}),
        ]
    else:
        content = [html.Div(id=ids.body(panel.id), className="panel-html")]
    card = dbc.Card([header, dbc.CardBody(content, className="panel-body")], className="panel h-100",
                    id=f"panel-{panel.id}")
    return dbc.Col(card, xs=12, xl=panel.width, className="mb-3")


def page_layout(page: Page) -> html.Div:
    cols = [panel_card(p) for p in page.panels]
    return html.Div([
        dcc.Store(id=ids.page_done(page.key)),
        html.Div([html.H4(page.title, className="page-title mb-0"),
                  html.Small(id=ids.page_updated(page.key), className="text-muted updated")],
                 className="d-flex align-items-baseline gap-3 mb-2"),
        page.header() if page.header else None,
        *page.extra,
        dbc.Row(cols, className="g-3"),
    ], className=f"page page-{page.key}")


def outputs_of(page: Page) -> list:
    outs = []
    for p in page.panels:
        if p.kind == "graph":
            outs += [Output(ids.graph(p.id), "figure"), Output(ids.graph(p.id), "style"),
                     Output(ids.message(p.id), "children")]
        else:
            outs.append(Output(ids.body(p.id), "children"))
    return outs


class MissingSubject(PanelFailed):
    """The page is about something that does not exist (an unknown meeting): said once, not per panel."""


def render_panels(page: Page, ctx: Context) -> list:
    values: list = []
    told = False
    for p in page.panels:
        try:
            out, _rows = p.build(ctx)
            error = None
        except MissingSubject as exc:
            notice = no_data("–") if told else dbc.Alert(str(exc), color="warning", className="mb-0 missing")
            told = True
            values += ([{"data": [], "layout": {}}, {"display": "none"}, notice] if p.kind == "graph" else [notice])
            continue
        except PanelFailed as exc:
            out, error = None, str(exc)
        except NotFound:
            out, error = None, "unknown meeting"
        if p.kind == "graph":
            if error:
                values += [{"data": [], "layout": {}}, {"display": "none"}, error_card(error)]
            else:
                values += [out, {"height": f"{p.height}px"}, None]
        else:
            values.append(error_card(error) if error else out)
    return values


def context_for(service: DataService, search: str | None, pathname: str | None, quantum_ms: int) -> Context:
    try:
        q = parse_search(search, int(time.time() * 1000), quantum_ms)
    except ParamError:
        q = parse_search("", int(time.time() * 1000), quantum_ms)
    return Context(service, q, search or "", pathname or "/")


def register_page(app, page: Page, service: DataService, quantum_ms: int) -> None:
    """The page's refresh callback: token in, every panel out, then the done flag."""

    @app.callback(
        outputs_of(page) + [Output(ids.page_updated(page.key), "children"), Output(ids.page_done(page.key), "data")],
        Input(ids.TOKEN, "data"),
        State(ids.URL, "search"),
        State(ids.URL, "pathname"),
    )
    def _refresh(_token, search, pathname):
        if not page.matches(pathname or "/"):
            return [no_update] * (len(outputs_of(page)) + 2)
        ctx = context_for(service, search, pathname, quantum_ms)
        values = render_panels(page, ctx)
        stamp = time.time()
        updated = f"updated {local_label(int(stamp * 1000), ctx.tz, True)} ({ctx.tz})"
        return values + [updated, stamp]


def rows_to_csv(rows: Sequence[dict]) -> str:
    buf = io.StringIO()
    if not rows:
        return ""
    columns: list[str] = []
    for r in rows:
        for k in r:
            if k not in columns:
                columns.append(k)
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in columns})
    return buf.getvalue()


def fmt_num(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and digits == 0):
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def table(rows: Sequence[dict], columns: Sequence[tuple], link: Callable[[dict], str] | None = None,
          link_column: str | None = None, table_id: str | None = None) -> Any:
    """A bootstrap table; ``columns`` are (key, label, digits)."""
    if not rows:
        return no_data()
    head = html.Thead(html.Tr([html.Th(label) for _k, label, _d in columns]))
    body = []
    for r in rows:
        cells = []
        for key, _label, digits in columns:
            value = r.get(key)
            text = value if isinstance(value, str) else fmt_num(value, digits)
            if link and key == link_column:
                cells.append(html.Td(dcc.Link(text, href=link(r), className="drill-link")))
            else:
                cells.append(html.Td(text, className="num" if not isinstance(value, str) else None))
        body.append(html.Tr(cells))
    extra = {"id": table_id} if table_id else {}
    return dbc.Table([head, html.Tbody(body)], striped=True, hover=True, size="sm", responsive=True,
                     className="data-table mb-0", **extra)
