"""The dashboard's HTTP server: one page, its script and style, a JSON API and PNG plots.

Standard library only (``http.server``), bound to the loopback interface. The
page is static; the script fetches the JSON API and renders it, so everything
the page shows is also one ``curl`` away::

    GET /api/status                   ledger, clock and sync state
    GET /api/epochs?limit=N           latest epochs with their phases
    GET /api/epoch/E                  batches, scores per validator, split
    GET /api/top?role=R&epochs=A:B    leaderboard (miner | validator | env)
    GET /api/address/ADDR             an address in every role
    GET /api/envs, /api/env/ID        environments and royalties
    GET /api/models                   model lineage (metrics where found)
    GET /api/rounds                   the refinery's rounds, if it wrote any
    GET /plot/rewards.png[?address=A] rewards per epoch, by role
    GET /plot/learning_curve.png      the refinery's learning curve (its own PNG)

A background thread keeps the ledger synced every ``sync_every`` seconds; a
node that cannot be reached shows as a banner, the page keeps answering.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from worldgym.core.errors import UsageError, WorldGymError
from worldgym.ledger.common import parse_epochs
from worldgym.ledger.dashboard.charts import rewards_png
from worldgym.ledger.errors import LedgerQueryError
from worldgym.ledger.metrics import history_path, load_rounds
from worldgym.ledger.queries import Ledger, MetricsResolver
from worldgym.ledger.reports import to_jsonable
from worldgym.refinery.curve import CURVE_NAME

__all__ = ["LOOPBACK", "DashboardServer"]

LOOPBACK = ("127.0.0.1", "::1", "localhost")
_STATIC = Path(__file__).resolve().parent / "static"
_ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_MAX_PARAM = 200
_PLOT_CACHE = 64

Response = tuple[int, str, bytes]


class DashboardServer:
    """Serves the dashboard of one ledger on ``host:port`` (a free port by default)."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        refinery_dir: Path | None = None,
        sync: Callable[[], object] | None = None,
        sync_every: float = 5.0,
        metrics: MetricsResolver | None = None,
        balance: Callable[[str], int | None] | None = None,
        quiet: bool = True,
        status: Callable[[str], None] | None = None,
    ) -> None:
        """``sync`` indexes new blocks (None: never); ``balance`` reads a token balance;
        ``status`` prints a line when syncing stops working and when it works again."""
        if host not in LOOPBACK:
            raise UsageError(f"the dashboard listens on the loopback interface only, not {host!r}")
        self.ledger = ledger
        self.refinery_dir = refinery_dir
        self.metrics = metrics
        self.balance = balance
        self.quiet = quiet
        self.status = status
        self._sync = sync
        self._sync_every = max(sync_every, 0.5)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._plots: dict[tuple[Any, ...], bytes] = {}
        self.sync_state: dict[str, Any] = {"enabled": sync is not None, "ok": None}
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.dashboard = self  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        """Where the page is."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> DashboardServer:
        """Serve (and sync) in background threads; return self."""
        self._spawn(self._httpd.serve_forever, "dashboard-http")
        if self._sync is not None:
            self._spawn(self._sync_loop, "dashboard-sync")
        return self

    def serve_forever(self) -> None:
        """Serve until Ctrl-C (or :meth:`stop` from another thread), then shut down cleanly.

        This is the process's main loop (``worldgym dashboard``), so it first freezes the
        start-up heap out of the garbage collector's way (:func:`_freeze_heap`).
        """
        _freeze_heap()
        if self._sync is not None:
            self._spawn(self._sync_loop, "dashboard-sync")
        try:
            self._httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving and syncing; wait for the threads."""
        self._stop.set()
        if any(th.name == "dashboard-http" for th in self._threads):
            self._httpd.shutdown()
        self._httpd.server_close()
        for th in self._threads:
            if th is not threading.current_thread():
                th.join(timeout=30)

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        th = threading.Thread(target=target, name=name, daemon=True)
        th.start()
        self._threads.append(th)

    def _sync_loop(self) -> None:
        assert self._sync is not None
        wait = 0.0
        down_since: float | None = None
        while not self._stop.wait(wait):
            wait = self._sync_every
            try:
                self._sync()
                self.sync_state = {"enabled": True, "ok": True, "at": time.time()}
                if down_since is not None:
                    self._say(f"dashboard: syncing again after {time.time() - down_since:.0f} s")
                    down_since = None
            except WorldGymError as exc:  # node down, RPC error: keep serving, say so
                self.sync_state = {
                    "enabled": True,
                    "ok": False,
                    "error": str(exc),
                    "at": time.time(),
                }
                if down_since is None:
                    down_since = time.time()
                    self._say(f"dashboard: not syncing, still serving what is indexed: {exc}")
                wait = min(self._sync_every * 4, 30.0)  # back off while it is down
            except BaseException as exc:
                self.sync_state = {
                    "enabled": False,
                    "ok": False,
                    "at": time.time(),
                    "error": f"syncing stopped: {exc!r}",
                }
                raise

    def _say(self, line: str) -> None:
        if self.status is not None:
            self.status(line)

    # ─── routing ──────────────────────────────────────────────────────────────

    def respond(self, target: str) -> Response:
        """The response to ``GET target``."""
        parts = urlsplit(target)
        path = unquote(parts.path)
        params = {k: v[0][:_MAX_PARAM] for k, v in parse_qs(parts.query).items() if v}
        try:
            if path in _ASSETS:
                name, kind = _ASSETS[path]
                return HTTPStatus.OK, kind, (_STATIC / name).read_bytes()
            if path.startswith("/api/"):
                return self._json(HTTPStatus.OK, self._api(path[5:], params))
            if path == "/plot/rewards.png":
                return self._rewards_plot(params.get("address"))
            if path == "/plot/learning_curve.png":
                return self._learning_curve()
            return self._json(HTTPStatus.NOT_FOUND, {"error": f"no page {path[:80]}"})
        except LedgerQueryError as exc:
            return self._json(HTTPStatus.NOT_FOUND, {"error": str(exc)})
        except (UsageError, ValueError) as exc:
            return self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except WorldGymError as exc:
            return self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(exc)})

    def _api(self, route: str, params: dict[str, str]) -> Any:
        name, _, arg = route.partition("/")
        led = self.ledger
        if name == "status":
            sync = self.sync_state  # read first: the ledger below is at least this fresh
            return {"ledger": to_jsonable(led.status()), "sync": sync}
        if name == "epochs":
            return to_jsonable(led.epochs(_int(params.get("limit", "20"), "limit", 1, 1_000)))
        if name == "epoch" and arg:
            return to_jsonable(led.epoch(_int(arg, "epoch", 0, 2**62)))
        if name == "top":
            span = parse_epochs(params.get("epochs") or None)
            limit = _int(params.get("limit", "20"), "limit", 1, 1_000)
            return to_jsonable(led.top(params.get("role", "miner"), epochs=span, limit=limit))
        if name == "address" and arg:
            report = to_jsonable(led.address(arg))
            if self.balance is not None:
                try:
                    found = self.balance(report["address"])
                except WorldGymError:
                    found = None
                report["balance"] = None if found is None else str(found)
            return report
        if name == "envs":
            return to_jsonable(led.envs())
        if name == "env" and arg:
            return to_jsonable(led.env(_int(arg, "environment id", 1, 2**62)))
        if name == "models":
            return to_jsonable(led.models(self.metrics))
        if name == "rounds":
            return load_rounds(history_path(self.refinery_dir))
        raise LedgerQueryError(f"no API /api/{route[:80]}")

    def _rewards_plot(self, address: str | None) -> Response:
        indexed = self.ledger.store.cursor()
        key = ("rewards", address, indexed.block if indexed else None)
        if key not in self._plots:
            if address:
                report = self.ledger.address(address)
                rows, title = report.rewards[-60:], f"Rewards of {report.address[:10]}… per epoch"
            else:
                rows, title = self.ledger.rewards_by_epoch(60), "Rewards credited per epoch"
            self._cache(key, rewards_png(rows, title))
        return HTTPStatus.OK, "image/png", self._plots[key]

    def _learning_curve(self) -> Response:
        """The refinery's own plot (it redraws it after every round)."""
        png = self.refinery_dir / CURVE_NAME if self.refinery_dir is not None else None
        if png is not None and png.is_file():
            return HTTPStatus.OK, "image/png", png.read_bytes()
        return self._json(HTTPStatus.NOT_FOUND, {"error": "the refinery has no learning curve yet"})

    def _cache(self, key: tuple[Any, ...], value: bytes) -> None:
        if len(self._plots) >= _PLOT_CACHE:
            self._plots.pop(next(iter(self._plots)))
        self._plots[key] = value

    @staticmethod
    def _json(status: int, body: Any) -> Response:
        return status, "application/json", json.dumps(body).encode()


def _freeze_heap() -> None:
    """Move everything allocated so far (web3, SQLAlchemy, pydantic: ~10**5 objects) out of the
    garbage collector's reach. A full collection otherwise walks them all, a ~50 ms pause
    that lands on whichever request triggers it; what requests allocate is still collected."""
    gc.collect()
    gc.freeze()


def _int(text: str, what: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{what} must be a whole number, not {text[:40]!r}") from None
    if not low <= value <= high:
        raise UsageError(f"{what} must be between {low} and {high}")
    return value


class _Handler(BaseHTTPRequestHandler):
    server_version = "WorldGymDashboard"
    sys_version = ""

    def do_GET(self) -> None:
        dashboard: DashboardServer = self.server.dashboard  # type: ignore[attr-defined]
        status, kind, body = dashboard.respond(self.path)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in _HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        dashboard: DashboardServer = self.server.dashboard  # type: ignore[attr-defined]
        if not dashboard.quiet:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")
