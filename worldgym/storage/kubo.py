"""The Kubo backend: the same interface over a Kubo daemon's RPC API (httpx).

Endpoints used (all ``POST /api/v0/...``, as Kubo requires)::

    add          put_*: multipart upload with explicit cid-version, raw-leaves,
                 chunker=size-262144 and hash=sha2-256, so Kubo builds exactly the DAG
                 the embedded store builds; the CID it reports must equal the one
                 computed locally before the upload, or the put fails
    block/get    every read: the DAG is walked block by block and each block is
                 verified against its CID (Kubo's ``cat`` bytes are never trusted)
    block/stat   has (with offline=true, so a missing block is not searched for)
    pin/add, pin/rm, pin/ls, version

Reads (and adds, which are idempotent: the same bytes give the same CID) are
retried with exponential backoff on connection errors, timeouts and HTTP
502/503/504. A daemon that is down is a :class:`StoreUnavailableError`; an
error it answers with is a :class:`BackendError` carrying its message.

Not ipfshttpclient: its last release (0.7.0) refuses every Kubo since 0.8 in
``connect()`` (it only accepts daemon versions below 0.8.0).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from worldgym.core.errors import UsageError
from worldgym.storage.cid import Cid
from worldgym.storage.errors import (
    BackendError,
    ContentNotFoundError,
    IntegrityError,
    StoreUnavailableError,
)
from worldgym.storage.reader import MAX_BLOCK_SIZE
from worldgym.storage.store import DEFAULT_MAX_READ_BYTES, ContentStore
from worldgym.storage.unixfs import ImportOptions, Source, import_content

__all__ = ["DEFAULT_KUBO_API", "KuboStore"]

DEFAULT_KUBO_API = "http://127.0.0.1:5001"
_MAX_JSON_BODY = 16 * 1024 * 1024
_RETRY_STATUS = (502, 503, 504)
_NOT_FOUND_HINTS = ("not found", "could not find", "no link named")
_NOT_PINNED_HINTS = ("not pinned",)
_SPOOL_IN_MEMORY = 16 * 1024 * 1024

FilesFactory = Callable[[], dict[str, tuple[str, Any, str]]]


def _bool(value: bool) -> str:
    return "true" if value else "false"


class KuboStore(ContentStore):
    """Content in a Kubo daemon at ``api_url``; no request is made until a method is called.

    ``transport`` replaces httpx's network transport (tests pass a recorded one).
    """

    def __init__(
        self,
        api_url: str = DEFAULT_KUBO_API,
        *,
        timeout_s: float = 30.0,
        retries: int = 3,
        backoff_s: float = 0.25,
        max_read_bytes: int = DEFAULT_MAX_READ_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(max_read_bytes=max_read_bytes)
        if not api_url.startswith(("http://", "https://")):
            raise UsageError(f"the Kubo RPC URL must be http(s)://host:port, not {api_url!r}")
        if timeout_s <= 0 or retries < 0 or backoff_s < 0:
            raise UsageError("timeout_s must be positive; retries and backoff_s not negative")
        self.api_url = api_url.rstrip("/")
        self._retries = retries
        self._backoff_s = backoff_s
        self._client = httpx.Client(
            base_url=f"{self.api_url}/api/v0/",
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            transport=transport,
            headers={"User-Agent": "worldgym-storage"},
        )

    def __repr__(self) -> str:
        return f"KuboStore({self.api_url!r})"

    def close(self) -> None:
        self._client.close()

    # -- HTTP ----------------------------------------------------------------------------

    def _post(
        self,
        endpoint: str,
        params: dict[str, str],
        *,
        files: FilesFactory | None = None,
        max_body: int = _MAX_JSON_BODY,
        retry: bool = True,
    ) -> bytes:
        """POST to the RPC API; the body of a 200 answer, or a translated error."""
        attempts = 1 + (self._retries if retry else 0)
        problem = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self._backoff_s * 2 ** (attempt - 1))
            try:
                with self._client.stream(
                    "POST", endpoint, params=params, files=files() if files else None
                ) as response:
                    body = self._read(response, endpoint, params, max_body)
                    status = response.status_code
            except httpx.TimeoutException:
                problem = f"did not answer within {self._client.timeout.read}s"
                continue
            except httpx.TransportError as exc:
                problem = f"cannot be reached ({type(exc).__name__}: {exc})"
                continue
            if status == 200:
                return body
            if status in _RETRY_STATUS:
                problem = f"answered HTTP {status}"
                continue
            raise self._error(endpoint, status, body)
        raise StoreUnavailableError(
            f"the Kubo RPC API at {self.api_url} {problem} ({endpoint}, {attempts} attempt(s)); "
            "start the daemon (`ipfs daemon`) or point WORLDGYM_STORAGE__KUBO_API at it"
        )

    def _read(
        self, response: httpx.Response, endpoint: str, params: dict[str, str], max_body: int
    ) -> bytes:
        body = bytearray()
        for piece in response.iter_bytes():
            body += piece
            if len(body) > max_body:
                what = params.get("arg", endpoint)
                if endpoint == "block/get":
                    raise IntegrityError(
                        f"Kubo sent more than {max_body} bytes for block {what}", cid=what
                    )
                raise BackendError(f"Kubo's answer to {endpoint} is over {max_body} bytes")
        return bytes(body)

    def _error(self, endpoint: str, status: int, body: bytes) -> BackendError:
        try:
            message = str(json.loads(body).get("Message", ""))
        except (ValueError, AttributeError):
            message = body[:300].decode("utf-8", "replace").strip()
        if status == 404:
            hint = f"is {self.api_url} a Kubo RPC API (port 5001, not the gateway)?"
        elif status == 403:
            hint = "the daemon refused the request (check API.Authorizations / HTTP headers)"
        elif status == 405:
            hint = "the daemon expects POST"
        else:
            hint = message or "no message"
        return BackendError(
            f"Kubo {endpoint} failed (HTTP {status}): {hint}", status=status, detail=message
        )

    @staticmethod
    def _json(body: bytes, endpoint: str) -> dict[str, Any]:
        try:
            value = json.loads(body)
        except ValueError:
            raise BackendError(f"Kubo's answer to {endpoint} is not JSON: {body[:200]!r}") from None
        if not isinstance(value, dict):
            raise BackendError(f"Kubo's answer to {endpoint} is not a JSON object")
        return value

    # -- writing -------------------------------------------------------------------------

    def _put(self, source: Source, options: ImportOptions, *, pin: bool) -> Cid:
        if not options.is_kubo_default_layout:
            raise UsageError("the Kubo backend adds with 256 KiB chunks and 174 links only")
        params = {
            "cid-version": str(options.cid_version),
            "raw-leaves": _bool(options.leaves_raw),
            "chunker": f"size-{options.chunk_size}",
            "hash": "sha2-256",
            "pin": _bool(pin),
            "progress": "false",
        }
        with _replayable(source) as (files, data_for_cid):
            expected = import_content(data_for_cid(), options).cid
            body = self._post("add", params, files=files)
        reported = self._added_root(body)
        try:
            reported_cid = Cid.parse(reported)
        except ValueError:
            raise BackendError(f"Kubo's add reported {reported!r}, not a CID") from None
        if reported_cid != expected:
            raise BackendError(
                f"Kubo stored the content as {reported} but its CID is {expected} with "
                "these options: the daemon imports differently (Import.UnixFSFileMaxLinks "
                "or another Kubo profile?); set Kubo's Import settings to their defaults"
            )
        return expected

    def _added_root(self, body: bytes) -> str:
        root = ""
        for line in body.splitlines():
            if not line.strip():
                continue
            event = self._json(line, "add")
            if event.get("Type") == "error":
                raise BackendError(f"Kubo add failed: {event.get('Message', event)}")
            if "Hash" in event:
                root = str(event["Hash"])
        if not root:
            raise BackendError("Kubo's add answer has no Hash (the upload may have been cut)")
        return root

    # -- primitives ----------------------------------------------------------------------

    def get_block(self, cid: Cid) -> bytes:
        try:
            return self._post("block/get", {"arg": str(cid)}, max_body=MAX_BLOCK_SIZE)
        except BackendError as exc:
            raise self._maybe_not_found(exc, cid) from None

    def _maybe_not_found(self, exc: BackendError, cid: Cid) -> Exception:
        if any(hint in exc.detail.lower() for hint in _NOT_FOUND_HINTS):
            return ContentNotFoundError(
                f"{cid} is not available from the Kubo daemon at {self.api_url}: {exc.detail}",
                cid=str(cid),
            )
        return exc

    def _has_block(self, cid: Cid) -> bool:
        try:
            stat = self._json(
                self._post("block/stat", {"arg": str(cid), "offline": "true"}), "block/stat"
            )
        except BackendError as exc:
            if isinstance(self._maybe_not_found(exc, cid), ContentNotFoundError):
                return False
            raise
        return "Key" in stat

    def _pin(self, cid: Cid) -> None:
        try:
            answer = self._json(
                self._post("pin/add", {"arg": str(cid), "recursive": "true"}), "pin/add"
            )
        except BackendError as exc:
            raise self._maybe_not_found(exc, cid) from None
        pinned = [Cid.parse(str(p)).to_v1() for p in answer.get("Pins") or []]
        if cid.to_v1() not in pinned:
            raise BackendError(f"Kubo's pin/add answer does not list {cid}: {answer}")

    def _unpin(self, cid: Cid) -> bool:
        try:
            self._post("pin/rm", {"arg": str(cid), "recursive": "true"})
        except BackendError as exc:
            if any(hint in exc.detail.lower() for hint in _NOT_PINNED_HINTS):
                return False
            raise
        return True

    def _is_pinned(self, cid: Cid) -> bool:
        try:
            answer = self._json(
                self._post("pin/ls", {"arg": str(cid), "type": "recursive"}), "pin/ls"
            )
        except BackendError as exc:
            if any(hint in exc.detail.lower() for hint in _NOT_PINNED_HINTS):
                return False
            raise
        keys = answer.get("Keys") or {}
        return any(Cid.parse(key).to_v1() == cid.to_v1() for key in keys)

    def pins(self) -> list[str]:
        """Recursively pinned roots, as canonical CID strings (``Qm...`` or base32 ``b...``).

        Daemons list keys in their own base (go-ipfs before 0.5 writes CIDv1 in
        base58btc, ``zdj7...``), so each key is parsed and written canonically.
        """
        answer = self._json(self._post("pin/ls", {"type": "recursive"}), "pin/ls")
        keys = answer.get("Keys") or {}
        try:
            return sorted(str(Cid.parse(str(key))) for key in keys)
        except ValueError as exc:
            raise BackendError(
                f"Kubo's pin/ls answer lists a key that is not a CID: {exc}"
            ) from None

    def version(self) -> dict[str, Any]:
        """The daemon's ``/api/v0/version`` answer (Version, Commit, Repo, System, Golang)."""
        return self._json(self._post("version", {}), "version")


@contextlib.contextmanager
def _replayable(
    source: Source,
) -> Iterator[tuple[FilesFactory, Callable[[], Source]]]:
    """``(files factory for httpx, source for computing the CID)``, both re-readable.

    Bytes are used as they are; a path is reopened per attempt; a stream is
    spooled to a temporary file first (an upload may need to be retried).
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        yield (lambda: {"file": ("blob", data, "application/octet-stream")}), (lambda: data)
        return
    with contextlib.ExitStack() as stack:
        if isinstance(source, os.PathLike):
            path = Path(source)

            def reopen() -> BinaryIO:
                return stack.enter_context(path.open("rb"))

        else:
            spool = stack.enter_context(tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY))
            if isinstance(source, io.IOBase) or hasattr(source, "read"):
                shutil.copyfileobj(source, spool, 1024 * 1024)  # type: ignore[arg-type,type-var]
            else:
                for piece in source:
                    spool.write(piece)

            def reopen() -> BinaryIO:
                spool.seek(0)
                return spool  # type: ignore[return-value]

        yield (lambda: {"file": ("blob", reopen(), "application/octet-stream")}), reopen
