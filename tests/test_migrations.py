"""Migrations: numbered, recorded, idempotent, and gated on what the server supports."""
from __future__ import annotations

from queries.migrate import features_for, load_migrations, migrate, pending

TABLES = {"events", "event_ids", "pair_events", "sessions", "dead_letters", "schema_migrations"}


def _types(engine, table):
    return dict(engine.execute("SELECT name, type FROM system.columns WHERE database = currentDatabase() "
                               "AND table = %(t)s", {"t": table}))


def test_numbered_and_recorded_once(engine):
    numbers = [m.version for m in load_migrations()]
    assert numbers == sorted(numbers) == list(range(1, len(numbers) + 1))
    before = engine.execute("SELECT version, name FROM schema_migrations FINAL ORDER BY version")
    assert [v for v, _ in before] == numbers
    ddl = engine.execute("SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase()"
                         " ORDER BY name") if engine.name == "chdb" else None
    assert migrate(engine) == [] and pending(engine) == []
    assert engine.execute("SELECT version, name FROM schema_migrations FINAL ORDER BY version") == before
    if ddl is not None:
        assert engine.execute("SELECT name, create_table_query FROM system.tables "
                              "WHERE database = currentDatabase() ORDER BY name") == ddl
    names = {row[0] for row in engine.execute("SELECT name FROM system.tables WHERE database = currentDatabase()")}
    assert TABLES <= names


def test_features_follow_the_server_version(engine):
    types = _types(engine, "events")
    if engine.version() >= (21, 1):
        assert types["event_type"] == "LowCardinality(String)"
        assert types["ts64"].startswith("DateTime64(3")
    else:  # Debian's 18.16
        assert types["event_type"] == "String"
        assert "ts64" not in types
    assert types["ts_ms"] == "Int64" and types["duration_s"] == "Nullable(Float64)"


def test_feature_table():
    old, new = features_for((18, 16, 1)), features_for((26, 9, 2), retention_days=400)
    assert old == {"low_string": "String", "delta_codec": "", "ts64_column": "", "ttl": ""}
    assert new["low_string"] == "LowCardinality(String)" and new["ttl"] == "TTL ts + INTERVAL 400 DAY"
    assert features_for((26, 9))["ttl"] == ""
