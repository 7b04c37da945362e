"""WorldGym's content-addressed storage: Kubo-identical CIDs, embedded or on IPFS.

Everything other packages need::

    from worldgym.storage import StoreSettings, compute_cid, open_store

    store = open_store(StoreSettings())          # embedded; backend="kubo" for a daemon
    cid = store.put_bytes(batch_bytes)           # "bafkrei..." (CIDv1, raw leaves)
    data = store.get_bytes(cid, max_bytes=limit) # verified against the CID
    assert compute_cid(batch_bytes) == cid       # pure, nothing stored

See ``worldgym/storage/README.md`` for backends, CID options and pointing at Kubo.
"""

from worldgym.storage.cid import Cid, cid_from_bytes, cid_to_bytes, parse_cid
from worldgym.storage.errors import (
    BackendError,
    CidError,
    ContentNotFoundError,
    IntegrityError,
    ReadLimitError,
    StorageError,
    StoreUnavailableError,
    UnsupportedContentError,
)
from worldgym.storage.kubo import KuboStore
from worldgym.storage.local import LocalStore, StoreReport
from worldgym.storage.settings import (
    StoreSettings,
    default_store_path,
    open_store,
    settings_from_env,
)
from worldgym.storage.store import ContentStat, ContentStore
from worldgym.storage.unixfs import ImportOptions, compute_cid

__all__ = [
    "BackendError",
    "Cid",
    "CidError",
    "ContentNotFoundError",
    "ContentStat",
    "ContentStore",
    "ImportOptions",
    "IntegrityError",
    "KuboStore",
    "LocalStore",
    "ReadLimitError",
    "StorageError",
    "StoreReport",
    "StoreSettings",
    "StoreUnavailableError",
    "UnsupportedContentError",
    "cid_from_bytes",
    "cid_to_bytes",
    "compute_cid",
    "default_store_path",
    "open_store",
    "parse_cid",
    "settings_from_env",
]
