"""Canonical JSON: the one encoding of every document that is pinned, hashed or signed.

Sorted keys, no whitespace, UTF-8 (not ``\\u`` escapes), and no NaN or
infinity, so that two machines serialising equal documents get equal bytes,
hence equal CIDs and digests (batches, environment specs, metrics documents,
checkpoint manifests).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical_json"]


def canonical_json(document: Any) -> bytes:
    """The canonical bytes of a JSON-compatible ``document`` (raises ValueError on NaN)."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
