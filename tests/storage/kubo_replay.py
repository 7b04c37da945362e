"""Kubo RPC at the transport level: replay recorded exchanges, or record real ones.

``fixtures/kubo_rpc.json`` holds exchanges ``{name, request: {method, path,
match}, response: {status, headers, body | body_file}}``; a request is
answered by the first exchange whose path is the request's and whose
``match`` query parameters all equal the request's. :class:`RecordingTransport`
writes the same format from a real daemon (run the real-daemon tests with
``WORLDGYM_KUBO_API`` and ``WORLDGYM_KUBO_RECORD=<file>``).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = ["Exchange", "RecordingTransport", "ReplayTransport", "load_exchanges"]

FIXTURES = Path(__file__).parent / "fixtures"
# Request parameters that identify an exchange when recording.
_MATCH_KEYS = ("arg", "type", "offline", "cid-version", "raw-leaves", "chunker", "hash")


@dataclass
class Exchange:
    """One recorded request/response pair."""

    name: str
    path: str
    match: dict[str, str]
    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def from_json(cls, row: dict[str, Any], root: Path = FIXTURES) -> Exchange:
        response = row["response"]
        if "body_file" in response:
            body = gzip.decompress((root / response["body_file"]).read_bytes())
        elif "body_b64" in response:
            body = base64.b64decode(response["body_b64"])
        else:
            body = response["body"].encode()
        return cls(
            row["name"],
            row["request"]["path"],
            dict(row["request"]["match"]),
            response["status"],
            dict(response["headers"]),
            body,
        )

    def response(self, request: httpx.Request) -> httpx.Response:
        headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
        return httpx.Response(self.status, headers=headers, content=self.body, request=request)


def load_exchanges(names: Iterable[str] | None = None) -> list[Exchange]:
    """The recorded exchanges (all of them, or those named, in that order)."""
    rows = json.loads((FIXTURES / "kubo_rpc.json").read_text())["exchanges"]
    by_name = {row["name"]: Exchange.from_json(row) for row in rows}
    return list(by_name.values()) if names is None else [by_name[name] for name in names]


@dataclass
class ReplayTransport(httpx.BaseTransport):
    """Answers from recorded exchanges; remembers every request it saw."""

    exchanges: list[Exchange]
    requests: list[httpx.Request] = field(default_factory=list)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if request.method != "POST":
            return httpx.Response(405, text="405 - Method Not Allowed", request=request)
        params = dict(request.url.params)
        for exchange in self.exchanges:
            if exchange.path == request.url.path and all(
                params.get(key) == value for key, value in exchange.match.items()
            ):
                return exchange.response(request)
        raise AssertionError(f"no recorded exchange for {request.url.path} {params}")

    def paths(self) -> list[str]:
        """The paths requested so far, in order."""
        return [request.url.path for request in self.requests]


@dataclass
class RecordingTransport(httpx.BaseTransport):
    """Sends requests to a real daemon and keeps each exchange for :meth:`save`."""

    inner: httpx.BaseTransport = field(default_factory=httpx.HTTPTransport)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        body = response.read()
        params = dict(request.url.params)
        name = request.url.path.removeprefix("/api/v0/").replace("/", "_")
        self.rows.append(
            {
                "name": f"{name}_{len(self.rows)}",
                "request": {
                    "method": request.method,
                    "path": request.url.path,
                    "match": {k: v for k, v in params.items() if k in _MATCH_KEYS},
                },
                "response": {
                    "status": response.status_code,
                    "headers": dict(response.headers),
                    "body_b64": base64.b64encode(body).decode(),
                },
                "source": "recorded from a real daemon",
            }
        )
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("transfer-encoding", "content-encoding", "content-length")
        }
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)

    def save(self, path: Path) -> None:
        """Write the exchanges in the fixtures' format."""
        document = {"about": "recorded by tests/storage/kubo_replay.py", "exchanges": self.rows}
        path.write_text(json.dumps(document, indent=1) + "\n")
