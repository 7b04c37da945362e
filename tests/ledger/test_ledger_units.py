"""The ledger's parts that need no chain: amounts, log decoding, the clock, settings, identity."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak

from worldgym.client.ledger_settings import LedgerSettings, default_database_url
from worldgym.ledger.common import parse_epochs, phase_of, windows_of
from worldgym.ledger.errors import LedgerDatabaseError, LedgerDecodeError, LedgerQueryError
from worldgym.ledger.events import EventDecoder
from worldgym.ledger.schema import StakeKind, open_engine
from worldgym.ledger.standings import replay_stake
from worldgym.ledger.store import Identity, LedgerStore
from worldgym.ledger.wei import MAX_WEI, join_wei, split_wei

_ADDRESSES = {
    "EnvironmentRegistry": "0x" + "11" * 20,
    "ModelRegistry": "0x" + "22" * 20,
    "Staking": "0x" + "33" * 20,
    "WorldGym": "0x" + "44" * 20,
}
_BATCH = "BatchSubmitted(uint256,uint256,address,uint256,uint256,uint256,uint256,uint256,bytes)"
_MINER = "0x" + "ab" * 20
# a BatchSubmitted whose cid points far outside the data
_FAR_OFFSET = "0x" + encode(["uint256"] * 6, [0] * 5 + [10**6]).hex() + "00" * 64


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _batch_log(**override: Any) -> dict[str, Any]:
    data = encode(["uint256"] * 5 + ["bytes"], [3, 0, 2, 64, 1, b"\x01\x55cid"])
    log = {
        "address": _ADDRESSES["WorldGym"],
        "topics": ["0x" + keccak(text=_BATCH).hex(), _word(7), "0x" + "00" * 12 + "ab" * 20,
                   _word(2)],
        "data": "0x" + data.hex(), "blockNumber": "0x10", "blockHash": "0x" + "cd" * 32,
        "logIndex": "0x2", "transactionHash": "0x" + "ef" * 32, "removed": False,
    }  # fmt: skip
    log.update(override)
    return log


def test_amounts_are_exact_and_additive_in_limbs() -> None:
    rng = random.Random(7)
    values = [rng.randrange(MAX_WEI) for _ in range(1_000)] + [0, MAX_WEI - 1]
    limbs = [split_wei(v) for v in values]
    assert [join_wei(*x) for x in limbs] == values
    assert join_wei(sum(h for h, _ in limbs), sum(lo for _, lo in limbs)) == sum(values)
    assert join_wei(None, None) == 0
    for bad in (-1, MAX_WEI):
        with pytest.raises(LedgerDecodeError, match="outside"):
            split_wei(bad)


def test_a_batch_log_decodes_with_every_field() -> None:
    (log,) = EventDecoder(_ADDRESSES).decode_all([_batch_log()])
    assert (log.name, log.block, log.log_index) == ("BatchSubmitted", 16, 2)
    assert log.args == {
        "epoch": 7, "miner": _MINER, "envId": 2, "index": 3, "envVersion": 0, "sequence": 2,
        "traceCount": 64, "modelId": 1, "cid": b"\x01\x55cid",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"data": "0x" + "00" * 100}, "too short"),
        ({"data": _FAR_OFFSET}, "offset"),
        ({"topics": ["0x" + keccak(text=_BATCH).hex(), _word(7)]}, "topics"),
        ({"topics": ["0x" + keccak(text=_BATCH).hex(), _word(7), _word(2**200), _word(2)]},
         "not an address"),
        ({"blockNumber": "12"}, "hex quantity"),
        ({"blockHash": "0x1234"}, "32 bytes"),
        ({"data": "0x" + "00" * (64 * 1024 + 32)}, "at most"),
    ],
)  # fmt: skip
def test_a_malformed_log_is_refused(override: dict[str, Any], message: str) -> None:
    with pytest.raises(LedgerDecodeError, match=message):
        EventDecoder(_ADDRESSES).decode(_batch_log(**override))


def test_logs_not_followed_are_dropped() -> None:
    decoder = EventDecoder(_ADDRESSES)
    assert decoder.decode(_batch_log(address="0x" + "99" * 20)) is None  # another emitter
    assert decoder.decode(_batch_log(topics=["0x" + "00" * 32])) is None  # another event
    assert decoder.decode(_batch_log(removed=True)) is None


def _identity(**kw: Any) -> Identity:
    base = {"chain_id": 31337, "worldgym": "0x" + "44" * 20, "deploy_block": 1,
            "genesis_block": 5, "epoch_length": 30, "commit_blocks": 15, "reveal_blocks": 15,
            "slash_bps": 1_000}  # fmt: skip
    return Identity(**{**base, **kw})


def test_phases_follow_the_contract_windows() -> None:
    ident = _identity()
    assert windows_of(ident, 0) == {
        "submit": (5, 35), "commit": (35, 50), "reveal": (50, 65), "finalize": (65, None)
    }  # fmt: skip
    phases = [phase_of(ident, head, 0, started=False, finalized=False)
              for head in (4, 5, 34, 35, 49, 50, 64, 65)]  # fmt: skip
    assert phases == ["future", "submit", "submit", "commit", "commit", "reveal", "reveal",
                      "finalize"]  # fmt: skip
    assert phase_of(ident, 70, 0, started=True, finalized=False) == "finalizing"
    assert phase_of(ident, 70, 0, started=True, finalized=True) == "finalized"


def test_stake_replay_slashes_active_and_unbonding_like_the_contract() -> None:
    def ev(
        kind: int,
        amount: int,
        staked: int | None = None,
        release: int | None = None,
        bps: int | None = None,
    ) -> Any:
        hi, lo = split_wei(amount)
        shi, slo = split_wei(staked) if staked is not None else (None, None)
        return SimpleNamespace(kind=kind, amount_hi=hi, amount_lo=lo, staked_hi=shi,
                               staked_lo=slo, release_epoch=release, bps=bps)  # fmt: skip

    events = [ev(StakeKind.STAKED, 1_000, staked=1_000), ev(StakeKind.UNBOND, 400, release=5),
              ev(StakeKind.SLASHED, 100, bps=1_000)]  # fmt: skip
    assert replay_stake(events) == (540, 360, 5)  # 10% of 600 and 10% of 400
    # a miner's slash takes another fraction (the event says which): half of each part
    events.append(ev(StakeKind.SLASHED, 450, bps=5_000))
    assert replay_stake(events) == (270, 180, 5)
    events.append(ev(StakeKind.WITHDRAWN, 180))
    assert replay_stake(events) == (270, 0, None)


def test_epoch_ranges_parse_or_say_what_to_write() -> None:
    assert parse_epochs("3:9") == (3, 9)
    assert parse_epochs("4") == (4, 4)
    assert parse_epochs(None) is None
    for bad in ("a:b", "9:3", "-1:2"):
        with pytest.raises(LedgerQueryError):
            parse_epochs(bad)


def test_settings_and_database_identity(tmp_path: Path) -> None:
    settings = LedgerSettings()
    assert (settings.confirmations_for(31337), settings.confirmations_for(1)) == (0, 12)
    assert LedgerSettings(confirmations=3).confirmations_for(31337) == 3
    url = default_database_url(tmp_path, 31337, "0xABC")
    assert url == f"sqlite:///{tmp_path}/ledger/31337-0xabc.sqlite"
    with pytest.raises(LedgerDatabaseError, match="SQLite or PostgreSQL"):
        open_engine("mysql://user@host/db")
    with pytest.raises(LedgerDatabaseError, match="not a database URL"):
        open_engine("not a url")
    store = LedgerStore(open_engine(url))
    store.bind(_identity())
    store.bind(_identity())  # the same deployment again: fine
    with pytest.raises(LedgerDatabaseError, match="indexes the deployment"):
        store.bind(_identity(worldgym="0x" + "55" * 20))
    assert store.identity() == _identity()
