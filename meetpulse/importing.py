"""``meetpulse import``: read files, publish every message, and in embedded mode wait until stored."""
from __future__ import annotations

import os
import secrets
import threading
import time
from pathlib import Path
from typing import Iterator

import orjson

from .components import components
from .localstack import ComponentError, busy_holder
from .progress import Progress
from .settings import Settings

CONTRACT = "contract"


def contract_lines(path: Path) -> Iterator[bytes]:
    """Each line's exact bytes without its line terminator; blank lines are skipped."""
    with path.open("rb") as handle:
        for line in handle:
            if line.endswith(b"\n"):
                line = line[:-1]
                if line.endswith(b"\r"):
                    line = line[:-1]
            if line.strip():
                yield line


CONTRACT_PROBE_LINES = 50


def looks_like_contract(path: Path) -> bool:
    """JSON lines where one of the first lines is an object with ``eventType``: the bad lines of
    such a file are messages like any other, and go to the dead-letter topic with their reason."""
    seen = 0
    with path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            seen += 1
            if seen > CONTRACT_PROBE_LINES:
                break
            try:
                value = orjson.loads(line.removeprefix(b"\xef\xbb\xbf"))
            except orjson.JSONDecodeError:
                continue
            if isinstance(value, dict) and "eventType" in value:
                return True
    return False


def meeting_key(raw: bytes) -> bytes | None:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    meeting = value.get("meetingId") if isinstance(value, dict) else None
    return meeting.encode() if isinstance(meeting, str) else None


def pseudonym_key(settings: Settings) -> bytes:
    """MEETPULSE_PSEUDONYM_KEY, or a random key generated once and kept in the data folder."""
    if settings.pseudonym_key:
        return settings.pseudonym_key.encode()
    path = settings.data_dir / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def platform_options(settings: Settings, *, interval_s: float = 10.0, tz: str = "UTC",
                     dayfirst: bool | None = None, keep_names: bool = False):
    from ingest import importers

    try:
        return importers.ImportOptions(
            interval_s=interval_s, tz=tz, dayfirst=dayfirst, keep_names=keep_names,
            pseudonym_key=pseudonym_key(settings),
            state=importers.JsonFileJoinStateStore(settings.data_dir / "zoom-join-state.json"))
    except (ValueError, KeyError) as exc:  # a bad --interval or an unknown --tz
        raise ComponentError(f"bad import option: {exc}") from None


def _platform_options(args, settings: Settings):
    return platform_options(settings, interval_s=args.interval, tz=args.tz,
                            dayfirst=True if args.dayfirst else (False if args.monthfirst else None),
                            keep_names=args.keep_names)


def messages_of(paths: list[Path], args, settings: Settings, summaries: list) -> Iterator[bytes]:
    """Every message of every file as the bytes a producer sends."""
    options = None
    for path in paths:
        fmt = args.format or (CONTRACT if looks_like_contract(path) else None)
        if fmt == CONTRACT:
            yield from contract_lines(path)
            continue
        from ingest import importers

        if options is None:
            options = _platform_options(args, settings)
        fmt = fmt or importers.detect_format(path)
        try:
            for message in importers.iter_events(path, fmt=fmt, options=options):
                yield orjson.dumps(message)
        except (ValueError, KeyError, TypeError) as exc:  # a forced --format that does not fit
            raise ComponentError(f"{path}: cannot read as {fmt}: {str(exc).splitlines()[0] if str(exc) else exc!r}"
                                 ) from None
    if options is not None:
        summaries.append(options.summary)


def check_formats(paths: list[Path], args) -> None:
    """Fail before publishing anything when a file is in no known format."""
    if args.format:
        return
    for path in paths:
        if looks_like_contract(path):
            continue
        from ingest import importers

        try:
            importers.detect_format(path)
        except importers.UnknownFormatError as exc:
            raise ComponentError(str(exc)) from None


MAX_PUBLISH_BYTES = 16 * 1024 * 1024


def publish(producer, topic: str, messages: Iterator[bytes], progress: Progress, skipped: list) -> int:
    """Send every message; one over the producer's size limit cannot travel and is reported instead."""
    count = 0
    for raw in messages:
        if len(raw) > MAX_PUBLISH_BYTES:
            skipped.append(f"message {count + len(skipped) + 1}: {len(raw):,} bytes, over the "
                           f"{MAX_PUBLISH_BYTES:,}-byte transport limit (too_large); not published")
            continue
        producer.send(topic, raw, key=meeting_key(raw))
        count += 1
        progress.advance()
    producer.flush()
    return count


def run_import(args, settings: Settings) -> int:
    paths = []
    for name in args.files:
        path = Path(name)
        if not path.exists():
            raise ComponentError(f"{name}: no such file")
        if not path.is_file():
            raise ComponentError(f"{name}: not a regular file")
        paths.append(path)
    check_formats(paths, args)
    summaries: list = []
    holder = busy_holder(settings.data_dir) if settings.embedded else {}
    if holder.get("kafka") and holder.get("command") in ("demo", "ingest"):
        # the folder's chDB belongs to a running demo or ingest: publish into its broker, it stores them
        who = f"process {holder.get('pid')} (meetpulse {holder.get('command')})"
        read = _publish_files(holder["kafka"], paths, args, settings, summaries,
                              unreachable=f"{settings.data_dir} is held by {who} whose broker {holder['kafka']}")
        print(f"read {read}; published into the running meetpulse {holder.get('command')} "
              f"(process {holder.get('pid')}), which stores them")
        _print_platform_summaries(summaries)
        return 0
    with components(settings, "import", broker=True, engine=False) as c:
        read = _publish_files(c.bootstrap, paths, args, settings, summaries)
        if c.stack is None:
            print(f"read {read}; published to {settings.kafka_topic} at {c.bootstrap} "
                  f"(the ingest daemon stores them)")
            _print_platform_summaries(summaries)
            return 0
        result = _ingest_until_done(settings, c, read, args)
    lines = [f"read {read}", f"stored {result.stored}", f"duplicates {result.duplicates}",
             f"dead-lettered {sum(result.dead_lettered.values())}"]
    lines += [f"  {reason}: {n}" for reason, n in sorted(result.dead_lettered.items())]
    print("\n".join(lines))
    _print_platform_summaries(summaries)
    return 0


def _publish_files(bootstrap: str, paths, args, settings: Settings, summaries: list,
                   unreachable: str | None = None) -> int:
    """Publish every message of the files to the topic; returns how many were sent."""
    from ingest.kafka import KafkaProducer, ensure_topics

    try:
        ensure_topics(bootstrap, [settings.kafka_topic, settings.kafka_dlq_topic])
    except Exception as exc:
        if unreachable is None:
            raise
        raise ComponentError(f"{unreachable} did not answer: {exc}") from None
    progress = Progress("publishing", enabled=False if args.no_progress else None)
    producer = KafkaProducer(bootstrap, **{"message.max.bytes": MAX_PUBLISH_BYTES + 65536})
    unsent: list[str] = []
    read = publish(producer, settings.kafka_topic, messages_of(paths, args, settings, summaries), progress, unsent)
    progress.finish()
    for line in unsent:
        print(f"skipped {line}")
    return read


def _print_platform_summaries(summaries) -> None:
    for summary in summaries:
        print(f"converted {summary.events} events from platform files: "
              f"{summary.meetings} meetings, {summary.participants} participants")
        for event_type, count in sorted(summary.events_by_type.items()):
            print(f"  {event_type}: {count}")
        if summary.skipped:
            print(f"skipped {len(summary.skipped)} rows:")
            for path, line, reason in summary.skipped:
                print(f"  {path}:{line if line is not None else '-'}: {reason}")


def _ingest_until_done(settings: Settings, c, expected: int, args):
    from ingest.metrics import IngestMetrics
    from ingest.pipeline import BatchResult

    from .commands import build_daemon

    total = BatchResult()
    if expected == 0:
        return total
    done = threading.Event()
    progress = Progress("storing", total=expected, enabled=False if args.no_progress else None)

    def on_batch(result):
        total.add(result)
        progress.advance(result.consumed)
        if total.consumed >= expected:
            done.set()

    daemon = build_daemon(settings, c.bootstrap, c.engine, None, IngestMetrics(), on_batch=on_batch,
                          group_id=f"meetpulse-import-{int(time.time() * 1000)}")
    worker = threading.Thread(target=daemon.run, name="import-ingest", daemon=True)
    worker.start()
    while not done.wait(0.2):
        if not worker.is_alive():
            raise ComponentError("the embedded ingest loop stopped before every message was stored; "
                                 f"see {settings.data_dir / 'logs'}")
    daemon.stop()
    worker.join(30)
    progress.finish()
    return total
