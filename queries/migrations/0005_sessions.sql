-- Sessions (DESIGN section 4) kept at ingest: one row per join, the newest version wins.
CREATE TABLE IF NOT EXISTS sessions (
    meeting_id String,
    user_id String,
    join_event_id String,
    t_open Int64,
    t_close Int64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (meeting_id, user_id, t_open, join_event_id)
