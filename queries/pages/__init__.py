"""Queries behind each dashboard page, one module per page (DESIGN section 4 metrics come from stats.py).

SQL lives in module constants with a one-line docstring. Placeholders in braces are replaced only
by other constants of this package (``{filter}`` by the filters' fixed fragment, ``{bucket}`` by a
bucket expression of ``buckets``, ``{samples}``/``{sessions}`` by the shared subqueries of
``queries.stats``); every value reaches ClickHouse as a bound ``%(name)s`` parameter.
"""
from __future__ import annotations

from typing import Any

from ..engine import Engine
from ..filters import Filters
from ..stats import QUALITY_SAMPLES, SESSIONS, range_params, with_filter
from .buckets import Bucketing


def compose(sql: str, filters: Filters | None = None, bucketing: Bucketing | None = None,
            meeting_only: bool = False) -> tuple[str, dict]:
    """Expand the shared subqueries and placeholders of ``sql``; return (SQL, extra parameters)."""
    sql = sql.replace("{samples}", QUALITY_SAMPLES).replace("{sessions}", SESSIONS)
    params: dict[str, Any] = {}
    if bucketing is not None:
        sql = sql.replace("{bucket}", bucketing.sql)
        params.update(bucketing.params)
    if meeting_only:
        sql = sql.replace("{filter}", " AND meeting_id = %(meeting_id)s")
    else:
        sql, fparams = with_filter(sql, filters)
        params.update(fparams)
    return sql, params


def query(engine: Engine, sql: str, from_ms: int, to_ms: int, filters: Filters | None = None,
          bucketing: Bucketing | None = None, **values) -> list[tuple]:
    """Run a page query over [from, to) with the filters and bucketing it names."""
    text, params = compose(sql, filters, bucketing, meeting_only="meeting_id" in values)
    return engine.execute(text, {**range_params(from_ms, to_ms), **params, **values})


def fnum(value) -> float | None:
    """A float, or None for NULL/NaN (avg over nothing)."""
    if value is None:
        return None
    value = float(value)
    return None if value != value else value
