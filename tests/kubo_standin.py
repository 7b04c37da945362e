"""A Kubo RPC stand-in over the embedded store, run as its own process so tests can stop it.

It answers the endpoints :class:`storage.KuboStore` uses (``add``, ``block/get``,
``block/stat``, ``pin/add|rm|ls``, ``version``) the way Kubo does (answers and
error bodies as recorded from a real daemon in ``tests/storage/fixtures``),
from a :class:`storage.LocalStore` directory. Killing the process is a storage
outage as a miner or validator sees one: the connection is refused.

    python -m tests.kubo_standin --store DIR --port PORT     (from the repository root)
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from worldgym.storage import LocalStore
from worldgym.storage.cid import Cid
from worldgym.storage.errors import StorageError

__all__ = ["main", "serve"]

_MAX_UPLOAD = 64 * 1024 * 1024


def _multipart_file(body: bytes, content_type: str) -> bytes:
    """The first part's bytes of a multipart/form-data body."""
    boundary = content_type.split("boundary=", 1)[1].strip().strip('"').encode()
    part = body.split(b"--" + boundary)[1]
    _, _, data = part.partition(b"\r\n\r\n")
    return data.removesuffix(b"\r\n")


class _Handler(BaseHTTPRequestHandler):
    store: LocalStore

    def do_POST(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        endpoint = url.path.removeprefix("/api/v0/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if 0 < length <= _MAX_UPLOAD else b""
        try:
            self._answer(endpoint, query, body)
        except (StorageError, ValueError, KeyError, IndexError) as exc:
            message = "blockservice: key not found" if "not" in str(exc).lower() else str(exc)
            self._json(500, {"Message": message, "Code": 0, "Type": "error"})

    def _answer(self, endpoint: str, query: dict[str, str], body: bytes) -> None:
        store = self.store
        if endpoint == "version":
            self._json(200, {"Version": "0.0.0-standin", "Commit": "", "Repo": "16"})
        elif endpoint == "add":
            data = _multipart_file(body, self.headers["Content-Type"])
            cid = store.put_bytes(
                data,
                cid_version=int(query.get("cid-version", "0")),
                raw_leaves=query.get("raw-leaves") == "true",
                pin=query.get("pin") == "true",
            )
            self._json(200, {"Name": "blob", "Hash": cid, "Size": str(len(data))})
        elif endpoint == "block/get":
            block = store.get_block(Cid.parse(query["arg"]))
            self._send(200, block, "application/octet-stream")
        elif endpoint == "block/stat":
            key = Cid.parse(query["arg"])
            self._json(200, {"Key": str(key), "Size": len(store.get_block(key))})
        elif endpoint == "pin/add":
            store.pin(query["arg"])
            self._json(200, {"Pins": [query["arg"]]})
        elif endpoint == "pin/rm":
            store.unpin(query["arg"])
            self._json(200, {"Pins": [query["arg"]]})
        elif endpoint == "pin/ls":
            pins = store.pins()
            wanted = query.get("arg")
            if wanted is not None and wanted not in pins:
                raise ValueError(f"path '{wanted}' is not pinned")
            keys = [wanted] if wanted else pins
            self._json(200, {"Keys": {k: {"Type": "recursive"} for k in keys}})
        else:
            self._send(404, b"404 page not found", "text/plain")

    def _json(self, status: int, doc: object) -> None:
        self._send(status, json.dumps(doc).encode() + b"\n", "application/json")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(store_dir: Path, port: int) -> None:
    """Serve the store at ``store_dir`` on 127.0.0.1:``port`` until killed."""
    _Handler.store = LocalStore(store_dir, fsync=False)
    ThreadingHTTPServer(("127.0.0.1", port), _Handler).serve_forever()


def main() -> None:
    """``python -m tests.kubo_standin --store DIR --port PORT``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(args.store, args.port)


if __name__ == "__main__":
    main()
