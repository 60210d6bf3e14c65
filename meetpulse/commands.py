"""What each ``meetpulse`` command does; ``cli.py`` parses, these run."""
from __future__ import annotations

import json
import logging
import sys
import threading
import time

from .components import components, ensure_database
from .localstack import ComponentError, FolderInUse
from .settings import Settings

log = logging.getLogger("meetpulse")


def parse_iso_ms(text: str, name: str) -> int:
    """Epoch ms of an ISO 8601 time; no zone means UTC (the same parser as the REST API)."""
    from dashboard.timerange import ParamError, parse_instant

    try:
        return parse_instant(text, name)
    except ParamError as exc:
        raise ComponentError(f"{name}: {exc.problem}") from None


# ---------------------------------------------------------------- migrate


def cmd_migrate(args, settings: Settings) -> int:
    from queries.migrate import migrate

    if not settings.embedded:
        ensure_database(settings)
    with components(settings, "migrate") as c:
        applied = migrate(c.engine)
    print(f"applied {len(applied)} migration(s)" + "".join(f"\n  {m.version:04d}_{m.name}" for m in applied)
          if applied else "schema is up to date")
    return 0


# ---------------------------------------------------------------- ingest


def build_daemon(settings: Settings, bootstrap: str, engine, redis_client, metrics, on_batch=None,
                 group_id: str | None = None):
    from ingest.daemon import IngestDaemon
    from ingest.kafka import KafkaConsumer, KafkaProducer, ensure_topics
    from ingest.live import LiveCounters
    from ingest.pipeline import Sinks

    ensure_topics(bootstrap, [settings.kafka_topic, settings.kafka_dlq_topic])
    consumer = KafkaConsumer(bootstrap, group_id or settings.kafka_group_id, [settings.kafka_topic],
                             **{"fetch.max.bytes": 64 * 1024 * 1024})
    producer = KafkaProducer(bootstrap, **{"message.max.bytes": 16 * 1024 * 1024})
    live = LiveCounters(redis_client, settings.idle_timeout_s) if redis_client is not None else None
    sinks = Sinks(engine, live)
    return IngestDaemon(consumer, producer, settings.kafka_dlq_topic, sinks, metrics,
                        max_messages=settings.batch_max_messages, max_seconds=settings.batch_max_seconds,
                        max_bytes=settings.max_message_bytes, retry_limit_s=settings.retry_limit_s,
                        max_backoff_s=settings.retry_max_backoff_s, on_batch=on_batch)


def cmd_ingest(args, settings: Settings) -> int:
    from ingest.daemon import RetryLimitExceeded
    from ingest.kafka import BrokerUnavailable
    from ingest.metrics import IngestMetrics, serve_metrics
    from queries.migrate import migrate

    from .cli import install_stop_handlers

    port = settings.metrics_port if args.metrics_port is None else args.metrics_port
    if not settings.embedded:
        ensure_database(settings)
    with components(settings, "ingest", broker=True, redis=True) as c:
        migrate(c.engine)
        metrics = IngestMetrics()
        try:
            server = serve_metrics(metrics, settings.metrics_host, port) if port else None
        except OSError as exc:
            raise ComponentError(str(exc)) from None
        try:
            daemon = build_daemon(settings, c.bootstrap, c.engine, c.redis, metrics)
        except BrokerUnavailable as exc:
            raise ComponentError(f"{exc}; start Kafka or change KAFKA_BOOTSTRAP_SERVERS") from None
        install_stop_handlers(daemon.stop)
        log.info("ingesting %s from %s (group %s)%s", settings.kafka_topic, c.bootstrap, settings.kafka_group_id,
                 f"; metrics on http://{settings.metrics_host}:{port}/metrics" if port else "")
        try:
            daemon.run()
        except RetryLimitExceeded as exc:
            print(f"meetpulse ingest: {exc}", file=sys.stderr)
            return 3
        finally:
            if server is not None:
                server.shutdown()
    log.info("ingest stopped cleanly")
    return 0


# ---------------------------------------------------------------- simulate


def _simulation_bootstrap(settings: Settings) -> str:
    """Where simulated traffic goes: the configured broker, or the one of a running demo."""
    if settings.kafka_bootstrap_servers:
        return settings.kafka_bootstrap_servers
    from .localstack import busy_holder

    holder = busy_holder(settings.data_dir)
    if holder.get("kafka"):
        return holder["kafka"]
    raise ComponentError("no broker to publish to: set KAFKA_BOOTSTRAP_SERVERS, or start `meetpulse demo` "
                         f"on {settings.data_dir} and simulate into it")


def cmd_simulate(args, settings: Settings) -> int:
    from ingest.kafka import KafkaProducer, ensure_topics
    from ingest.simulator import run_simulation

    from .cli import install_stop_handlers

    bootstrap = _simulation_bootstrap(settings)
    ensure_topics(bootstrap, [settings.kafka_topic, settings.kafka_dlq_topic])
    stop = threading.Event()
    install_stop_handlers(stop.set)
    producer = KafkaProducer(bootstrap)
    sent = run_simulation(producer, settings.kafka_topic, rate=args.rate, meetings=args.meetings,
                          duration_s=args.duration, invalid_ratio=args.invalid_ratio, stop_event=stop,
                          seed=args.seed)
    producer.flush()
    print(f"published {sent} messages to {settings.kafka_topic} at {bootstrap}")
    return 0


# ---------------------------------------------------------------- import


def cmd_import(args, settings: Settings) -> int:
    from .importing import run_import

    return run_import(args, settings)


# ---------------------------------------------------------------- stats


def cmd_stats(args, settings: Settings) -> int:
    from queries.stats import compute_stats

    start, end = parse_iso_ms(args.start, "--from"), parse_iso_ms(args.end, "--to")
    if end < start:
        raise ComponentError("--to is before --from; the range is [--from, --to)")
    try:
        with components(settings, "stats") as c:
            stats = compute_stats(c.engine, start, end)
    except FolderInUse as busy:
        if not busy.holder.get("web"):
            raise
        stats = stats_through(busy.holder, start, end)
    if args.json:
        print(json.dumps(stats, indent=2, allow_nan=False))
    else:
        print(format_stats(stats, args.start, args.end))
    return 0


def stats_through(holder: dict, start: int, end: int) -> dict:
    """The stats from the web app of the process that holds the folder (chDB: one process per folder)."""
    import urllib.error
    import urllib.request

    from dashboard.timerange import iso_utc
    from queries.stats import STATS_KEYS

    url = f"{holder['web']}/api/v1/analytics/overview?from={iso_utc(start)}&to={iso_utc(end)}"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}")
        raise ComponentError(f"the running meetpulse {holder.get('command')} (process {holder.get('pid')}) "
                             f"answered {exc.code}: {detail.get('problem') or detail.get('detail') or detail}"
                             ) from None
    except OSError as exc:
        raise ComponentError(f"the folder is held by process {holder.get('pid')} (meetpulse "
                             f"{holder.get('command')}) and its web app at {holder['web']} did not answer: {exc}"
                             ) from None
    log.info("read through the running meetpulse %s (process %s)", holder.get("command"), holder.get("pid"))
    return {key: body[key] for key in STATS_KEYS}


def format_stats(stats: dict, start: str, end: str) -> str:
    def fmt(value):
        if value is None:
            return "-"
        return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"

    rows = [(k, v) for k, v in stats.items() if k != "quality"]
    rows += [(f"quality.{k}", v) for k, v in stats["quality"].items()]
    width = max(len(k) for k, _ in rows)
    lines = [f"meetpulse stats [{start}, {end})"]
    lines += [f"  {k.ljust(width)}  {fmt(v):>14}" for k, v in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- serve and demo


def _create_app(settings: Settings, engine_provider, redis_client, bootstrap: str = ""):
    from dashboard.app import create_app
    from dashboard.webhooks import kafka_publisher, zoom_webhook_blueprint

    from .importing import platform_options

    app = create_app(settings, engine_provider, redis_client)
    publish = kafka_publisher(bootstrap, settings.kafka_topic) if bootstrap else None
    app.server.register_blueprint(zoom_webhook_blueprint(settings.zoom_webhook_secret,
                                                         lambda: platform_options(settings), publish))
    return app


def check_port_free(host: str, port: int) -> None:
    """Fail in one line before starting anything when the web port is taken."""
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ComponentError(f"cannot listen on {host}:{port} ({exc.strerror}); pass another --port") from None


def cmd_serve(args, settings: Settings) -> int:
    host = args.host or settings.web_host
    port = args.port or settings.web_port
    check_port_free(host, port)
    if not settings.embedded:
        # server mode connects lazily: the pages show error cards while a component is down
        from dashboard.runtime import engine_provider_for, redis_client_for

        app = _create_app(settings, engine_provider_for(settings), redis_client_for(settings),
                          settings.kafka_bootstrap_servers)
        print(f"meetpulse web app on http://{host}:{port}", flush=True)
        app.run(host=host, port=port, debug=False, threaded=True)
        return 0
    with components(settings, "serve", redis=True) as c:
        app = _create_app(settings, lambda: c.engine, c.redis)
        c.stack.advertise(web=f"http://{host}:{port}")
        print(f"meetpulse web app on http://{host}:{port} (data in {settings.data_dir})", flush=True)
        app.run(host=host, port=port, debug=False, threaded=True)
    return 0


def cmd_demo(args, settings: Settings) -> int:
    from ingest.kafka import KafkaProducer
    from ingest.metrics import IngestMetrics
    from ingest.simulator import run_simulation

    from .cli import install_stop_handlers

    if not settings.embedded:
        settings = settings.with_(embedded=True, clickhouse_url="")
    host = args.host or settings.web_host
    port = args.port or settings.web_port
    check_port_free(host, port)
    started = time.monotonic()
    with components(settings, "demo", broker=True, redis=True) as c:
        # the embedded broker is new on each run, so offsets restart at 0
        from ingest.live import LiveCounters

        live = LiveCounters(c.redis, settings.idle_timeout_s)
        live.reset_watermarks()
        live.rebuild(c.engine)
        metrics = IngestMetrics()
        daemon = build_daemon(settings, c.bootstrap, c.engine, c.redis, metrics)
        metrics_server = _optional_metrics_server(metrics, settings)
        stop, simulation_over = threading.Event(), threading.Event()
        install_stop_handlers(stop.set)
        producer = KafkaProducer(c.bootstrap)

        def simulate():
            try:
                run_simulation(producer=producer, topic=settings.kafka_topic, rate=args.rate,
                               meetings=args.meetings, invalid_ratio=args.invalid_ratio, stop_event=stop)
            finally:
                simulation_over.set()

        ingest = threading.Thread(target=daemon.run, name="ingest", daemon=True)
        simulator = threading.Thread(target=simulate, name="simulator", daemon=True)
        app = _create_app(settings, lambda: c.engine, c.redis, c.bootstrap)
        web = threading.Thread(target=lambda: app.run(host=host, port=port, debug=False, threaded=True),
                               name="web", daemon=True)
        for thread in (ingest, simulator, web):
            thread.start()
        c.stack.advertise(web=f"http://{host}:{port}")
        print(f"meetpulse demo: dashboard on http://{host}:{port} (data in {settings.data_dir}, "
              f"ready in {time.monotonic() - started:.1f}s); Ctrl-C stops it", flush=True)
        while not stop.is_set():
            stop.wait(0.5)
            dead = [t.name for t in (ingest, simulator, web) if not t.is_alive()]
            if dead:
                print(f"meetpulse demo: the {dead[0]} thread stopped; shutting down", file=sys.stderr)
                stop.set()
        # the simulator ends its running meetings, the ingest loop stores those last events, then stops
        simulation_over.wait(10)
        _drain(metrics, timeout_s=5.0)
        daemon.stop()
        ingest.join(15)
        if metrics_server is not None:
            metrics_server.shutdown()
    print("meetpulse demo stopped")
    return 0


def _optional_metrics_server(metrics, settings: Settings):
    """The demo serves /metrics like the daemon when its port is free, and says so when it is not."""
    from ingest.metrics import serve_metrics

    if not settings.metrics_port:
        return None
    try:
        server = serve_metrics(metrics, settings.metrics_host, settings.metrics_port)
    except OSError as exc:
        log.warning("%s; the demo runs without /metrics", exc)
        return None
    log.info("ingest metrics on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)
    return server


def _drain(metrics, timeout_s: float) -> None:
    """Wait until the consumer has caught up (or the time is up)."""
    deadline = time.monotonic() + timeout_s
    last = -1
    while time.monotonic() < deadline:
        consumed = metrics.consumed
        if consumed == last:
            return
        last = consumed
        time.sleep(0.6)
