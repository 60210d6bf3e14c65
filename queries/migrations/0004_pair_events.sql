-- Each event's (meeting, user, type, time), ordered by meeting: the input of session upkeep,
-- so recomputing a meeting's sessions reads a primary-key range instead of the whole table.
CREATE TABLE IF NOT EXISTS pair_events (
    meeting_id String,
    user_id String,
    event_type {low_string},
    ts_ms Int64,
    event_id String
) ENGINE = ReplacingMergeTree()
ORDER BY (meeting_id, user_id, ts_ms, event_type, event_id);

INSERT INTO pair_events (meeting_id, user_id, event_type, ts_ms, event_id)
SELECT meeting_id, user_id, event_type, ts_ms, event_id FROM events FINAL
