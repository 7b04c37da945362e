"""Decoding the contracts' logs, straight from ``eth_getLogs`` JSON, with every field checked.

The ledger reads raw JSON-RPC logs (web3's per-log formatting costs more than
the indexing itself) and decodes the events it follows with decoders built from
the shipped ABIs. Static fields are 32-byte words; the two dynamic shapes the
contracts emit (``bytes`` and ``uint256[]``) are bounded. Anything malformed, out
of range or from an unexpected emitter is a :class:`LedgerDecodeError`: a node's
answer is input, not truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from eth_utils import keccak

from worldgym.chain.artifacts import load_artifact
from worldgym.ledger.errors import LedgerDecodeError

__all__ = [
    "FOLLOWED",
    "MAX_ARRAY_WORDS",
    "MAX_BYTES_FIELD",
    "MAX_LOG_DATA",
    "EventDecoder",
    "Log",
    "parse_hex_bytes",
    "parse_quantity",
]

# The events the ledger stores, by contract (artifact name).
FOLLOWED: Mapping[str, tuple[str, ...]] = {
    "EnvironmentRegistry": (
        "EnvironmentRegistered",
        "VersionPublished",
        "EnvironmentTransferred",
        "EnvironmentDeactivated",
        "BondWithdrawn",
    ),
    "ModelRegistry": ("ModelRegistered",),
    "Staking": ("Staked", "UnbondRequested", "Withdrawn", "Slashed"),
    "WorldGym": (
        "SeedSet",
        "BatchSubmitted",
        "Committed",
        "Revealed",
        "EnvironmentWeighted",
        "BatchScored",
        "MinerSlashed",
        "EpochSettled",
        "RewardCredited",
        "ValidatorSlashed",
        "EpochFinalized",
        "RewardClaimed",
    ),
}

MAX_LOG_DATA = 64 * 1024  # bytes of one log's data (a reveal of 1,024 batches is ~3 KiB)
MAX_BYTES_FIELD = 1024  # a CID is 34..38 bytes
MAX_ARRAY_WORDS = 1024  # packed lanes: 12 per word, so 12,288 batches
_WORD = 32


class Log(NamedTuple):
    """One decoded event log."""

    contract: str
    name: str
    block: int
    block_hash: bytes
    log_index: int
    tx_hash: bytes
    args: dict[str, Any]


def parse_quantity(value: object, what: str) -> int:
    """A JSON-RPC quantity (``0x``-hex) as an int, bounded to 64 bits."""
    if not isinstance(value, str) or not value.startswith("0x") or len(value) > 18:
        raise LedgerDecodeError(f"{what} is not a hex quantity: {value!r:.80}")
    try:
        return int(value, 16)
    except ValueError:
        raise LedgerDecodeError(f"{what} is not a hex quantity: {value!r:.80}") from None


def parse_hex_bytes(value: object, what: str, *, size: int | None = None, limit: int = 0) -> bytes:
    """``0x``-hex data as bytes: exactly ``size`` bytes, or at most ``limit``."""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise LedgerDecodeError(f"{what} is not hex data: {value!r:.80}")
    n = (len(value) - 2) // 2
    if (size is not None and n != size) or (limit and n > limit):
        expected = f"{size} bytes" if size is not None else f"at most {limit} bytes"
        raise LedgerDecodeError(f"{what} has {n} bytes, expected {expected}")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise LedgerDecodeError(f"{what} is not hex data: {value[:80]!r}") from None


# ─── field decoders ───────────────────────────────────────────────────────────

_FieldDecoder = Callable[[bytes, bytes, str], Any]  # (word, whole data, field name) -> value


def _uint(bits: int) -> _FieldDecoder:
    bound = 1 << bits

    def decode(word: bytes, _data: bytes, name: str) -> int:
        value = int.from_bytes(word, "big")
        if value >= bound:
            raise LedgerDecodeError(f"{name} = {value} does not fit uint{bits}")
        return value

    return decode


def _address(word: bytes, _data: bytes, name: str) -> str:
    if any(word[:12]):
        raise LedgerDecodeError(f"{name} is not an address: 0x{word.hex()}")
    return "0x" + word[12:].hex()


def _bool(word: bytes, data: bytes, name: str) -> bool:
    return bool(_uint(1)(word, data, name))


def _bytes32(word: bytes, _data: bytes, _name: str) -> bytes:
    return word


def _tail(word: bytes, data: bytes, name: str, unit: int, limit: int) -> tuple[int, int]:
    """(start, count) of a dynamic field whose head word is ``word``."""
    offset = int.from_bytes(word, "big")
    if offset % _WORD or offset + _WORD > len(data):
        raise LedgerDecodeError(f"{name}: offset {offset} is outside the log data")
    count = int.from_bytes(data[offset : offset + _WORD], "big")
    if count > limit or offset + _WORD + count * unit > len(data):
        raise LedgerDecodeError(f"{name}: length {count} is outside the log data or above {limit}")
    return offset + _WORD, count


def _dyn_bytes(word: bytes, data: bytes, name: str) -> bytes:
    start, count = _tail(word, data, name, 1, MAX_BYTES_FIELD)
    return data[start : start + count]


def _uint_array(word: bytes, data: bytes, name: str) -> list[int]:
    start, count = _tail(word, data, name, _WORD, MAX_ARRAY_WORDS)
    return [
        int.from_bytes(data[start + i * _WORD : start + (i + 1) * _WORD], "big")
        for i in range(count)
    ]


def _field_decoder(abi_type: str, indexed: bool) -> _FieldDecoder:
    if abi_type.startswith("uint") and abi_type[4:].isdigit():
        return _uint(int(abi_type[4:]))
    static = {"address": _address, "bool": _bool, "bytes32": _bytes32}
    if abi_type in static:
        return static[abi_type]
    if not indexed and abi_type == "bytes":
        return _dyn_bytes
    if not indexed and abi_type == "uint256[]":
        return _uint_array
    raise ValueError(f"the ledger has no decoder for ABI type {abi_type!r}")


@dataclass(frozen=True)
class _EventSpec:
    contract: str
    name: str
    topics: tuple[tuple[str, _FieldDecoder], ...]
    fields: tuple[tuple[str, _FieldDecoder], ...]

    @property
    def where(self) -> str:
        return f"{self.name} log"


def _signature(entry: Mapping[str, Any]) -> str:
    return f"{entry['name']}({','.join(str(i['type']) for i in entry['inputs'])})"


class EventDecoder:
    """Decodes the followed events of one deployment from raw ``eth_getLogs`` entries."""

    def __init__(self, addresses: Mapping[str, str]) -> None:
        """``addresses``: contract (artifact) name -> deployed address, for each followed one."""
        self._specs: dict[tuple[str, str], _EventSpec] = {}  # (address, topic0 hex)
        for contract, names in FOLLOWED.items():
            address = addresses[contract].lower()
            for entry in load_artifact(contract).abi:
                if entry.get("type") != "event" or entry["name"] not in names:
                    continue
                inputs = entry["inputs"]
                spec = _EventSpec(
                    contract,
                    entry["name"],
                    tuple(
                        (i["name"], _field_decoder(i["type"], True)) for i in inputs if i["indexed"]
                    ),
                    tuple(
                        (i["name"], _field_decoder(i["type"], False))
                        for i in inputs
                        if not i["indexed"]
                    ),
                )
                self._specs[(address, "0x" + keccak(text=_signature(entry)).hex())] = spec
        self.addresses = sorted({a.lower() for a in addresses.values()})

    def decode(self, raw: object, memo: dict[str, Any] | None = None) -> Log | None:
        """The decoded event of a raw log, or None for an event the ledger does not follow.

        ``memo`` caches the parsed block and transaction fields shared by the logs of one
        ``eth_getLogs`` answer.
        """
        if not isinstance(raw, dict):
            raise LedgerDecodeError(f"a log is not a JSON object: {raw!r:.80}")
        address, topics = raw.get("address"), raw.get("topics")
        if not isinstance(address, str) or not isinstance(topics, list) or not topics:
            return None
        spec = self._specs.get((address.lower(), str(topics[0]).lower()))
        if spec is None or raw.get("removed") is True:
            return None
        if len(topics) != 1 + len(spec.topics):
            where = spec.where
            raise LedgerDecodeError(
                f"{where} has {len(topics)} topics, expected {1 + len(spec.topics)}"
            )
        data = parse_hex_bytes(raw.get("data"), spec.name, limit=MAX_LOG_DATA)
        if len(data) < _WORD * len(spec.fields):
            raise LedgerDecodeError(f"{spec.where} data is {len(data)} bytes, too short")
        args: dict[str, Any] = {}
        for (name, decode), topic in zip(spec.topics, topics[1:], strict=True):
            args[name] = decode(parse_hex_bytes(topic, name, size=_WORD), data, name)
        for i, (name, decode) in enumerate(spec.fields):
            args[name] = decode(data[i * _WORD : (i + 1) * _WORD], data, name)
        memo = {} if memo is None else memo
        return Log(
            contract=spec.contract,
            name=spec.name,
            block=_memo(memo, raw.get("blockNumber"), parse_quantity, "blockNumber"),
            block_hash=_memo(memo, raw.get("blockHash"), _hash, "blockHash"),
            log_index=parse_quantity(raw.get("logIndex"), "logIndex"),
            tx_hash=_memo(memo, raw.get("transactionHash"), _hash, "transactionHash"),
            args=args,
        )

    def decode_all(self, raws: Iterable[object]) -> list[Log]:
        """Decode a ``eth_getLogs`` result, in chain order, dropping events not followed."""
        memo: dict[str, Any] = {}
        logs = [log for raw in raws if (log := self.decode(raw, memo)) is not None]
        logs.sort(key=lambda log: (log.block, log.log_index))
        return logs


def _hash(value: object, what: str) -> bytes:
    return parse_hex_bytes(value, what, size=_WORD)


def _memo(
    memo: dict[str, Any], value: object, parse: Callable[[object, str], Any], what: str
) -> Any:
    """``parse(value)``, once per distinct string in one answer."""
    if isinstance(value, str) and value in memo:
        return memo[value]
    parsed = parse(value, what)
    if isinstance(value, str):
        memo[value] = parsed
    return parsed
