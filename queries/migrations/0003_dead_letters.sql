-- Rejected messages (reason, SHA-256 of the bytes, when), so the count survives Redis.
CREATE TABLE IF NOT EXISTS dead_letters (
    sha256 String,
    reason String,
    received_ms Int64,
    kafka_topic String,
    kafka_partition Int32,
    kafka_offset Int64,
    size_bytes UInt32
) ENGINE = ReplacingMergeTree()
ORDER BY (sha256, reason, kafka_partition, kafka_offset)
