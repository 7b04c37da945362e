"""Ledger benchmark: index ~1,000,000 synthetic events, then time every query.

A made-up deployment whose four contracts are a log emitter on anvil
(``bench/ledger_synthetic.py``) serves a long protocol history through the real
``eth_getLogs``. Measured in the same run, on the same block range and chunks:

* **baseline**: raw ``eth_getLogs`` over the range (JSON-RPC + JSON parsing), logs/s;
* **indexing**: ``Indexer.sync`` into a fresh SQLite ledger (the same calls, plus
  decoding, rows, aggregates and one transaction per chunk), events/s, and its
  ratio to the baseline;
* **queries**: p50 / p99 of each ledger query (``address``, ``epoch``, ``env``,
  ``top`` per role, with and without an epoch range, ``models``, ``epochs``,
  ``status``) over random arguments; goal p99 <= 50 ms.

Run ``python bench/ledger_bench.py [--events 1000000] [--chunk 50] [--samples 200]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_synthetic import EMITTER, Shape, encode_records, history
from rich.console import Console
from rich.progress import Progress
from web3 import Web3

from worldgym.chain.manifest import ContractAddresses, Deployment, ProtocolParams
from worldgym.deploy.anvil import AnvilProcess
from worldgym.ledger.indexer import ChainReader, Indexer
from worldgym.ledger.queries import Ledger
from worldgym.ledger.schema import open_engine
from worldgym.ledger.store import LedgerStore

_LOGS_PER_TX = 400
_CONTRACTS = ("EnvironmentRegistry", "ModelRegistry", "Staking", "WorldGym")


def _deployment(w3: Web3, block: int) -> Deployment:
    names = {
        n: Web3.to_checksum_address("0x" + bytes([0xE0 + i]).hex() * 20)
        for i, n in enumerate(_CONTRACTS)
    }
    for address in names.values():
        w3.provider.make_request("anvil_setCode", [address, "0x" + EMITTER.hex()])  # type: ignore[arg-type]
    return Deployment(
        chain_id=int(w3.eth.chain_id), deploy_block=block, deployer=w3.eth.accounts[0],
        addresses=ContractAddresses(
            token=Web3.to_checksum_address("0x" + "ef" * 20),
            environment_registry=names["EnvironmentRegistry"],
            staking=names["Staking"], model_registry=names["ModelRegistry"],
            worldgym=names["WorldGym"],
        ),
        # two-block epochs, so the chain's clock has reached every synthetic epoch
        params=ProtocolParams(epoch_length=2, commit_blocks=1, reveal_blocks=1),
        source_digest="synthetic",
    )  # fmt: skip


def _emit(w3: Web3, deployment: Deployment, shape: Shape, console: Console) -> int:
    """Send the synthetic history; return how many logs it made."""
    by_name = deployment.addresses.by_contract()
    sender = w3.eth.accounts[0]
    pending: list[tuple[list[bytes], bytes]] = []
    current = ""
    sent = 0

    def flush() -> None:
        nonlocal sent
        if pending:
            tx = {"from": sender, "to": by_name[current], "gas": 29_000_000,
                  "data": "0x" + encode_records(pending).hex()}  # fmt: skip
            receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx))  # type: ignore[arg-type]
            if receipt["status"] != 1 or len(receipt["logs"]) != len(pending):
                raise RuntimeError(
                    f"the emitter made {len(receipt['logs'])} of {len(pending)} logs"
                )
            sent += len(pending)
            pending.clear()

    total = shape.setup + shape.epochs * shape.per_epoch
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("emitting synthetic events", total=total)
        for contract, topics, data in history(shape):
            if contract != current or len(pending) >= _LOGS_PER_TX:
                flush()
                bar.update(task, completed=sent)
                current = contract
            pending.append((topics, data))
        flush()
    return sent


def _raw_getlogs(w3: Web3, deployment: Deployment, start: int, end: int, chunk: int) -> int:
    reader = ChainReader(w3)
    addresses = sorted(a.lower() for n, a in deployment.addresses.by_contract().items()
                       if n in _CONTRACTS)  # fmt: skip
    logs = 0
    for first in range(start, end + 1, chunk):
        reader.block_hash(min(first + chunk - 1, end))  # the indexer reads it too
        logs += len(reader.logs(addresses, first, min(first + chunk - 1, end)))
    return logs


def _percentiles(run: Callable[[], object], samples: int) -> tuple[float, float, float, float]:
    """(wall p50, wall p99, CPU p50, CPU p99) in ms. SQLite runs in this process, so CPU time
    is the query's cost without the waits a loaded machine adds to the wall time."""
    wall, cpu = [], []
    for _ in range(samples):
        began, began_cpu = time.perf_counter(), time.process_time()
        run()
        cpu.append((time.process_time() - began_cpu) * 1000)
        wall.append((time.perf_counter() - began) * 1000)

    def p99(xs: list[float]) -> float:
        return sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.99))]

    return statistics.median(wall), p99(wall), statistics.median(cpu), p99(cpu)


def _queries(ledger: Ledger, shape: Shape, rng: random.Random) -> dict[str, Callable[[], Any]]:
    from ledger_synthetic import _account  # the same addresses the history used

    miners = [_account("miner", i) for i in range(shape.miners)]
    owners = [_account("owner", i) for i in range(shape.envs)]
    pool = [_account("validator", i) for i in range(shape.pool)]
    last = shape.epochs - 1

    def span() -> tuple[int, int]:
        first = rng.randrange(shape.epochs)
        return first, min(last, first + rng.randrange(100))

    return {
        "address (miner)": lambda: ledger.address(rng.choice(miners)),
        "address (validator)": lambda: ledger.address(rng.choice(pool)),
        "address (env owner)": lambda: ledger.address(rng.choice(owners)),
        "epoch E": lambda: ledger.epoch(rng.randrange(shape.epochs)),
        "env ID": lambda: ledger.env(rng.randrange(1, shape.envs + 1)),
        "top miner": lambda: ledger.top("miner"),
        "top miner --epochs A:B": lambda: ledger.top("miner", epochs=span()),
        "top validator": lambda: ledger.top("validator"),
        "top validator --epochs A:B": lambda: ledger.top("validator", epochs=span()),
        "top env": lambda: ledger.top("env"),
        "top env --epochs A:B": lambda: ledger.top("env", epochs=span()),
        "models": ledger.models,
        "epochs (latest 20)": lambda: ledger.epochs(20),
        "envs": ledger.envs,
        "status": ledger.status,
    }


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=50, help="blocks per eth_getLogs")
    parser.add_argument("--samples", type=int, default=200, help="runs of each query")
    parser.add_argument("--dir", type=Path, default=None, help="where the SQLite file goes")
    args = parser.parse_args()
    console = Console()
    shape = Shape.for_events(args.events)
    with AnvilProcess() as node, tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 600}))
        deployment = _deployment(w3, w3.eth.block_number + 1)
        began = time.perf_counter()
        events = _emit(w3, deployment, shape, console)
        start, end = deployment.deploy_block, w3.eth.block_number
        console.print(
            f"{events:,} synthetic events ({shape.epochs} epochs x {shape.per_epoch} + "
            f"{shape.setup}) in blocks {start}..{end}, emitted in "
            f"{time.perf_counter() - began:.0f}s"
        )

        began = time.perf_counter()
        raw = _raw_getlogs(w3, deployment, start, end, args.chunk)
        raw_s = time.perf_counter() - began
        assert raw == events, (raw, events)

        store = LedgerStore(open_engine(f"sqlite:///{tmp}/ledger.sqlite"))
        indexer = Indexer(w3, deployment, store, confirmations=0, chunk_blocks=args.chunk,
                          genesis_block=start)  # fmt: skip
        began = time.perf_counter()
        report = indexer.sync()
        index_s = time.perf_counter() - began
        assert report.events == events, (report.events, events)
        size = (Path(tmp) / "ledger.sqlite").stat().st_size

        console.print(f"raw eth_getLogs     {raw / raw_s:>10,.0f} logs/s   ({raw_s:.1f}s)")
        console.print(f"ledger indexing     {events / index_s:>10,.0f} events/s ({index_s:.1f}s),"
                      f" ratio {raw_s / index_s:.2f} of raw eth_getLogs; database "
                      f"{size / 2**20:,.0f} MiB")  # fmt: skip

        ledger = Ledger(store)
        rng = random.Random(3)
        # Serve queries like the dashboard does: the start-up heap frozen out of the garbage
        # collector's full passes (see worldgym.ledger.dashboard.server._freeze_heap).
        gc.collect()
        gc.freeze()
        worst = worst_cpu = 0.0
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        console.print(
            f"\nquery p50 / p99 over {args.samples} runs (goal p99 <= 50 ms); load average "
            f"{load} on {os.cpu_count()} CPUs\n  {'':<28} {'wall':>19}   {'CPU':>19}"
        )
        for name, query in _queries(ledger, shape, rng).items():
            query()  # warm
            p50, p99, c50, c99 = _percentiles(query, args.samples)
            worst, worst_cpu = max(worst, p99), max(worst_cpu, c99)
            flag = "" if p99 <= 50 else "  (wall over the goal)"
            console.print(
                f"  {name:<28} {p50:7.2f} / {p99:7.2f} ms   {c50:7.2f} / {c99:7.2f} ms{flag}"
            )
        console.print(
            f"worst p99: {worst:.2f} ms wall, {worst_cpu:.2f} ms CPU; goal "
            f"{'met' if worst <= 50 else 'NOT met'} on wall time"
        )


if __name__ == "__main__":
    main()
