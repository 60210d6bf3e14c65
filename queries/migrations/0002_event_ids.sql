-- Ids already stored, keyed for point look-ups: the ingest dedup ("first stored wins").
CREATE TABLE IF NOT EXISTS event_ids (
    event_id String,
    ts_ms Int64
) ENGINE = ReplacingMergeTree()
ORDER BY event_id
