"""All configuration, read once from the environment inside ``main()`` and passed down."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

DEFAULT_DATA_DIR = "./meetpulse-data"


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None


@dataclass(frozen=True)
class Settings:
    """Every endpoint, address and tunable of meetpulse. No credentials live in code."""

    kafka_bootstrap_servers: str = ""
    kafka_topic: str = "meeting-events"
    kafka_dlq_topic: str = "meeting-events-dlq"
    kafka_group_id: str = "meetpulse-ingest"
    clickhouse_url: str = ""
    redis_url: str = ""
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    embedded: bool = True

    batch_max_messages: int = 5000
    batch_max_seconds: float = 0.5
    max_message_bytes: int = 1_048_576
    retry_limit_s: float = 300.0
    retry_max_backoff_s: float = 5.0
    idle_timeout_s: int = 1800
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9108

    web_host: str = "127.0.0.1"
    web_port: int = 8050
    cache_seconds: int = 5
    zoom_webhook_secret: str = ""
    pseudonym_key: str = ""

    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, data_dir: str | None = None) -> "Settings":
        """Build settings from ``env``; embedded mode unless CLICKHOUSE_URL is set and no data dir is given."""
        env = os.environ if env is None else env
        clickhouse_url = env.get("CLICKHOUSE_URL", "")
        embedded = not clickhouse_url or data_dir is not None
        return cls(
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", ""),
            kafka_topic=env.get("KAFKA_TOPIC", "meeting-events") or "meeting-events",
            kafka_dlq_topic=env.get("KAFKA_DLQ_TOPIC", "meeting-events-dlq") or "meeting-events-dlq",
            kafka_group_id=env.get("KAFKA_GROUP_ID", "meetpulse-ingest") or "meetpulse-ingest",
            clickhouse_url="" if embedded else clickhouse_url,
            redis_url=env.get("REDIS_URL", ""),
            data_dir=Path(data_dir or env.get("MEETPULSE_DATA_DIR") or DEFAULT_DATA_DIR),
            embedded=embedded,
            batch_max_messages=_int(env, "INGEST_BATCH_MAX_MESSAGES", 5000),
            batch_max_seconds=_float(env, "INGEST_BATCH_MAX_SECONDS", 0.5),
            max_message_bytes=_int(env, "INGEST_MAX_MESSAGE_BYTES", 1_048_576),
            retry_limit_s=_float(env, "INGEST_RETRY_LIMIT_S", 300.0),
            retry_max_backoff_s=_float(env, "INGEST_RETRY_MAX_BACKOFF_S", 5.0),
            idle_timeout_s=_int(env, "LIVE_IDLE_TIMEOUT_S", 1800),
            metrics_host=env.get("INGEST_METRICS_HOST", "127.0.0.1") or "127.0.0.1",
            metrics_port=_int(env, "INGEST_METRICS_PORT", 9108),
            web_host=env.get("WEB_HOST", "127.0.0.1") or "127.0.0.1",
            web_port=_int(env, "WEB_PORT", 8050),
            cache_seconds=_int(env, "DASH_CACHE_SECONDS", 5),
            zoom_webhook_secret=env.get("ZOOM_WEBHOOK_SECRET", ""),
            pseudonym_key=env.get("MEETPULSE_PSEUDONYM_KEY", ""),
        )

    def __post_init__(self) -> None:
        checks = (
            (self.batch_max_messages >= 1, "INGEST_BATCH_MAX_MESSAGES", "must be at least 1"),
            (self.batch_max_seconds > 0, "INGEST_BATCH_MAX_SECONDS", "must be more than 0"),
            (self.max_message_bytes >= 1, "INGEST_MAX_MESSAGE_BYTES", "must be at least 1"),
            (self.retry_limit_s >= 0, "INGEST_RETRY_LIMIT_S", "must not be negative"),
            (self.retry_max_backoff_s > 0, "INGEST_RETRY_MAX_BACKOFF_S", "must be more than 0"),
            (self.idle_timeout_s >= 1, "LIVE_IDLE_TIMEOUT_S", "must be at least 1"),
            (0 <= self.metrics_port <= 65535, "INGEST_METRICS_PORT", "must be a port, 0-65535 (0 disables)"),
            (1 <= self.web_port <= 65535, "WEB_PORT", "must be a port, 1-65535"),
            (self.cache_seconds >= 1, "DASH_CACHE_SECONDS", "must be at least 1"),
            (not self.redis_url or self.redis_url.startswith(("redis://", "rediss://", "unix://")),
             "REDIS_URL", "must look like redis://host:6379/0, rediss://... or unix:///path"),
        )
        for ok, name, problem in checks:
            if not ok:
                raise SettingsError(f"{name} {problem}")

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @property
    def chdb_path(self) -> Path:
        return self.data_dir / "chdb"
