"""Moving spooled batches forward: pin, submit once, confirm, and recover after a crash.

:meth:`Submitter.advance` takes one batch one step (see :mod:`worldgym.miner.spool`
for the states). Transient failures (storage or RPC down) raise and leave the
batch where it was, to be retried; permanent ones (the epoch is over, the
contract refuses) move it to ``expired`` or ``failed`` with the reason.
Before any send the miner checks the chain for a batch of its own with the
same CID, and a batch is only ever sent for the sequence number the contract
will give it, so a batch cannot be submitted twice.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from worldgym.chain.contracts import BatchRecord, Protocol
from worldgym.chain.errors import RevertError, RpcUnavailableError, TxTimeoutError
from worldgym.chain.tx import SentTx, TxSender
from worldgym.miner.errors import MinerError
from worldgym.miner.spool import BatchState, Spool, SpoolEntry
from worldgym.storage import ContentStore, cid_to_bytes
from worldgym.storage.errors import StorageError

__all__ = ["TRANSIENT", "Submitter"]

# Failures worth retrying: the batch stays where it is.
TRANSIENT: tuple[type[Exception], ...] = (
    StorageError,
    RpcUnavailableError,
    TxTimeoutError,
    ConnectionError,
)


class Submitter:
    """Pins and submits spooled batches for one miner account."""

    def __init__(
        self,
        protocol: Protocol,
        sender: TxSender,
        store: ContentStore,
        spool: Spool,
        *,
        log: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.protocol = protocol
        self.sender = sender
        self.store = store
        self.spool = spool
        self.miner = to_checksum_address(sender.address)
        self.log = log

    def advance(self, entry: SpoolEntry) -> SpoolEntry:
        """Take ``entry`` one step; return its new state (transient errors propagate)."""
        if entry.state == BatchState.BUILT:
            return self._pin(entry)
        if entry.state == BatchState.PINNED:
            return self._send(entry)
        if entry.state == BatchState.SENDING:
            return self._reconcile(entry)
        return entry

    def settle(self, entry: SpoolEntry) -> SpoolEntry:
        """Advance ``entry`` until confirmed, expired or failed (transient errors propagate)."""
        while entry.state in (BatchState.BUILT, BatchState.PINNED, BatchState.SENDING):
            entry = self.advance(entry)
        return entry

    # ─── steps ────────────────────────────────────────────────────────────────

    def _pin(self, entry: SpoolEntry) -> SpoolEntry:
        cid = self.store.put_bytes(self.spool.document(entry), pin=True)
        if cid != entry.cid:
            raise MinerError(
                f"the store gave {cid} for batch {entry.cid}: is it the same CID format?"
            )
        self.log(f"pinned batch {entry.cid}")
        return self.spool.update(entry.id, BatchState.PINNED)

    def _on_chain(self, entry: SpoolEntry) -> BatchRecord | None:
        """This miner's on-chain batch with ``entry``'s CID in its epoch, if any."""
        binary = cid_to_bytes(entry.cid)
        for record in self.protocol.batches(entry.epoch):
            if record.miner == self.miner and record.cid == binary:
                return record
        return None

    def _confirm(self, entry: SpoolEntry, record: BatchRecord) -> SpoolEntry:
        self.log(f"batch {entry.cid} is batch {record.index} of epoch {record.epoch}")
        return self.spool.update(
            entry.id,
            BatchState.CONFIRMED,
            batch_index=record.index,
            block_number=record.block_number,
            tx_hash=record.tx_hash,
        )

    def expire_if_stale(self, entry: SpoolEntry) -> SpoolEntry | None:
        """Expire ``entry`` if it is still open and its epoch is over; else None.

        Called while storage or the send is failing, so that a batch whose epoch ended
        during an outage stops being retried (and its place in the epoch is not waited for).
        """
        if entry.state not in (BatchState.BUILT, BatchState.PINNED):
            return None
        epoch = self.protocol.current_epoch()
        if epoch == entry.epoch:
            return None
        return self.spool.update(
            entry.id,
            BatchState.EXPIRED,
            note=f"epoch {entry.epoch} ended (now {epoch}) before the batch was submitted",
        )

    def _refuse_if_stale(self, entry: SpoolEntry) -> SpoolEntry | None:
        """Expire or fail ``entry`` if the chain can no longer take it as built; else None."""
        epoch = self.protocol.current_epoch()
        if epoch != entry.epoch:
            return self.spool.update(
                entry.id,
                BatchState.EXPIRED,
                note=f"epoch {entry.epoch} ended (now {epoch}) before the batch was submitted",
            )
        taken = self.protocol.miner_batch_count(entry.epoch, self.miner)
        if taken != entry.sequence:
            return self.spool.update(
                entry.id,
                BatchState.FAILED,
                note=f"built for sequence {entry.sequence}, but the next sequence on chain is "
                f"{taken}: another process submits from this account",
            )
        return None

    def _send(self, entry: SpoolEntry) -> SpoolEntry:
        record = self._on_chain(entry)
        if record is not None:
            return self._confirm(entry, record)
        stale = self._refuse_if_stale(entry)
        if stale is not None:
            return stale
        gym = self.protocol.gym
        data = gym.encode_abi(
            "submitBatch",
            args=[entry.env_id, entry.env_version, cid_to_bytes(entry.cid), entry.trace_count,
                  entry.model_id],
        )  # fmt: skip

        def record_send(tx_hash: str, nonce: int, raw: bytes) -> None:
            self.spool.update(
                entry.id, BatchState.SENDING, tx_hash=tx_hash, tx_nonce=nonce, raw_tx=raw
            )

        try:
            sent = self.sender.submit({"to": gym.address, "data": data}, before_send=record_send)
        except RevertError as exc:
            return self.spool.update(entry.id, BatchState.FAILED, note=str(exc)[:500])
        self.log(f"submitted batch {entry.cid} in {sent.tx_hash}")
        return self._wait(self.spool.get(entry.id), sent)

    def _wait(self, entry: SpoolEntry, sent: SentTx) -> SpoolEntry:
        try:
            receipt = self.sender.wait(sent)
        except RevertError as exc:
            return self.spool.update(entry.id, BatchState.FAILED, note=str(exc)[:500])
        events = self.protocol.events(self.protocol.gym, "BatchSubmitted", receipt)
        if not events:
            raise MinerError(f"transaction {sent.tx_hash} succeeded without a BatchSubmitted event")
        record = self._on_chain(entry)
        if record is None:
            raise MinerError(f"batch {entry.cid} is not among epoch {entry.epoch}'s batches")
        return self._confirm(entry, record)

    def _reconcile(self, entry: SpoolEntry) -> SpoolEntry:
        """A send was under way when the miner stopped: find out what happened to it."""
        if entry.tx_hash is None or entry.tx_nonce is None or entry.raw_tx is None:
            raise MinerError(f"spooled batch {entry.cid} is sending but has no transaction")
        w3 = self.protocol.w3
        record = self._on_chain(entry)
        if record is not None:
            return self._confirm(entry, record)
        sent = SentTx(entry.tx_hash, entry.tx_nonce, {})
        try:
            receipt = w3.eth.get_transaction_receipt(entry.tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            receipt = None
        if receipt is not None and receipt["status"] != 1:
            return self.spool.update(entry.id, BatchState.FAILED, note=f"{entry.tx_hash} reverted")
        try:
            w3.eth.get_transaction(entry.tx_hash)  # type: ignore[arg-type]
            pending = True
        except TransactionNotFound:
            pending = False
        if pending:
            self.log(f"batch {entry.cid}: {entry.tx_hash} is known to the node; waiting")
            return self._wait(entry, sent)
        if w3.eth.get_transaction_count(self.miner, "latest") > entry.tx_nonce:
            self.log(f"batch {entry.cid}: nonce {entry.tx_nonce} was used by another transaction")
            return self.spool.update(entry.id, BatchState.PINNED, note="re-signing: nonce reused")
        stale = self._refuse_if_stale(entry)
        if stale is not None:
            return stale
        self.log(f"batch {entry.cid}: the node never saw {entry.tx_hash}; sending the same bytes")
        w3.eth.send_raw_transaction(HexBytes(entry.raw_tx))
        return self._wait(entry, sent)
