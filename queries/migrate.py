"""Numbered schema migrations, recorded in ``schema_migrations``; running them twice changes nothing."""
from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .engine import Engine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32,
    name String,
    applied_ms Int64
) ENGINE = ReplacingMergeTree() ORDER BY version
"""
"""The ledger of applied migrations."""

APPLIED = "SELECT DISTINCT version FROM schema_migrations"
"""Versions already applied."""


def _backfill_sessions(engine: Engine) -> None:
    from .sessions import rebuild_all

    rebuild_all(engine)


# Steps a SQL file cannot express, run right after the migration of that name.
POST_HOOKS = {"sessions": _backfill_sessions}


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def features_for(version: tuple[int, ...], retention_days: int = 0) -> dict[str, str]:
    """What this server supports: LowCardinality, codecs, DateTime64 and TTL arrived in 19.x-20.x (gated on 21.1+).

    The 18.16 server that Debian ships gets plain types and keeps data forever; chDB and current
    servers get the extras (TTL only when MEETPULSE_RETENTION_DAYS is set).
    """
    modern = version >= (21, 1)
    return {
        "low_string": "LowCardinality(String)" if modern else "String",
        "delta_codec": "CODEC(Delta, ZSTD)" if modern else "",
        "ts64_column": "ts64 DateTime64(3, 'UTC') MATERIALIZED fromUnixTimestamp64Milli(ts_ms)," if modern else "",
        "ttl": f"TTL ts + INTERVAL {int(retention_days)} DAY" if modern and retention_days > 0 else "",
    }


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), path.read_text()))
    return found


def migrate(engine: Engine, retention_days: int | None = None) -> list[Migration]:
    """Apply every migration not yet recorded; return the ones applied now."""
    if retention_days is None:
        retention_days = int(os.environ.get("MEETPULSE_RETENTION_DAYS") or 0)
    engine.execute(CREATE_LEDGER)
    applied = {row[0] for row in engine.execute(APPLIED)}
    features = features_for(engine.version(), retention_days)
    done = []
    for migration in load_migrations():
        if migration.version in applied:
            continue
        sql = migration.sql
        for key, value in features.items():
            sql = sql.replace("{" + key + "}", value)
        code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
        for statement in (s.strip() for s in code.split(";")):
            if statement:
                engine.execute(statement)
        if migration.name in POST_HOOKS:
            POST_HOOKS[migration.name](engine)
        engine.insert("schema_migrations", ("version", "name", "applied_ms"),
                      [(migration.version, migration.name, int(time.time() * 1000))])
        log.info("applied migration %04d_%s", migration.version, migration.name)
        done.append(migration)
    return done


def pending(engine: Engine) -> list[Migration]:
    engine.execute(CREATE_LEDGER)
    applied = {row[0] for row in engine.execute(APPLIED)}
    return [m for m in load_migrations() if m.version not in applied]
