"""Production entry point for gunicorn: ``gunicorn 'dashboard.wsgi:server'``.

Everything comes from the environment (CLICKHOUSE_URL, REDIS_URL, DASH_CACHE_SECONDS, ...), read
here once through ``Settings.from_env``. ClickHouse is connected lazily, so the server starts and
shows error cards while ClickHouse is down, and recovers on its own when it comes back.
"""
from __future__ import annotations

import logging
import os

from meetpulse.settings import Settings

from .app import create_app
from .runtime import engine_provider_for, redis_client_for
from .webhooks import kafka_publisher, zoom_webhook_blueprint

settings = Settings.from_env(os.environ)
logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)  # the engine reports failures in one line
app = create_app(settings, engine_provider_for(settings), redis_client_for(settings))
server = app.server


def _importer_options():
    from meetpulse.importing import platform_options

    return platform_options(settings)


_publish = (kafka_publisher(settings.kafka_bootstrap_servers, settings.kafka_topic)
            if settings.kafka_bootstrap_servers else None)
server.register_blueprint(zoom_webhook_blueprint(settings.zoom_webhook_secret, _importer_options, _publish))
