"""Transactions per second sent *and mined* on anvil: TxSender against raw web3.py.

Every transaction is a signed EIP-1559 value transfer that is waited for until
its receipt exists. Baselines, measured in the same run on the same anvil:

* raw web3.py: ``account.sign_transaction`` + ``w3.eth.send_raw_transaction``
  + ``w3.eth.wait_for_transaction_receipt``, nonces counted locally, fees read
  once; with web3's default ``poll_latency`` (0.1 s) and with 5 ms.
* concurrently: the raw path pre-signs consecutive nonces and sends them from
  a thread pool (its best case: no nonce bookkeeping at all).

TxSender is measured with gas estimated per transaction (its default) and with
``gas`` given (the same work as the raw path). Run ``python bench/tx_bench.py
[-n 300] [--threads 16]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from worldgym.chain.rpc import make_web3
from worldgym.chain.tx import TxSender
from worldgym.deploy.anvil import AnvilProcess

# anvil's dev keys (mnemonic "test test ... junk"), one account per scenario.
DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
)
SINK = "0x" + "11" * 20


def _raw_sequential(w3: Web3, account: LocalAccount, n: int, poll: float | None) -> None:
    nonce = w3.eth.get_transaction_count(account.address)
    fees = _fees(w3)
    for i in range(n):
        signed = account.sign_transaction(_transfer(w3, account, nonce + i, fees))
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        if poll is None:
            w3.eth.wait_for_transaction_receipt(tx_hash)
        else:
            w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=poll)


def _raw_concurrent(w3: Web3, account: LocalAccount, n: int, threads: int) -> None:
    nonce = w3.eth.get_transaction_count(account.address)
    fees = _fees(w3)
    signed = [account.sign_transaction(_transfer(w3, account, nonce + i, fees)) for i in range(n)]

    def one(i: int) -> None:
        tx_hash = w3.eth.send_raw_transaction(signed[i].raw_transaction)
        w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.005)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(n)))


def _sender_sequential(sender: TxSender, n: int, gas: int | None) -> None:
    tx: dict[str, Any] = {"to": SINK, "value": 1}
    if gas:
        tx["gas"] = gas
    for _ in range(n):
        sender.send(tx)


def _sender_concurrent(sender: TxSender, n: int, threads: int, gas: int | None) -> None:
    tx: dict[str, Any] = {"to": SINK, "value": 1}
    if gas:
        tx["gas"] = gas
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: sender.send(tx), range(n)))


def _fees(w3: Web3) -> dict[str, int]:
    base = int(w3.eth.get_block("latest")["baseFeePerGas"])
    tip = int(w3.eth.max_priority_fee)
    return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}


def _transfer(w3: Web3, account: LocalAccount, nonce: int, fees: dict[str, int]) -> dict[str, Any]:
    return {
        "to": Web3.to_checksum_address(SINK),
        "value": 1,
        "gas": 21_000,
        "nonce": nonce,
        "chainId": 31337,
        **fees,
    }


def _timed(run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    """Run every scenario on one fresh anvil (interleaved rounds) and print rates and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="transactions per scenario and round")
    parser.add_argument("--threads", type=int, default=16, help="threads for concurrent sends")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median rate is shown")
    args = parser.parse_args()
    n, threads = args.n, args.threads
    slow_n = min(n, 50)  # web3's default 0.1 s polling: keep this one short

    accounts = [Account.from_key(k) for k in DEV_KEYS]
    with AnvilProcess(accounts=len(DEV_KEYS) + 1) as node:
        raw_w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 30}))
        w3 = make_web3(node.url)
        scenarios: dict[str, tuple[int, Callable[[], None]]] = {
            "raw_default": (slow_n, lambda: _raw_sequential(raw_w3, accounts[0], slow_n, None)),
            "raw_seq": (n, lambda: _raw_sequential(raw_w3, accounts[0], n, 0.005)),
            "sender_seq_gas": (
                n, lambda: _sender_sequential(TxSender(w3, accounts[1]), n, 21_000)
            ),
            "sender_seq_est": (n, lambda: _sender_sequential(TxSender(w3, accounts[2]), n, None)),
            "raw_conc": (n, lambda: _raw_concurrent(raw_w3, accounts[3], n, threads)),
            "sender_conc_gas": (
                n, lambda: _sender_concurrent(TxSender(w3, accounts[4]), n, threads, 21_000)
            ),
            "sender_conc_est": (
                n, lambda: _sender_concurrent(TxSender(w3, accounts[5]), n, threads, None)
            ),
        }  # fmt: skip
        _sender_sequential(TxSender(w3, accounts[6]), 20, None)  # warm up anvil and sessions
        times: dict[str, list[float]] = {name: [] for name in scenarios}
        for _ in range(args.rounds):
            for name, (_, run) in scenarios.items():
                times[name].append(_timed(run))

    rate = {name: scenarios[name][0] / statistics.median(t) for name, t in times.items()}
    labels = {
        "raw_default": "raw web3.py, default wait_for_transaction_receipt",
        "raw_seq": "raw web3.py, wait_for_transaction_receipt(poll_latency=5ms)",
        "sender_seq_gas": "TxSender.send, gas given",
        "sender_seq_est": "TxSender.send, gas estimated",
        "raw_conc": f"raw web3.py, {threads} threads, pre-signed nonces, 5 ms polls",
        "sender_conc_gas": f"TxSender.send, {threads} threads, gas given",
        "sender_conc_est": f"TxSender.send, {threads} threads, gas estimated",
    }
    print(f"anvil (automine), {n} transfers per scenario, median of {args.rounds} rounds")
    for name, label in labels.items():
        count = scenarios[name][0]
        print(f"  {label:<62} {count:>5} tx  {rate[name]:8.1f} tx/s")
    print("ratios (TxSender / raw web3.py; > 1 means TxSender is faster):")
    ratios = {
        "sequential, gas given  vs raw, default polling": ("sender_seq_gas", "raw_default"),
        "sequential, gas given  vs raw, 5 ms polling": ("sender_seq_gas", "raw_seq"),
        "sequential, estimated  vs raw, 5 ms polling": ("sender_seq_est", "raw_seq"),
        "concurrent, gas given  vs raw, pre-signed": ("sender_conc_gas", "raw_conc"),
        "concurrent, estimated  vs raw, pre-signed": ("sender_conc_est", "raw_conc"),
        "TxSender concurrent    vs TxSender sequential": ("sender_conc_est", "sender_seq_est"),
    }
    for label, (ours, theirs) in ratios.items():
        print(f"  {label:<48} {rate[ours] / rate[theirs]:6.2f}x")


if __name__ == "__main__":
    main()
