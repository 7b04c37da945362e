"""The exceptions of WorldGym's content-addressed storage.

Every error names the CID it is about (when there is one) and says what to
do. Third-party exceptions (httpx, OS errors) are translated at the boundary.

Tree (this module)::

    WorldGymError                        (worldgym.core.errors)
    └── StorageError                     storage failed
        ├── CidError                     a CID is malformed, or uses a codec/hash not supported
        ├── ContentNotFoundError         the store does not have the content (or a block of it)
        ├── IntegrityError               bytes do not hash to their CID, or a DAG node is malformed
        ├── UnsupportedContentError      the CID is valid but not a UnixFS file (e.g. a directory)
        ├── ReadLimitError               the content is larger than the caller allowed (max_bytes)
        ├── StoreUnavailableError        the backend cannot be reached or did not answer in time
        └── BackendError                 the backend answered with an error (carries its message)
"""

from __future__ import annotations

from worldgym.core.errors import WorldGymError

__all__ = [
    "BackendError",
    "CidError",
    "ContentNotFoundError",
    "IntegrityError",
    "ReadLimitError",
    "StorageError",
    "StoreUnavailableError",
    "UnsupportedContentError",
]


class StorageError(WorldGymError):
    """Base class of every storage error."""


class CidError(StorageError, ValueError):
    """A CID string or binary CID is malformed, or uses a codec or hash this store cannot verify."""


class ContentNotFoundError(StorageError, LookupError):
    """The store does not hold the content, or one block of its DAG is missing.

    ``cid`` is the missing block's CID (the root's when the root is missing).
    """

    def __init__(self, message: str, *, cid: str) -> None:
        super().__init__(message)
        self.cid = cid


class IntegrityError(StorageError):
    """Bytes do not hash to the CID that names them, or a DAG node is malformed.

    Never silently ignored: the data of a corrupted or substituted block is not
    returned. ``cid`` is the CID of the offending block.
    """

    def __init__(self, message: str, *, cid: str) -> None:
        super().__init__(message)
        self.cid = cid


class UnsupportedContentError(StorageError):
    """The CID names valid content that is not a UnixFS file (e.g. a directory)."""


class ReadLimitError(StorageError):
    """The content is larger than the caller's ``max_bytes`` limit; nothing past it was read."""

    def __init__(self, message: str, *, cid: str, limit: int) -> None:
        super().__init__(message)
        self.cid = cid
        self.limit = limit


class StoreUnavailableError(StorageError, ConnectionError):
    """The backend (e.g. the Kubo daemon) cannot be reached, or did not answer in time."""


class BackendError(StorageError):
    """The backend answered with an error; ``status`` and ``detail`` are what it said."""

    def __init__(self, message: str, *, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
