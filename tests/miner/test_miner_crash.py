"""kill -9 in the middle of a submission, restart, and the batch is on chain exactly once.

The real ``worldgym mine`` runs in a subprocess against anvil with automine
off, so its signed transaction waits in the pool; the test kills the process
once the spool says ``sending``. Then either the transaction is mined while
the miner is down, or it is dropped from the pool as if the node had never
seen it; a restarted miner must confirm the first and rebroadcast the same
bytes for the second, and never submit a second copy.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web3.exceptions import TransactionNotFound
from worlds import World, write_config

from worldgym.cli.app import app
from worldgym.cli.miner import spool_dir
from worldgym.client.session import Session
from worldgym.deploy.anvil import AnvilProcess
from worldgym.storage import cid_from_bytes

pytestmark = [pytest.mark.ml, pytest.mark.slow]

_PASSWORD = "correct horse battery staple"


def _mine(config: Path, env_id: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WORLDGYM_CONFIG": str(config), "WORLDGYM_PASSWORD": _PASSWORD}
    args = ["mine", "--env", str(env_id), "--once", "--tasks-per-batch", "2", "--retry-s", "5"]
    return subprocess.Popen(
        [sys.executable, "-m", "worldgym.cli.app", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _sending(spool_db: Path) -> str | None:
    if not spool_db.exists():
        return None
    try:
        with sqlite3.connect(spool_db) as db:
            row = db.execute("SELECT tx_hash FROM batches WHERE state = 'sending'").fetchone()
    except sqlite3.OperationalError:  # the miner is creating the database right now
        return None
    return str(row[0]) if row else None


@pytest.mark.parametrize("while_down", ["mined", "dropped"])
def test_killed_mid_submission_lands_exactly_once(
    world: World, anvil: AnvilProcess, while_down: str
) -> None:
    rpc = world.chain.w3.provider.make_request
    config = write_config(world, anvil.url, _PASSWORD)
    epoch = world.chain.current_epoch()
    world.chain.as_account(world.chain.deployer).poke_seed(
        epoch
    )  # the miner must not need a transaction before its batch
    rpc("evm_setAutomine", [False])

    session = Session(config)
    spool_db = spool_dir(session, world.account.address) / "spool.db"
    proc = _mine(config, world.env_id)
    deadline = time.monotonic() + 120
    tx_hash = None
    while tx_hash is None:
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        assert time.monotonic() < deadline, "the miner never reached the submission"
        time.sleep(0.05)
        tx_hash = _sending(spool_db)
    for _ in range(200):  # the bytes are recorded just before they are sent
        if _known(world, tx_hash):
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    if while_down == "mined":
        rpc("evm_mine", [])
    else:
        rpc("anvil_dropTransaction", [tx_hash])
        assert not _known(world, tx_hash)
    rpc("evm_setAutomine", [True])

    restarted = _mine(config, world.env_id)
    out, _ = restarted.communicate(timeout=180)
    assert restarted.returncode == 0, out.decode()

    batches = world.chain.batches(epoch)
    assert len(batches) == 1, "the batch was submitted more than once"
    with sqlite3.connect(spool_db) as db:
        rows = db.execute("SELECT state, cid, tx_hash FROM batches").fetchall()
    assert rows == [("confirmed", cid_from_bytes(batches[0].cid), tx_hash)]

    status = CliRunner().invoke(app, ["batches", "--json"], env={"WORLDGYM_CONFIG": str(config)})
    assert status.exit_code == 0, status.output
    report = json.loads(status.output)
    assert report["states"] == {"confirmed": 1}
    assert report["batches"][0]["index"] == batches[0].index


def _known(world: World, tx_hash: str) -> bool:
    try:
        world.chain.w3.eth.get_transaction(tx_hash)
    except TransactionNotFound:
        return False
    return True
