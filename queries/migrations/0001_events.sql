-- Every valid event, typed; one row per event id (exact replays collapse under FINAL).
CREATE TABLE IF NOT EXISTS events (
    event_id String,
    event_type {low_string},
    ts_ms Int64 {delta_codec},
    ts DateTime MATERIALIZED toDateTime(intDiv(ts_ms, 1000)),
    {ts64_column}
    meeting_id String,
    user_id String,
    host_id String,
    meeting_type {low_string},
    platform {low_string},
    region {low_string},
    user_name String,
    device_os {low_string},
    device_browser {low_string},
    device_type {low_string},
    duration_s Nullable(Float64),
    leave_reason {low_string},
    total_participants Nullable(Int64),
    max_concurrent_users Nullable(Int64),
    audio_minutes Nullable(Float64),
    video_minutes Nullable(Float64),
    audio_quality Nullable(Float64),
    video_quality Nullable(Float64),
    latency_ms Nullable(Float64),
    jitter_ms Nullable(Float64),
    packet_loss_pct Nullable(Float64),
    bandwidth_kbps Nullable(Float64),
    cpu_pct Nullable(Float64),
    memory_pct Nullable(Float64),
    kafka_partition Int32,
    kafka_offset Int64,
    ingested_ms Int64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (event_type, ts_ms, meeting_id, event_id)
{ttl}
