"""Following the chain: backfill in block ranges, stay ``confirmations`` behind, undo reorgs.

Each run of :meth:`Indexer.sync`:

1. checks that the last indexed block is still on the chain (its stored hash);
   if not, finds the newest stored block hash the chain still has, by binary
   search over the stored anchors (a block hash commits to every ancestor, so
   "still on the chain" is monotone), and rolls the ledger back to it;
2. indexes ``[cursor + 1, head - confirmations]`` in chunks of ``chunk_blocks``
   (halved when the node refuses a range as too large), one transaction per
   chunk. The hash of a chunk's last block is read *before* its logs: if the
   chain reorganises in between, the stored hash is the old one, and the next
   run sees the mismatch and re-indexes.

The JSON-RPC calls are raw (``eth_blockNumber``, ``eth_getBlockByNumber``,
``eth_getLogs``) and their answers are checked like any network input.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from web3 import Web3
from web3.types import RPCEndpoint

from worldgym.chain.contracts import Protocol
from worldgym.chain.errors import ChainError, RpcUnavailableError
from worldgym.chain.manifest import Deployment
from worldgym.ledger.errors import LedgerDecodeError
from worldgym.ledger.events import FOLLOWED, EventDecoder, parse_hex_bytes, parse_quantity
from worldgym.ledger.store import Cursor, Identity, LedgerStore

__all__ = ["ChainReader", "Indexer", "RangeTooLargeError", "SyncReport"]

Progress = Callable[[int, int], None]
_NO_HASH = bytes(32)
# Phrases nodes use when a log query spans too much (geth, erigon, alchemy, infura, anvil).
_TOO_LARGE = ("range", "more than", "too many", "limit", "exceed", "too large", "response size")


class RangeTooLargeError(ChainError):
    """The node refused a log query as too large; ask for fewer blocks."""


class ChainReader:
    """The three JSON-RPC calls the indexer makes, without web3's per-result formatting."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3

    def _call(self, method: str, params: list[Any]) -> Any:
        try:
            response = self.w3.provider.make_request(RPCEndpoint(method), params)
        except (requests.RequestException, OSError) as exc:
            raise RpcUnavailableError(f"{method} failed: {exc}; is the node running?") from None
        if not isinstance(response, dict):
            raise LedgerDecodeError(f"{method} answered something that is not JSON-RPC")
        if "error" in response:
            error = response["error"]
            message = str(error.get("message", error) if isinstance(error, dict) else error)
            if method == "eth_getLogs" and any(p in message.lower() for p in _TOO_LARGE):
                raise RangeTooLargeError(message)
            raise ChainError(f"{method} failed on the node: {message[:300]}")
        return response.get("result")

    def head(self) -> int:
        """The latest block number."""
        return parse_quantity(self._call("eth_blockNumber", []), "eth_blockNumber")

    def block_hash(self, number: int) -> bytes | None:
        """The hash of block ``number`` (None if the chain does not have it)."""
        block = self._call("eth_getBlockByNumber", [hex(number), False])
        if block is None:
            return None
        if not isinstance(block, dict):
            raise LedgerDecodeError(f"block {number} is not a JSON object")
        if parse_quantity(block.get("number"), "block number") != number:
            raise LedgerDecodeError(f"asked for block {number}, the node sent another")
        return parse_hex_bytes(block.get("hash"), f"hash of block {number}", size=32)

    def logs(self, addresses: list[str], start: int, end: int) -> list[Any]:
        """Raw logs of ``addresses`` in blocks ``[start, end]``."""
        query = {"address": addresses, "fromBlock": hex(start), "toBlock": hex(end)}
        result = self._call("eth_getLogs", [query])
        if not isinstance(result, list):
            raise LedgerDecodeError(f"eth_getLogs for blocks {start}..{end} is not a list")
        return result


@dataclass(frozen=True)
class SyncReport:
    """What one :meth:`Indexer.sync` did."""

    start: int
    end: int
    head: int
    events: int
    seconds: float
    reorg: tuple[int, int] | None = None  # (block indexed before, block rolled back to)

    @property
    def blocks(self) -> int:
        """Blocks indexed in this run."""
        return max(self.end - self.start + 1, 0)


class Indexer:
    """Indexes one deployment's events into a :class:`LedgerStore`."""

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        store: LedgerStore,
        *,
        confirmations: int,
        chunk_blocks: int = 2_000,
        genesis_block: int | None = None,
    ) -> None:
        """``genesis_block`` is WorldGym's ``genesisBlock()``; read from the chain if None."""
        if confirmations < 0 or chunk_blocks < 1:
            raise ValueError("confirmations must be >= 0 and chunk_blocks >= 1")
        self.chain = ChainReader(w3)
        self.w3 = w3
        self.deployment = deployment
        self.store = store
        self.confirmations = confirmations
        self.chunk_blocks = chunk_blocks
        self._genesis_block = genesis_block
        by_name = deployment.addresses.by_contract()
        self.decoder = EventDecoder({name: by_name[name] for name in FOLLOWED})

    def identity(self) -> Identity:
        """The identity this indexer writes (reads ``genesisBlock()`` once if needed)."""
        if self._genesis_block is None:
            gym = Protocol(self.w3, self.deployment).gym
            self._genesis_block = int(gym.functions.genesisBlock().call())
        d, p = self.deployment, self.deployment.params
        return Identity(
            chain_id=d.chain_id,
            worldgym=d.addresses.worldgym.lower(),
            deploy_block=d.deploy_block,
            genesis_block=self._genesis_block,
            epoch_length=p.epoch_length,
            commit_blocks=p.commit_blocks,
            reveal_blocks=p.reveal_blocks,
            slash_bps=p.slash_bps,
        )

    def sync(
        self,
        *,
        to_block: int | None = None,
        from_block: int | None = None,
        on_progress: Progress | None = None,
    ) -> SyncReport:
        """Bring the ledger up to ``head - confirmations`` (or ``to_block``, if lower).

        ``from_block`` re-indexes from that block (everything above it is undone first).
        """
        began = time.monotonic()
        self.store.bind(self.identity())
        head = self.chain.head()
        reorg = self._undo_reorg(self._cursor(), head)
        if from_block is not None:
            reorg = self._rewind(max(from_block, self.deployment.deploy_block) - 1, head) or reorg
        cursor = self._cursor()
        target = head - self.confirmations
        if to_block is not None:
            target = min(target, to_block)
        start = cursor.block + 1
        events, chunk, next_block = 0, self.chunk_blocks, start
        total = max(target - start + 1, 0)
        while next_block <= target:
            end = min(next_block + chunk - 1, target)
            end_hash = self.chain.block_hash(end)
            if end_hash is None:  # the chain got shorter since we read the head
                break
            try:
                raws = self.chain.logs(self.decoder.addresses, next_block, end)
            except RangeTooLargeError:
                if end == next_block:
                    raise
                chunk = max((end - next_block + 1) // 2, 1)
                continue
            logs = self.decoder.decode_all(raws)
            for log in logs:
                if not next_block <= log.block <= end:
                    raise LedgerDecodeError(
                        f"eth_getLogs for blocks {next_block}..{end} returned a log of block "
                        f"{log.block}"
                    )
            written = self.store.apply_chunk(
                logs, start=next_block, end=end, end_hash=end_hash, head=head
            )
            if written is None:  # another indexer stored this range first
                break
            events += written
            next_block = end + 1
            chunk = min(chunk * 2, self.chunk_blocks)
            if on_progress is not None:
                on_progress(next_block - start, total)
        return SyncReport(
            start=start,
            end=next_block - 1,
            head=head,
            events=events,
            seconds=time.monotonic() - began,
            reorg=reorg,
        )

    def _cursor(self) -> Cursor:
        cursor = self.store.cursor()
        if cursor is None:  # bind() always writes one
            raise LedgerDecodeError("the ledger has no cursor; delete the database and re-index")
        return cursor

    def _undo_reorg(self, cursor: Cursor, head: int) -> tuple[int, int] | None:
        """Roll back to the newest stored block the chain still has, if the cursor's is gone."""
        if cursor.block < self.deployment.deploy_block:
            return None
        if cursor.block <= head and self.chain.block_hash(cursor.block) == cursor.hash:
            return None
        anchors = self.store.anchors(cursor.block)
        lo, hi, best = 0, len(anchors) - 1, -1
        while lo <= hi:
            mid = (lo + hi) // 2
            number, digest = anchors[mid]
            if number <= head and self.chain.block_hash(number) == digest:
                best, lo = mid, mid + 1
            else:
                hi = mid - 1
        to_block, to_hash = (
            anchors[best] if best >= 0 else (self.deployment.deploy_block - 1, _NO_HASH)
        )
        self.store.rollback(to_block, to_hash, head)
        return cursor.block, to_block

    def _rewind(self, to_block: int, head: int) -> tuple[int, int] | None:
        cursor = self._cursor()
        if to_block >= cursor.block:
            return None
        digest = (
            self.chain.block_hash(to_block) if to_block >= self.deployment.deploy_block else None
        )
        self.store.rollback(to_block, digest or _NO_HASH, head)
        return cursor.block, to_block
