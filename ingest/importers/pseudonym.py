"""Keyed pseudonyms (HMAC-SHA256) for names and emails, so a name list cannot reverse them."""
from __future__ import annotations

import hashlib
import hmac
import re

_SPACES = re.compile(r"\s+")


def normalize_name(name: str) -> str:
    """A name compared without case and extra spaces."""
    return _SPACES.sub(" ", name).strip().casefold()


def normalize_email(email: str) -> str:
    return email.strip().casefold()


class Pseudonymizer:
    """Turns personal values into stable keyed hashes; ``keep_names`` keeps display names."""

    def __init__(self, key: bytes | None, keep_names: bool = False):
        self._key = key
        self.keep_names = keep_names

    def _digest(self, domain: str, value: str, length: int) -> str:
        if self._key is None:
            raise ValueError("pseudonym_key is required to hash names (or set keep_names=True)")
        mac = hmac.new(self._key, f"{domain}\x00{value}".encode("utf-8"), hashlib.sha256)
        return mac.hexdigest()[:length]

    def person_id(self, person_key: str) -> str:
        """Stable id for a person known by email or normalised name (always hashed)."""
        if self._key is None:
            # keep_names without a key: ids still must not expose the raw email in the id
            return "p-" + hashlib.sha256(("person\x00" + person_key).encode("utf-8")).hexdigest()[:20]
        return "p-" + self._digest("person", person_key, 20)

    def user_name(self, name: str | None) -> str | None:
        """The display name to publish: kept with ``keep_names``, else a keyed hash."""
        if name is None:
            return None
        name = _SPACES.sub(" ", str(name)).strip()
        if not name:
            return None
        if self.keep_names:
            return name
        return "n-" + self._digest("name", normalize_name(name), 16)
