"""Small helpers shared by the ledger's queries: addresses, amounts in SQL, phases, owners."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import Connection, Table, func, select
from sqlalchemy.sql.elements import ColumnElement

from worldgym.ledger.errors import LedgerQueryError
from worldgym.ledger.schema import t
from worldgym.ledger.store import Identity
from worldgym.ledger.wei import Wei, join_wei
from worldgym.storage import cid_from_bytes

__all__ = [
    "checksum",
    "cid_text",
    "current_owners",
    "normalize_address",
    "parse_epochs",
    "phase_of",
    "wei_of",
    "wei_sum",
    "windows_of",
]

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def normalize_address(address: str) -> str:
    """``0x`` + 40 hex digits, lower-cased (how the ledger stores addresses)."""
    address = address.strip()
    if not _ADDRESS.match(address):
        raise LedgerQueryError(f"{address[:60]!r} is not an address (0x followed by 40 hex digits)")
    return address.lower()


@lru_cache(maxsize=8192)
def checksum(address: str) -> str:
    """The EIP-55 form of a stored address (cached: keccak per call is most of a report)."""
    return str(to_checksum_address(address))


_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_B32_PAIRS = [a + b for a in _B32 for b in _B32]  # 10 bits -> two characters
_CIDV1_SHA256 = (b"\x01\x55\x12\x20", b"\x01\x70\x12\x20")


def cid_text(binary: bytes | None) -> str | None:
    """A binary CID as its string form (None for an empty one).

    CIDv1 over sha2-256 (what the protocol stores) takes a fast path: multibase ``b``
    + lower-case RFC 4648 base32 without padding, computed from one big integer
    (``base64.b32encode`` is a Python loop, and an epoch report formats hundreds).
    """
    if not binary:
        return None
    data = bytes(binary)
    if len(data) == 36 and data[:4] in _CIDV1_SHA256:
        value = int.from_bytes(data, "big") << 2  # 288 bits -> 290: 58 characters, 29 pairs
        return "b" + "".join(_B32_PAIRS[(value >> (10 * (28 - k))) & 1023] for k in range(29))
    try:
        return cid_from_bytes(data)
    except ValueError:
        return "0x" + data.hex()


def wei_sum(table: Table, name: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """SQL sums of the limbs of amount ``name`` (combine with :func:`wei_of`)."""
    return (
        func.coalesce(func.sum(table.c[f"{name}_hi"]), 0),
        func.coalesce(func.sum(table.c[f"{name}_lo"]), 0),
    )


def wei_of(row: Any, name: str) -> Wei:
    """The amount ``name`` of a row with ``<name>_hi`` and ``<name>_lo``."""
    return join_wei(getattr(row, f"{name}_hi"), getattr(row, f"{name}_lo"))


def windows_of(ident: Identity, epoch: int) -> dict[str, tuple[int, int | None]]:
    """``[opens, closes)`` of each window of ``epoch`` (as ``IWorldGym.windowOf``)."""
    nxt = ident.epoch_start(epoch + 1)
    commit_end = nxt + ident.commit_blocks
    reveal_end = commit_end + ident.reveal_blocks
    return {
        "submit": (ident.epoch_start(epoch), nxt),
        "commit": (nxt, commit_end),
        "reveal": (commit_end, reveal_end),
        "finalize": (reveal_end, None),
    }


def phase_of(ident: Identity, head: int, epoch: int, *, started: bool, finalized: bool) -> str:
    """Where ``epoch`` is at block ``head``: future, submit, commit, reveal, finalize,
    finalizing (some finalize calls made) or finalized."""
    if finalized:
        return "finalized"
    if head < ident.epoch_start(epoch):
        return "future"
    for name, (_, closes) in windows_of(ident, epoch).items():
        if closes is not None and head < closes:
            return name
    return "finalizing" if started else "finalize"


def current_owners(conn: Connection, env_ids: Iterable[int] | None = None) -> dict[int, str]:
    """The owner of each environment now: its registrant, then each transfer in order."""
    reg, tr = t.env_registered.c, t.env_transfers.c
    q_reg = select(reg.env_id, reg.owner)
    q_tr = select(tr.env_id, tr.to_address).order_by(tr.block, tr.log_index)
    if env_ids is not None:
        ids = sorted(set(env_ids))
        q_reg = q_reg.where(reg.env_id.in_(ids))
        q_tr = q_tr.where(tr.env_id.in_(ids))
    owners = {int(e): str(o) for e, o in conn.execute(q_reg)}
    for env_id, to in conn.execute(q_tr):
        owners[int(env_id)] = str(to)
    return owners


def parse_epochs(text: str | None) -> tuple[int, int] | None:
    """``A:B`` (inclusive) or ``A`` as an epoch range."""
    if text is None:
        return None
    first, sep, last = text.partition(":")
    try:
        a = int(first)
        b = int(last) if sep else a
    except ValueError:
        raise LedgerQueryError(
            f"epoch range {text!r}: write A:B (inclusive) or a single epoch"
        ) from None
    if a < 0 or b < a:
        raise LedgerQueryError(f"epoch range {text!r} is empty: A must be <= B, both >= 0")
    return a, b
