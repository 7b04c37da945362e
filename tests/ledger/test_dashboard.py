"""The dashboard's server: its JSON API and plots over real HTTP, and a clean Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from ledger_helpers import METRICS, History

from worldgym.core.errors import UsageError
from worldgym.ledger.dashboard.server import DashboardServer
from worldgym.ledger.indexer import Indexer
from worldgym.ledger.metrics import metrics_resolver
from worldgym.ledger.queries import Ledger
from worldgym.refinery.curve import CURVE_NAME, HISTORY_NAME

_PNG = b"\x89PNG\r\n\x1a\n"


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _api(server: DashboardServer, path: str) -> Any:
    status, _, body = _get(server.url + "api/" + path)
    assert status == 200, body
    return json.loads(body)


@pytest.fixture
def server(history: History, indexer: Indexer, tmp_path: Path) -> Any:
    refinery = tmp_path / "refinery"
    refinery.mkdir()
    with DashboardServer(
        Ledger(indexer.store), refinery_dir=refinery, sync=indexer.sync, sync_every=0.5,
        metrics=metrics_resolver(refinery), balance=history.chain.balance,
    ) as srv:  # fmt: skip
        for _ in range(200):  # the first sync runs as the server starts
            if srv.sync_state.get("ok"):
                break
            time.sleep(0.05)
        yield srv


def test_the_api_serves_the_ledger_synced_in_the_background(
    history: History, server: DashboardServer
) -> None:
    h = history
    status, headers, page = _get(server.url)
    assert status == 200
    assert b"<title>WorldGym ledger</title>" in page
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert b"://" not in page  # nothing from the internet
    for asset in ("static/app.js", "static/style.css"):
        code, _, body = _get(server.url + asset)
        assert code == 200
        assert b"https://" not in body

    state = _api(server, "status")
    assert state["sync"]["ok"] is True
    assert state["ledger"]["indexed_block"] == h.chain.block_number()

    top = _api(server, "top?role=miner")
    assert [(r["subject"], int(r["reward"])) for r in top["rows"]] == sorted(
        ((m, h.credited(m)) for m in (h.miner_a, h.miner_b)), key=lambda r: -r[1]
    )
    miner_b = _api(server, f"address/{h.miner_b}")
    assert int(miner_b["claimable"]) == h.credited(h.miner_b)
    assert miner_b["balance"] == "0"
    epoch = _api(server, f"epoch/{h.epochs[0]}")
    assert epoch["phase"] == "finalized"
    assert epoch["env_weights"] == {str(e): w for e, w in h.env_weights[h.epochs[0]].items()}
    assert [b["fraud"] for b in epoch["batches"]] == [False, False, True]
    assert _api(server, "env/2")["owner"] == h.owner2
    assert len(_api(server, "epochs?limit=3")) == 3
    assert [m["model_id"] for m in _api(server, "models")] == [1, 2]

    for plot in ("plot/rewards.png", f"plot/rewards.png?address={h.val_a}"):
        code, headers, body = _get(server.url + plot)
        assert code == 200
        assert headers["Content-Type"] == "image/png"
        assert body.startswith(_PNG)


def test_the_learning_curve_and_metrics_come_from_the_refinery(server: DashboardServer) -> None:
    assert server.refinery_dir is not None
    code, _, body = _get(server.url + "plot/learning_curve.png")
    assert code == 404
    assert b"no learning curve yet" in body
    assert _api(server, "rounds") == []
    # what the refinery writes: its history (rounds; model and metrics once registered) and plot
    rounds = [
        {"round": 1, "run": "r1", "accepted": True, "environments": {"sums": {"parent": 0.1,
         "candidate": 0.2}}, "model_id": 2, "metrics": METRICS},
        {"round": 2, "run": "r2", "accepted": False, "environments": {"sums": {"parent": 0.2,
         "candidate": 0.1}}},
    ]  # fmt: skip
    (server.refinery_dir / HISTORY_NAME).write_text(json.dumps({"rounds": rounds}))
    own = _PNG + b"the refinery's own plot"
    (server.refinery_dir / CURVE_NAME).write_bytes(own)
    assert _get(server.url + "plot/learning_curve.png")[2] == own
    assert [(r["round"], r["accepted"]) for r in _api(server, "rounds")] == [(1, True), (2, False)]
    models = _api(server, "models")
    assert models[0]["metrics"] is None
    assert models[1]["metrics"] == METRICS
    assert models[1]["metrics_verified"] is True  # the document whose digest is on chain


def test_bad_requests_get_clear_answers(history: History, server: DashboardServer) -> None:
    for path, code, message in (
        ("api/nothing", 404, "no API"),
        ("api/epoch/999", 404, "has not started"),
        ("api/address/0xnope", 404, "is not an address"),
        ("api/epochs?limit=many", 400, "whole number"),
        ("api/top?role=miner&epochs=9:1", 404, "is empty"),
        ("etc/passwd", 404, "no page"),
        ("static/../server.py", 404, "no page"),
    ):
        status, _, body = _get(server.url + path)
        assert status == code, path
        assert message in json.loads(body)["error"], path


def test_the_dashboard_listens_on_loopback_only(indexer: Indexer) -> None:
    with pytest.raises(UsageError, match="loopback"):
        DashboardServer(Ledger(indexer.store), host="0.0.0.0")


def test_worldgym_dashboard_stops_cleanly_on_ctrl_c(history: History, cli_home: Path) -> None:
    command = "from worldgym.cli.app import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", command, "dashboard", "--sync-every", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("WorldGym dashboard at http://127.0.0.1:"), line
        url = line.split(" at ")[1].split()[0]
        for _ in range(200):
            state = json.loads(_get(url + "api/status")[2])
            if state.get("sync", {}).get("ok"):
                break
            time.sleep(0.05)
        assert state["ledger"]["indexed_block"] == history.chain.block_number()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "dashboard stopped" in out
    assert "Traceback" not in out
