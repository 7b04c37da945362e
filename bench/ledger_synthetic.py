"""Synthetic protocol history for the ledger benchmark, emitted as real logs by anvil.

A tiny hand-assembled contract (:data:`EMITTER`) turns its calldata into logs:
records of ``[1 byte: topic count n][n x 32 bytes: topics][2 bytes: length L][L
bytes: data]``, one ``LOGn`` each. The benchmark installs it (``anvil_setCode``)
at the four addresses of a made-up deployment and sends it the events of a long
protocol history encoded exactly as the real contracts encode them, so the node
serves them through the real ``eth_getLogs`` and the ledger cannot tell them
from the contracts' own.

:func:`history` yields ``(contract, topics, data)`` in chain order: the set-up
(environments, validators' stakes, models), then per epoch a seed, ``batches``
submissions, commits and reveals by ``validators`` of the pool, the scores,
the settlement, a credit per batch to its miner and its environment's owner, a
credit per validator, an occasional slash and an unbonding, the finalization and
a few claims. The numbers are plausible, not a replay of the arithmetic: the
benchmark measures indexing and queries, and the tests prove the arithmetic.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from eth_abi import encode as abi_encode
from eth_utils import keccak

from worldgym.chain.protocol_math import (
    default_env_weights,
    make_lane,
    pack_env_weights,
    pack_lanes,
)

__all__ = ["EMITTER", "Shape", "encode_records", "history"]

_OPS = {
    "STOP": 0x00, "ADD": 0x01, "LT": 0x10, "EQ": 0x14, "ISZERO": 0x15, "SHL": 0x1B, "SHR": 0x1C,
    "CALLDATALOAD": 0x35, "CALLDATASIZE": 0x36, "CALLDATACOPY": 0x37, "POP": 0x50,
    "JUMP": 0x56, "JUMPI": 0x57, "JUMPDEST": 0x5B, "REVERT": 0xFD,
    **{f"DUP{i}": 0x7F + i for i in range(1, 17)}, **{f"SWAP{i}": 0x8F + i for i in range(1, 17)},
    **{f"LOG{i}": 0xA0 + i for i in range(5)},
}  # fmt: skip


def _assemble(program: list[object]) -> bytes:
    """Two passes: labels (``"@name"`` defines, ``("PUSH2", "@name")`` uses) get their offsets."""
    labels: dict[str, int] = {}
    for final in (False, True):
        out = bytearray()
        for item in program:
            if isinstance(item, str) and item.startswith("@"):
                labels[item] = len(out)
                out.append(_OPS["JUMPDEST"])
            elif isinstance(item, tuple):
                op, arg = item
                width = int(str(op)[4:])
                value = labels.get(str(arg), 0) if isinstance(arg, str) else int(str(arg))
                out += bytes([0x5F + width]) + value.to_bytes(width, "big")
            else:
                out.append(_OPS[str(item)])
        if final:
            return bytes(out)
    raise AssertionError("unreachable")


def _emitter() -> bytes:
    # stack comments are top-first
    prog: list[object] = [("PUSH1", 0), "@loop"]  # [ptr]
    prog += ["CALLDATASIZE", "DUP2", "LT", "ISZERO", ("PUSH2", "@end"), "JUMPI"]
    prog += ["DUP1", "CALLDATALOAD", ("PUSH1", 0xF8), "SHR"]  # [n, ptr]
    prog += ["DUP1", ("PUSH1", 5), "SHL", "DUP3", "ADD", ("PUSH1", 1), "ADD"]  # [q, n, ptr]
    prog += ["DUP1", "CALLDATALOAD", ("PUSH1", 0xF0), "SHR"]  # [L, q, n, ptr]
    prog += ["DUP1", "DUP3", ("PUSH1", 2), "ADD", ("PUSH1", 0), "CALLDATACOPY"]  # mem[0:L]
    for k in range(1, 5):
        prog += ["DUP3", ("PUSH1", k), "EQ", ("PUSH2", f"@log{k}"), "JUMPI"]
    prog += [("PUSH1", 0), "DUP1", "REVERT"]
    for k in range(1, 5):
        prog += [f"@log{k}", "DUP2", "DUP2", "ADD", ("PUSH1", 2), "ADD"]  # [next, L, q, n, ptr]
        for j, i in enumerate(range(k - 1, -1, -1)):  # topics t(k-1) .. t0
            prog += [f"DUP{5 + j}", ("PUSH1", 1 + 32 * i), "ADD", "CALLDATALOAD"]
        prog += [f"DUP{2 + k}", ("PUSH1", 0), f"LOG{k}"]  # [next, L, q, n, ptr]
        prog += ["SWAP4", "POP", "POP", "POP", "POP", ("PUSH2", "@loop"), "JUMP"]
    prog += ["@end", "STOP"]
    return _assemble(prog)


EMITTER = _emitter()


def encode_records(records: list[tuple[list[bytes], bytes]]) -> bytes:
    """Calldata that makes :data:`EMITTER` emit ``records`` (topics, data) in order."""
    out = bytearray()
    for topics, data in records:
        out.append(len(topics))
        for topic in topics:
            out += topic
        out += len(data).to_bytes(2, "big") + data
    return bytes(out)


def _w(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _addr(value: str) -> bytes:
    return bytes(12) + bytes.fromhex(value[2:])


def _with_tail(static: list[bytes], position: int, tail: bytes) -> bytes:
    """Static words with a dynamic field at ``position`` (its offset word) and its ``tail``."""
    words = [*static[:position], _w(32 * (len(static) + 1)), *static[position:]]
    return b"".join(words) + tail


def _bytes_tail(data: bytes) -> bytes:
    return _w(len(data)) + data + bytes(-len(data) % 32)


def _t(signature: str) -> bytes:
    return keccak(text=signature)


_SIG = {
    "EnvironmentRegistered": _t("EnvironmentRegistered(uint256,address,bytes,uint256)"),
    "VersionPublished": _t("VersionPublished(uint256,uint256,bytes)"),
    "ModelRegistered": _t("ModelRegistered(uint256,uint256,address,bytes,bytes,bytes32)"),
    "Staked": _t("Staked(address,uint256,uint256)"),
    "UnbondRequested": _t("UnbondRequested(address,uint256,uint256)"),
    "Slashed": _t("Slashed(address,uint256,address,uint256)"),
    "SeedSet": _t("SeedSet(uint256,bytes32,uint256)"),
    "BatchSubmitted": _t(
        "BatchSubmitted(uint256,uint256,address,uint256,uint256,uint256,uint256,uint256,bytes)"
    ),
    "Committed": _t("Committed(uint256,address,bytes32,uint256)"),
    "Revealed": _t("Revealed(uint256,address,uint256[],uint256[])"),
    "BatchScored": _t("BatchScored(uint256,uint256,uint256,uint256,uint256)"),
    "EpochSettled": _t("EpochSettled(uint256,uint256,uint256,uint256,uint256,uint256)"),
    "RewardCredited": _t("RewardCredited(uint256,address,uint8,uint256,uint256)"),
    "ValidatorSlashed": _t("ValidatorSlashed(uint256,address,uint256)"),
    "EpochFinalized": _t("EpochFinalized(uint256,uint256)"),
    "RewardClaimed": _t("RewardClaimed(address,uint256)"),
}


@dataclass(frozen=True)
class Shape:
    """How big the synthetic history is."""

    epochs: int
    batches: int = 250
    miners: int = 200
    envs: int = 20
    pool: int = 16  # validators staked
    validators: int = 10  # of them committing each epoch
    models: int = 10
    claims: int = 20  # per epoch

    @property
    def per_epoch(self) -> int:
        """Events in one epoch."""
        return 4 + 4 * self.batches + 3 * self.validators + self.claims

    @property
    def setup(self) -> int:
        """Events before the first epoch."""
        return 2 * self.envs + self.models + self.pool

    @classmethod
    def for_events(cls, events: int) -> Shape:
        """The shape with about ``events`` events (a whole number of epochs)."""
        probe = cls(epochs=1)
        return cls(epochs=max(1, -(-(events - probe.setup) // probe.per_epoch)))


def _account(kind: str, i: int) -> str:
    return "0x" + keccak(text=f"{kind}{i}")[:20].hex()


def history(shape: Shape, seed: int = 1) -> Iterator[tuple[str, list[bytes], bytes]]:
    """``(contract, topics, data)`` of every event, in chain order."""
    rng = random.Random(seed)
    wad = 10**18
    owners = [_account("owner", i) for i in range(shape.envs)]
    miners = [_account("miner", i) for i in range(shape.miners)]
    pool = [_account("validator", i) for i in range(shape.pool)]
    for env in range(1, shape.envs + 1):
        cid = _bytes_tail(b"\x01\x55\x12\x20" + keccak(text=f"env{env}"))
        owner = _addr(owners[env - 1])
        yield (
            "EnvironmentRegistry",
            [_SIG["EnvironmentRegistered"], _w(env), owner],
            _with_tail([_w(100 * wad)], 0, cid),
        )
        yield (
            "EnvironmentRegistry",
            [_SIG["VersionPublished"], _w(env), _w(1)],
            _with_tail([], 0, cid),
        )
    registrar = _addr(_account("refinery", 0))
    for model in range(1, shape.models + 1):
        ckpt = _bytes_tail(b"\x01\x55\x12\x20" + keccak(text=f"model{model}"))
        data = _bytes_tail(b"\x01\x55\x12\x20" + keccak(text=f"data{model}"))
        body = _w(96) + _w(96 + len(ckpt)) + keccak(text=f"metrics{model}") + ckpt + data
        yield "ModelRegistry", [_SIG["ModelRegistered"], _w(model), _w(model - 1), registrar], body
    stakes = {v: (1_000 + 500 * rng.randrange(8)) * wad for v in pool}
    for v, amount in stakes.items():
        yield "Staking", [_SIG["Staked"], _addr(v)], _w(amount) + _w(amount)

    for epoch in range(shape.epochs):
        e = _w(epoch)
        yield "WorldGym", [_SIG["SeedSet"], e], keccak(_w(epoch)) + _w(epoch * 30)
        batches = []
        for i in range(shape.batches):
            miner = rng.choice(miners)
            env = rng.randrange(1, shape.envs + 1)
            traces = rng.choice((16, 32, 64, 128))
            batches.append((miner, env, traces))
            cid = _bytes_tail(b"\x01\x55\x12\x20" + keccak(text=f"{epoch}/{i}"))
            model = min(shape.models, 1 + epoch * shape.models // shape.epochs)
            yield (
                "WorldGym",
                [_SIG["BatchSubmitted"], e, _addr(miner), _w(env)],
                _with_tail([_w(i), _w(1), _w(0), _w(traces), _w(model)], 5, cid),
            )
        active = rng.sample(pool, shape.validators)
        for v in active:
            yield "WorldGym", [_SIG["Committed"], e, _addr(v)], keccak(e + _addr(v)) + _w(stakes[v])
        consensus = [rng.randrange(0, 10_001) for _ in range(shape.batches)]
        lazy = active[-1] if rng.random() < 0.05 else None
        for v in active:
            if v == lazy:
                continue
            lanes = [
                make_lane(max(0, min(10_000, c + rng.randrange(-300, 301))), i % 128)
                for i, c in enumerate(consensus)
            ]
            weights = pack_env_weights(default_env_weights(sorted({b[1] for b in batches})))
            data = abi_encode(["uint256[]", "uint256[]"], [pack_lanes(lanes), weights])
            yield "WorldGym", [_SIG["Revealed"], e, _addr(v)], data
        for i, (c, (_, _, traces)) in enumerate(zip(consensus, batches, strict=True)):
            yield "WorldGym", [_SIG["BatchScored"], e, _w(i)], _w(c) + _w(i % 128) + _w(c * traces)
        pots = [1_000 * wad, 0, 700 * wad, 200 * wad, 100 * wad]
        yield "WorldGym", [_SIG["EpochSettled"], e], b"".join(map(_w, pots))
        total = sum(c * n for c, (_, _, n) in zip(consensus, batches, strict=True)) or 1
        for i, (c, (miner, env, traces)) in enumerate(zip(consensus, batches, strict=True)):
            share = c * traces
            yield (
                "WorldGym",
                [_SIG["RewardCredited"], e, _addr(miner), _w(0)],
                _w(i) + _w(pots[2] * share // total + 1),
            )
            yield (
                "WorldGym",
                [_SIG["RewardCredited"], e, _addr(owners[env - 1]), _w(2)],
                _w(env) + _w(pots[4] * share // total + 1),
            )
        for v in active:
            if v == lazy:
                slashed = stakes[v] // 10
                stakes[v] -= slashed
                topics = [_SIG["Slashed"], _addr(v), _addr(_account("gym", 0))]
                yield "Staking", topics, _w(slashed) + _w(1_000)  # 10% in basis points
                yield "WorldGym", [_SIG["ValidatorSlashed"], e, _addr(v)], _w(slashed)
            else:
                yield (
                    "WorldGym",
                    [_SIG["RewardCredited"], e, _addr(v), _w(1)],
                    _w(0) + _w(pots[3] // shape.validators),
                )
        yield "WorldGym", [_SIG["EpochFinalized"], e], _w(rng.randrange(10**6))
        for account in rng.sample([*miners, *owners, *pool], shape.claims):
            yield "WorldGym", [_SIG["RewardClaimed"], _addr(account)], _w(rng.randrange(wad))
