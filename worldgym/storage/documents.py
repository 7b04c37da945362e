"""Small JSON documents by CID (manifests, metrics): size-capped, verified, schema-checked.

Checkpoint manifests, dataset manifests and metrics documents are all read the
same way: at most ``max_bytes`` from the store (which verifies every block
against the CID), parsed as JSON in bounded time and memory
(:func:`worldgym.storage.bounded_json.loads_bounded`: nesting depth checked before the
parser recurses, ``NaN`` refused), and refused unless they are an object whose
``schema`` is the expected one. Each failure is a :class:`DocumentError` whose
message says which document and why; callers re-raise it in their own
package's vocabulary.
"""

from __future__ import annotations

from typing import Any

from worldgym.storage.bounded_json import JSONLimitError, loads_bounded
from worldgym.storage.errors import StorageError
from worldgym.storage.store import ContentStore

__all__ = ["MAX_DOCUMENT_DEPTH", "DocumentError", "read_document"]

MAX_DOCUMENT_DEPTH = 32


class DocumentError(StorageError):
    """A document that cannot be read, is not JSON, or is not of the expected schema."""


def read_document(
    store: ContentStore, cid: str, schema: str, *, max_bytes: int, what: str, noun: str
) -> tuple[dict[str, Any], bytes]:
    """The ``schema`` document at ``cid`` and its bytes.

    ``what`` names it in messages ("checkpoint manifest"), ``noun`` is what it
    is when the schema is wrong ("manifest", "document").
    """
    try:
        data = store.get_bytes(cid, max_bytes=max_bytes)
        document = loads_bounded(
            data, max_bytes=max_bytes, max_depth=MAX_DOCUMENT_DEPTH, what=f"{what} {cid}"
        )
    except StorageError as exc:
        raise DocumentError(f"cannot read {what} {cid}: {exc}") from None
    except JSONLimitError as exc:
        raise DocumentError(str(exc)) from None
    if not isinstance(document, dict) or document.get("schema") != schema:
        raise DocumentError(f"{cid} is not a {schema} {noun}")
    return document, data
