"""Header vocabulary of attendance exports in English, German, French, Portuguese, Indonesian."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


def fold(text: str) -> str:
    """Casefolded, accents removed, spaces collapsed (``Rôle`` -> ``role``)."""
    text = unicodedata.normalize("NFKD", (text or "").replace("\ufeff", ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text).strip().casefold()


def _any(text: str, words) -> bool:
    return any(w in text for w in words)


_FIRST = ("first", "erste", "premier", "premiere", "primeir", "pertama")
_LAST = ("last", "letzte", "dernier", "ultim", "terakhir")
_JOIN = ("join", "beitritt", "beigetreten", "arrivee", "entree", "entrada", "ingress", "bergabung")
_LEAVE = ("leave", "left", "verlass", "depart", "sortie", "saida", "keluar", "meninggalkan")


@lru_cache(maxsize=1024)
def column_role(header: str) -> str | None:
    """The role of one header cell, or None when unknown."""
    h = fold(header)
    if not h:
        return None
    if _any(h, ("upn", "participant id", "teilnehmer-id", "id du participant", "id do participante",
                "id peserta")):
        return "upn"
    if _any(h, ("email", "e-mail", "courriel", "surel")):
        return "email"
    if _any(h, _JOIN):
        return "first_join" if _any(h, _FIRST) else "join"
    if _any(h, _LEAVE):
        return "last_leave" if _any(h, _LAST) else "leave"
    if _any(h, ("duration", "dauer", "duree", "duracao", "durasi")):
        return "duration"
    if _any(h, ("action", "aktion", "acao", "tindakan")):
        return "action"
    if _any(h, ("timestamp", "zeitstempel", "horodatage", "carimbo", "tanda waktu", "stempel waktu")):
        return "timestamp"
    if h in ("role", "rolle", "funcao", "peran", "papel"):
        return "role"
    if _any(h, ("guest", "gast", "invite", "convidado", "tamu")):
        return "guest"
    if _any(h, ("name", "nom", "nome", "nama")):
        return "name"
    return None


def header_map(fields: list[str]) -> dict[str, int]:
    roles: dict[str, int] = {}
    for index, cell in enumerate(fields):
        role = column_role(cell)
        if role and role not in roles:
            roles[role] = index
    return roles


def table_kind(roles: dict[str, int]) -> str | None:
    """``sessions`` (join/leave per session), ``aggregate`` (first join/last leave per person),
    ``list`` (one join or leave action per row), or None when not an attendance table."""
    if "name" not in roles and "email" not in roles:
        return None
    if "join" in roles and "leave" in roles:
        return "sessions"
    if "first_join" in roles and "last_leave" in roles:
        return "aggregate"
    if "action" in roles and "timestamp" in roles:
        return "list"
    return None


_ACTION_BEFORE = ("before", "vorher", "avant", "antes", "sebelum")
_ACTION_LEFT = ("left", "verlassen", "quitte", "saiu", "keluar", "meninggalkan")
_ACTION_JOIN = ("joined", "beigetreten", "rejoint", "ingressou", "entrou", "bergabung")


def action_kind(value: str) -> str | None:
    """``join`` or ``leave`` for a user-action cell (``Joined before`` is a join)."""
    v = fold(value)
    if _any(v, _ACTION_LEFT):
        return "leave"
    if _any(v, _ACTION_JOIN):
        return "join"
    return None


SUMMARY_KEYS = (
    ("meeting_id", re.compile(r"^(meeting id|besprechungs-id|id de la reunion|id da reuniao|id rapat)")),
    ("title", re.compile(r"(title|titel|titre|titulo|judul)")),
    ("start", re.compile(r"\b(start|startzeit|beginn|debut|inicio|mulai)")),
    ("end", re.compile(r"\b(end|ende|endzeit|fin|fim|termino|selesai)\b")),
)


def summary_key(label: str) -> str | None:
    h = fold(label)
    for key, pattern in SUMMARY_KEYS:
        if pattern.search(h):
            return key
    return None
