"""The ``meetpulse`` command line. Every command and option is described by ``--help``."""
from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import threading
import time

from ingest.kafka import BrokerUnavailable
from queries.engine import EngineUnavailable, QueryError

from .localstack import ComponentError
from .settings import Settings, SettingsError

MODES = """
modes: with CLICKHOUSE_URL unset every command runs embedded, its state in --data-dir
(default ./meetpulse-data: chDB data, a private redis-server and a tansu broker started on
loopback). With CLICKHOUSE_URL set and no --data-dir, server mode: KAFKA_BOOTSTRAP_SERVERS,
KAFKA_TOPIC, KAFKA_GROUP_ID, CLICKHOUSE_URL and REDIS_URL come from the environment.
"""


def _number(low: float, high: float = math.inf, *, integer: bool = False, low_open: bool = False):
    """An argparse type: a finite number in [low, high] (or (low, high] with ``low_open``)."""
    def parse(text: str):
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if integer else ' number'}") from None
        if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
            bound = f"{'more than' if low_open else 'at least'} {low:g}" + (
                f" and at most {high:g}" if math.isfinite(high) else "")
            raise argparse.ArgumentTypeError(f"{text} is out of range: must be {bound}")
        return value
    return parse


PORT = _number(1, 65535, integer=True)
POSITIVE = _number(0, low_open=True)
RATIO = _number(0, 1)
INTERVAL = _number(0.001, 86400)


def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="embedded mode: folder for chDB data, logs and the lock (default ./meetpulse-data "
                             "when CLICKHOUSE_URL is unset)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meetpulse", description="Real-time analytics for video meetings: ingest, store, query, show.",
        epilog=MODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("migrate", help="create or upgrade the ClickHouse schema (safe to run twice)",
                       description="Apply the numbered migrations not yet recorded in schema_migrations.")
    _data_dir(p)

    p = sub.add_parser("ingest", help="run the ingest daemon (Kafka -> ClickHouse + Redis)",
                       description="Consume the topic, validate, store, dead-letter, update live counters; "
                                   "serves /healthz and /metrics. SIGTERM finishes the batch, commits, exits 0.")
    _data_dir(p)
    p.add_argument("--metrics-port", type=_number(0, 65535, integer=True), default=None,
                   help="port for /healthz and /metrics (default INGEST_METRICS_PORT or 9108; 0 disables)")

    p = sub.add_parser("simulate", help="publish realistic simulated meeting traffic",
                       description="Heavy-tailed meeting sizes, rejoins, regions with different latency, "
                                   "bad-network episodes.")
    _data_dir(p)
    p.add_argument("--rate", type=POSITIVE, default=50.0, help="events per second (default 50)")
    p.add_argument("--meetings", type=_number(1, integer=True), default=20,
                   help="meetings running at once (default 20)")
    p.add_argument("--duration", type=POSITIVE, default=None, metavar="S",
                   help="stop after S seconds (default: run until Ctrl-C)")
    p.add_argument("--invalid-ratio", type=RATIO, default=0.0, metavar="R",
                   help="share of deliberately invalid messages, 0-1 (default 0)")
    p.add_argument("--seed", type=int, default=None, help="random seed for repeatable traffic")

    p = sub.add_parser("import", help="publish files of events (contract-v1 JSON lines or platform exports)",
                       description="Read files, publish every message; with --data-dir run the embedded stack "
                                   "and return when every message is stored or dead-lettered.")
    p.add_argument("files", nargs="+", metavar="FILE", help="files to import")
    _data_dir(p)
    p.add_argument("--format", default=None, choices=["contract", "webrtc-internals", "rtcstats", "zoom-webhook",
                                                      "zoom-csv", "teams"],
                   help="force a format instead of detecting it from the content: contract (JSON lines of "
                        "contract-v1 messages), webrtc-internals (Chrome dumps, JSON or RTCStatsDump), rtcstats "
                        "(Jitsi), zoom-webhook (payloads, one per file or JSON lines), zoom-csv (participant "
                        "report), teams (attendance list or report)")
    p.add_argument("--interval", type=INTERVAL, default=10.0, metavar="S",
                   help="seconds per quality sample for WebRTC stats dumps (default 10)")
    p.add_argument("--tz", default="UTC", help="IANA zone for files whose times carry none (default UTC)")
    order = p.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", action="store_true",
                       help="Teams dates are day/month/year (default: decided from the file)")
    order.add_argument("--monthfirst", action="store_true", help="Teams dates are month/day/year")
    p.add_argument("--keep-names", action="store_true",
                   help="keep names and emails instead of keyed pseudonyms (default: pseudonymise)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")

    p = sub.add_parser("stats", help="print the metrics of a time range",
                       description="The metrics of the README's Metrics section over [--from, --to) of event time. "
                                   "An ISO time without a zone is UTC.")
    p.add_argument("--from", dest="start", required=True, metavar="ISO", help="start of the range (inclusive)")
    p.add_argument("--to", dest="end", required=True, metavar="ISO", help="end of the range (exclusive)")
    _data_dir(p)
    p.add_argument("--json", action="store_true", help="print JSON with exactly the stats keys")

    p = sub.add_parser("serve", help="run the web app (dashboard and REST API)",
                       description="Development server; in production run gunicorn dashboard.wsgi:server.")
    _data_dir(p)
    p.add_argument("--host", default=None, help="address to listen on (default WEB_HOST or 127.0.0.1)")
    p.add_argument("--port", type=PORT, default=None, help="port (default WEB_PORT or 8050)")

    p = sub.add_parser("demo", help="everything in one process: broker, Redis, chDB, simulator, ingest, web app",
                       description="The embedded stack with simulated traffic and the dashboard on "
                                   "http://127.0.0.1:8050. Ctrl-C stops every child process.")
    _data_dir(p)
    p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=PORT, default=None, help="port (default 8050)")
    p.add_argument("--rate", type=POSITIVE, default=40.0, help="simulated events per second (default 40)")
    p.add_argument("--meetings", type=_number(1, integer=True), default=12,
                   help="simulated meetings at once (default 12)")
    p.add_argument("--invalid-ratio", type=RATIO, default=0.01, help="share of invalid messages, 0-1 (default 0.01)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # the driver logs every refused connection with a traceback; the engine reports it in one line
    logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)
    logging.getLogger("librdkafka").setLevel(logging.DEBUG if args.verbose else logging.CRITICAL)
    try:
        settings = Settings.from_env(data_dir=getattr(args, "data_dir", None))
        from . import commands

        return getattr(commands, "cmd_" + args.command)(args, settings)
    except (ComponentError, SettingsError) as exc:
        print(f"meetpulse: {exc}", file=sys.stderr)
        return 2
    except (EngineUnavailable, QueryError) as exc:
        print(f"meetpulse: {exc}; check ClickHouse and CLICKHOUSE_URL", file=sys.stderr)
        return 2
    except BrokerUnavailable as exc:
        print(f"meetpulse: {exc}; check the broker and KAFKA_BOOTSTRAP_SERVERS", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def install_stop_handlers(stop) -> threading.Event:
    """SIGTERM and SIGINT call ``stop``; a second Ctrl-C exits at once."""
    stopped = threading.Event()

    def handler(signum, _frame):
        if stopped.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stopped.set()
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stopped


def wait_forever(stopped: threading.Event) -> None:
    while not stopped.is_set():
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
