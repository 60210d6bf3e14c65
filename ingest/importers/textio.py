"""Open exported text files whatever their encoding: UTF-8 (BOM or not), UTF-16 LE/BE (BOM or not)."""
from __future__ import annotations

import codecs
import csv
import io


def sniff_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le-bom"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be-bom"
    sample = head[:4096]
    if len(sample) >= 4:
        even_zeros = sample[0::2].count(0)
        odd_zeros = sample[1::2].count(0)
        half = len(sample) // 2
        if odd_zeros > half * 0.3 and even_zeros < half * 0.05:
            return "utf-16-le"
        if even_zeros > half * 0.3 and odd_zeros < half * 0.05:
            return "utf-16-be"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(sample) - 3:  # not just a character cut at the sample's end
            return "cp1252"
    return "utf-8"


def open_text(path) -> io.TextIOBase:
    """A text stream (universal newlines off, as csv wants) with the BOM removed."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
    encoding = sniff_encoding(head)
    raw = open(path, "rb")
    if encoding.endswith("-bom"):
        raw.read(2)
        encoding = encoding[: -len("-bom")]
    return io.TextIOWrapper(raw, encoding=encoding, newline="", errors="replace")


def head_lines(path, count: int = 40) -> list[str]:
    lines = []
    with open_text(path) as text:
        for line in text:
            lines.append(line.rstrip("\r\n"))
            if len(lines) >= count:
                break
    return lines


def iter_rows(path, delimiter: str):
    """(line number, fields) for each physical record; quoted fields may hold the delimiter."""
    with open_text(path) as text:
        reader = csv.reader(text, delimiter=delimiter)
        for fields in reader:
            yield reader.line_num, [f.strip() for f in fields]
