"""REST API on the dashboard's Flask server: the same numbers as the pages, as JSON.

GET /api/v1/analytics/{overview,quality,engagement,system,realtime}
GET /api/v1/meetings            (paged, sortable by the worst-meetings columns)
GET /api/v1/meetings/<id>

Errors: 400 ``{"error": "bad_parameter", "parameter", "problem"}``; 404 for an unknown meeting;
503 ``{"error": "unavailable", "component": "clickhouse"|"redis", "detail"}`` when a component is down.
"""
from __future__ import annotations

import logging
import math
import re
import time

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from queries.engine import EngineUnavailable, QueryError
from queries.pages.quality import WORST_COLUMNS

from .data import DataService, LiveUnavailable, NotFound
from .timerange import ParamError, TimeQuery, parse_query

MAX_PAGE_SIZE = 500


log = logging.getLogger(__name__)


def _clean(value):
    """JSON-safe: NaN and infinities become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _one(name: str, default: str | None = None) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise ParamError(name, "given more than once")
    return values[0] if values else default


def _int_param(name: str, default: int, low: int, high: int) -> int:
    raw = _one(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"-?[0-9]{1,12}", raw):
        raise ParamError(name, f"{raw[:20]!r} is not an integer")
    value = int(raw)
    if not low <= value <= high:
        raise ParamError(name, f"must be between {low} and {high}")
    return value


def create_api(service: DataService, quantum_ms: int) -> Blueprint:
    api = Blueprint("meetpulse_api", __name__, url_prefix="/api/v1")

    def time_query() -> TimeQuery:
        return parse_query(request.args, int(time.time() * 1000), quantum_ms)

    @api.errorhandler(ParamError)
    def _bad(exc: ParamError):
        return jsonify(exc.as_json()), 400

    @api.errorhandler(EngineUnavailable)
    def _down(exc: EngineUnavailable):
        return jsonify({"error": "unavailable", "component": "clickhouse", "detail": str(exc)}), 503

    @api.errorhandler(LiveUnavailable)
    def _redis_down(exc: LiveUnavailable):
        return jsonify({"error": "unavailable", "component": "redis", "detail": str(exc)}), 503

    @api.errorhandler(QueryError)
    def _query_failed(exc: QueryError):
        return jsonify({"error": "query_failed", "component": "clickhouse", "detail": str(exc)}), 500

    @api.errorhandler(NotFound)
    def _missing(exc: NotFound):
        return jsonify({"error": "not_found", "meeting_id": str(exc)}), 404

    @api.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return jsonify({"error": exc.name.lower().replace(" ", "_"), "detail": exc.description}), exc.code

    @api.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("API request failed")
        return jsonify({"error": "internal", "detail": f"{type(exc).__name__}: {exc}"}), 500

    @api.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @api.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def _unknown(rest: str):
        # without this, Dash's catch-all page route would answer unknown API paths with HTML
        return jsonify({"error": "not_found", "detail": f"no endpoint /api/v1/{rest[:100]}; see the README"}), 404

    def reply(payload) -> Response:
        return jsonify(_clean(payload))

    @api.get("/analytics/overview")
    def overview():
        return reply(service.overview(time_query()))

    @api.get("/analytics/quality")
    def quality():
        return reply(service.quality(time_query()))

    @api.get("/analytics/engagement")
    def engagement():
        return reply(service.engagement(time_query()))

    @api.get("/analytics/system")
    def system():
        return reply(service.system(time_query()))

    @api.get("/analytics/realtime")
    def realtime():
        return reply(service.live())

    @api.get("/meetings")
    def meeting_list():
        q = time_query()
        sort = _one("sort", "avg_mos")
        if sort not in WORST_COLUMNS[:-1]:
            raise ParamError("sort", f"{sort[:40]!r} is not one of {', '.join(WORST_COLUMNS[:-1])}")
        order = _one("order", "asc")
        if order not in ("asc", "desc"):
            raise ParamError("order", "must be asc or desc")
        page = _int_param("page", 1, 1, 1_000_000)
        size = _int_param("page_size", 50, 1, MAX_PAGE_SIZE)
        result = service.panel("quality.worst", q, sort=sort, descending=order == "desc", limit=size,
                               offset=(page - 1) * size)
        return reply({"meetings": result["rows"], "total": result["total"], "page": page, "page_size": size,
                      "pages": max(1, -(-result["total"] // size)), "sort": sort, "order": order,
                      "range": q.describe()})

    @api.get("/meetings/<path:meeting_id>")
    def meeting_detail(meeting_id: str):
        if not meeting_id or len(meeting_id) > 1_048_576:
            raise ParamError("meeting_id", "empty or too long")
        q = time_query()
        return reply({**service.meeting(q, meeting_id), "range": q.describe()})

    return api
