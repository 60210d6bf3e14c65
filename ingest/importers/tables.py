"""Find attendance tables in a delimited export (single table or multi-section report)."""
from __future__ import annotations

from .columns import header_map, summary_key, table_kind
from .textio import head_lines, iter_rows

_DELIMITERS = ("\t", ";", ",")


def sniff_delimiter(path) -> tuple[str, str] | None:
    """(delimiter, table kind) of the first attendance table header in the file's head."""
    lines = head_lines(path, 60)
    for delimiter in _DELIMITERS:
        for line in lines:
            fields = [f.strip().strip('"') for f in line.split(delimiter)]
            if len(fields) < 3:
                continue
            kind = table_kind(header_map(fields))
            if kind:
                return delimiter, kind
    return None


def iter_table_rows(path, delimiter: str):
    """Yield ("summary", line, key, value), ("header", line, kind, roles) and
    ("row", line, kind, roles, fields) records in file order."""
    kind = roles = None
    for number, fields in iter_rows(path, delimiter):
        cells = [f for f in fields if f != ""]
        if not cells:
            kind = roles = None  # a blank line ends a table
            continue
        if kind is None and len(cells) >= 3:  # headers open a table (after a blank or a title)
            candidate = header_map(fields)
            candidate_kind = table_kind(candidate)
            if candidate_kind:
                kind, roles = candidate_kind, candidate
                yield ("header", number, kind, roles)
                continue
        if kind is not None and len(cells) >= 2:
            yield ("row", number, kind, roles, fields)
            continue
        if len(cells) == 1:
            kind = roles = None  # a section title such as "2. Participants"
            continue
        if kind is None and len(fields) >= 2:
            key = summary_key(fields[0])
            if key:
                yield ("summary", number, key, fields[1])
