"""Sign locally and send: one :class:`TxSender` per account, safe to share between threads.

A send goes through four steps:

1. **Build** (no lock): fill ``from``, ``chainId``, ``value``, EIP-1559 fees
   (:class:`FeePolicy`; cached briefly) and ``gas`` (estimated, times a margin).
   An estimate that reverts raises :class:`~worldgym.chain.errors.RevertError` with the
   decoded reason; nothing was signed, no nonce was taken.
2. **Sign and send under the nonce lock** (:class:`NonceManager`): the next
   nonce is taken, the transaction signed with eth-account and handed to the
   node before the next thread may take a nonce. A node that refuses it (bad
   fee, no funds) gives the nonce back, so nonces never have gaps; "nonce too
   low" (someone else used the account) re-reads the nonce and signs again.
   A connection error or timeout *after* the bytes left is ambiguous: the
   sender asks the node for the hash and the account's pending nonce, and only
   when neither shows the transaction does it broadcast the *same* signed bytes
   again (same hash, so it can never land twice).
3. **Wait** (no lock): poll for the receipt tightly at first (5 ms: anvil
   answers the send before the receipt exists), backing off to ``max_poll_s``.
4. **Check**: a reverted receipt raises RevertError with the reason, read from
   the node's trace of the transaction, else found by replaying it in the block
   where it failed (so a window that closed at that block reads closed).

Sends from one account are therefore serialized (one ``eth_sendRawTransaction``
round trip each: about a millisecond on a local node, the network latency on a
remote one) while building and waiting overlap freely between threads. Sending
ahead of earlier nonces would go faster on a distant node, but a refused
transaction would then leave a gap that only a filler transaction can close.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import RPCEndpoint, TxReceipt

from worldgym.chain.errors import (
    NonceConflictError,
    RevertError,
    RpcUnavailableError,
    TxRejectedError,
    TxTimeoutError,
)
from worldgym.chain.revert import DecodedRevert, RevertDecoder, revert_data_of
from worldgym.core.errors import UsageError

__all__ = [
    "FeePolicy",
    "NonceManager",
    "SentTx",
    "TxSender",
    "call",
]

_GWEI = 10**9


@dataclass(frozen=True)
class FeePolicy:
    """How EIP-1559 fees are chosen when a transaction does not set them.

    ``max_fee = base_fee * base_fee_multiplier + priority_fee``: with the
    default 2, the transaction stays valid through six consecutive full blocks.
    """

    priority_fee_wei: int | None = None
    """Tip per gas; None asks the node (``eth_maxPriorityFeePerGas``), else 1 gwei."""
    base_fee_multiplier: float = 2.0
    max_fee_cap_wei: int | None = None
    """Never offer more than this per gas; a base fee above it is an error."""
    cache_s: float = 1.0
    """Reuse the fees computed for one transaction this long (one base-fee read per second)."""

    def __post_init__(self) -> None:
        if self.base_fee_multiplier < 1:
            raise UsageError("base_fee_multiplier below 1 would not cover the base fee: use >= 1")


class _NonceState(Enum):
    USED = "used"  # the node holds a transaction with this nonce
    UNUSED = "unused"  # the node refused it: the nonce is free again
    UNKNOWN = "unknown"  # cannot tell: read the next nonce from the node


@dataclass
class _Reservation:
    nonce: int
    state: _NonceState = _NonceState.UNKNOWN


class NonceManager:
    """Consecutive nonces for one account, one reservation at a time.

    ``fetch`` reads the account's pending transaction count from the node; it is
    called on first use and after any outcome that leaves the count in doubt.
    A reservation holds the lock until its send has an outcome, which is what
    rules out gaps (a refused nonce is handed out again) and reuse.
    """

    def __init__(self, fetch: Callable[[], int]) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._next: int | None = None

    @contextmanager
    def reserve(self) -> Iterator[_Reservation]:
        """The next nonce; mark the reservation ``USED`` or ``UNUSED`` before leaving."""
        with self._lock:
            if self._next is None:
                self._next = self._fetch()
            reservation = _Reservation(self._next)
            try:
                yield reservation
            finally:
                if reservation.state is _NonceState.USED:
                    self._next = reservation.nonce + 1
                elif reservation.state is _NonceState.UNKNOWN:
                    self._next = None

    def resync(self) -> None:
        """Forget the local count; the next reservation reads it from the node."""
        with self._lock:
            self._next = None

    @property
    def next_nonce(self) -> int | None:
        """The nonce the next reservation will get (None until read from the node)."""
        return self._next


@dataclass(frozen=True)
class SentTx:
    """A transaction the node accepted: its hash, nonce and the fields it was built from."""

    tx_hash: str
    nonce: int
    tx: Mapping[str, Any] = field(repr=False)


class TxSender:
    """Signs with one local account and sends through one Web3; thread-safe.

    It satisfies ``worldgym.chain.contracts.Sender``. ``labels`` maps contract
    addresses to names, so reverts say which contract refused and decode with
    that contract's errors first.
    """

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        *,
        chain_id: int | None = None,
        fees: FeePolicy | None = None,
        decoder: RevertDecoder | None = None,
        labels: Mapping[str, str] | None = None,
        gas_margin: float = 1.2,
        receipt_timeout_s: float = 120.0,
        first_poll_s: float = 0.005,
        max_poll_s: float = 1.0,
    ) -> None:
        self.w3 = w3
        self._account = account
        self.address: ChecksumAddress = to_checksum_address(account.address)
        self._chain_id = chain_id
        self.fees = fees or FeePolicy()
        self.decoder = decoder or RevertDecoder()
        self._labels = {to_checksum_address(a): n for a, n in (labels or {}).items()}
        self.gas_margin = gas_margin
        self.receipt_timeout_s = receipt_timeout_s
        self.first_poll_s = first_poll_s
        self.max_poll_s = max_poll_s
        self.nonces = NonceManager(self._pending_nonce)
        self._fee_lock = threading.Lock()
        self._fee_cache: tuple[float, dict[str, int]] | None = None

    def __repr__(self) -> str:
        return f"TxSender({self.address})"

    # ─── the whole round trip ─────────────────────────────────────────────────

    def send(self, tx: Mapping[str, Any]) -> TxReceipt:
        """Build, sign, send ``tx`` and wait; return its successful receipt."""
        return self.wait(self.submit(tx))

    def submit(
        self,
        tx: Mapping[str, Any],
        *,
        before_send: Callable[[str, int, bytes], None] | None = None,
    ) -> SentTx:
        """Build, sign and hand ``tx`` to the node; return without waiting for a receipt.

        ``before_send(tx_hash, nonce, raw)`` runs after signing and before the
        bytes leave: a caller that must survive a crash mid-send records them
        there, and after a restart can look the hash up or rebroadcast the
        same bytes (which can never land twice).
        """
        built = self.build(tx)
        for _ in range(2):  # a second try only after "nonce too low", with a fresh nonce
            with self.nonces.reserve() as slot:
                full = {**built, "nonce": slot.nonce}
                signed = self._account.sign_transaction(full)
                tx_hash = HexBytes(signed.hash).to_0x_hex()
                raw = bytes(signed.raw_transaction)
                if before_send is not None:
                    before_send(tx_hash, slot.nonce, raw)
                try:
                    self.w3.eth.send_raw_transaction(raw)
                except Web3RPCError as exc:
                    message = _rpc_message(exc)
                    if _is_already_known(message):
                        slot.state = _NonceState.USED  # this very transaction is in the pool
                    elif _is_nonce_too_low(message):
                        slot.state = _NonceState.UNKNOWN
                        continue
                    else:
                        slot.state = _NonceState.UNUSED
                        raise TxRejectedError(
                            f"the node refused the transaction from {self.address} "
                            f"(nonce {slot.nonce}): {message}",
                            tx_hash=tx_hash,
                        ) from None
                except RpcUnavailableError as exc:
                    self._settle(slot, tx_hash, raw, exc)
                else:
                    slot.state = _NonceState.USED
                return SentTx(tx_hash, slot.nonce, full)
        raise NonceConflictError(
            f"nonce of {self.address} was taken twice in a row by another sender: "
            "is another process sending from this account?"
        )

    def wait(self, sent: SentTx, timeout_s: float | None = None) -> TxReceipt:
        """Poll for ``sent``'s receipt; raise RevertError if it reverted."""
        deadline = time.monotonic() + (timeout_s or self.receipt_timeout_s)
        delay = self.first_poll_s
        while True:
            try:
                receipt = self.w3.eth.get_transaction_receipt(sent.tx_hash)  # type: ignore[arg-type]
                break
            except TransactionNotFound:
                pass
            except RpcUnavailableError as exc:
                raise RpcUnavailableError(
                    f"{exc} (transaction {sent.tx_hash} was sent; its receipt could not be read)"
                ) from None
            if time.monotonic() + delay > deadline:
                raise TxTimeoutError(
                    f"transaction {sent.tx_hash} (nonce {sent.nonce}) has no receipt after "
                    f"{timeout_s or self.receipt_timeout_s:g}s; it may still be mined: "
                    "check it before sending again",
                    tx_hash=sent.tx_hash,
                )
            time.sleep(delay)
            delay = min(delay * 1.5, self.max_poll_s)
        if receipt["status"] != 1:
            raise self._reverted_receipt(sent, receipt)
        return receipt

    # ─── building ─────────────────────────────────────────────────────────────

    def build(self, tx: Mapping[str, Any]) -> dict[str, Any]:
        """``tx`` with from, chainId, value, fees and gas filled in (not the nonce)."""
        given = tx.get("from")
        if given is not None and to_checksum_address(given) != self.address:
            raise UsageError(f"this sender signs for {self.address}, not for {given}")
        built: dict[str, Any] = {"value": 0, **tx, "from": self.address}
        if "to" in built and built["to"] is not None:
            built["to"] = to_checksum_address(built["to"])
        built.setdefault("chainId", self.chain_id)
        if "gasPrice" not in built and "maxFeePerGas" not in built:
            built.update(self.current_fees())
        if "gas" not in built:
            built["gas"] = self.estimate_gas(built)
        return built

    @property
    def chain_id(self) -> int:
        """The chain id signed into every transaction (read from the node once)."""
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def current_fees(self) -> dict[str, int]:
        """EIP-1559 fee fields (or ``gasPrice`` on a chain without a base fee)."""
        with self._fee_lock:
            now = time.monotonic()
            if self._fee_cache is not None and now - self._fee_cache[0] < self.fees.cache_s:
                return dict(self._fee_cache[1])
            fees = self._compute_fees()
            self._fee_cache = (now, fees)
            return dict(fees)

    def _compute_fees(self) -> dict[str, int]:
        policy = self.fees
        base = self.w3.eth.get_block("latest").get("baseFeePerGas")
        if base is None:
            return {"gasPrice": int(self.w3.eth.gas_price)}
        tip = policy.priority_fee_wei
        if tip is None:
            try:
                tip = int(self.w3.eth.max_priority_fee)
            except Web3RPCError:
                tip = _GWEI
        max_fee = int(base * policy.base_fee_multiplier) + tip
        cap = policy.max_fee_cap_wei
        if cap is not None:
            if base + tip > cap:
                raise UsageError(
                    f"the base fee ({base / _GWEI:g} gwei) plus tip is above the fee cap "
                    f"({cap / _GWEI:g} gwei): wait, or raise max_fee_cap_wei"
                )
            max_fee = min(max_fee, cap)
        return {"maxFeePerGas": max_fee, "maxPriorityFeePerGas": min(tip, max_fee)}

    def estimate_gas(self, tx: Mapping[str, Any]) -> int:
        """Estimated gas times the margin; a revert raises RevertError with the reason."""
        request = {k: tx[k] for k in ("from", "to", "data", "value") if k in tx}
        try:
            estimate = self.w3.eth.estimate_gas(request)  # type: ignore[arg-type]
        except ContractLogicError as exc:
            revert = self._decode(revert_data_of(exc), request.get("to"))
            raise RevertError(
                f"the transaction to {self._target(request.get('to'), revert)} would revert: "
                f"{revert}",
                revert=revert,
            ) from None
        except Web3RPCError as exc:
            raise TxRejectedError(
                f"the node cannot estimate gas for the transaction to "
                f"{self._target(request.get('to'))}: "
                f"{_rpc_message(exc)}"
            ) from None
        return int(estimate * self.gas_margin)

    # ─── the ambiguous cases ──────────────────────────────────────────────────

    def _settle(
        self, slot: _Reservation, tx_hash: str, raw: bytes, error: RpcUnavailableError
    ) -> None:
        """After a failed send, find out whether the node has the transaction; rebroadcast if not.

        Leaves ``slot`` USED when the node holds it, raises otherwise (with the
        slot UNKNOWN, so the next reservation re-reads the nonce from the node).
        """
        for attempt in range(3):
            try:
                if self._known(tx_hash):
                    slot.state = _NonceState.USED
                    return
                pending = self._pending_nonce()
                if pending > slot.nonce:
                    if self._known(tx_hash):  # it arrived between the two reads
                        slot.state = _NonceState.USED
                        return
                    slot.state = _NonceState.UNKNOWN
                    raise NonceConflictError(
                        f"nonce {slot.nonce} of {self.address} was used by another "
                        f"transaction while {tx_hash} was being sent; it was not sent",
                        tx_hash=tx_hash,
                    )
                # The node never got it: the same signed bytes cannot land twice.
                self.w3.eth.send_raw_transaction(raw)
                slot.state = _NonceState.USED
                return
            except Web3RPCError as exc:
                if _is_already_known(_rpc_message(exc)):
                    slot.state = _NonceState.USED
                    return
                slot.state = _NonceState.UNKNOWN
                raise TxRejectedError(
                    f"the node refused transaction {tx_hash} when it was sent again: "
                    f"{_rpc_message(exc)}",
                    tx_hash=tx_hash,
                ) from None
            except RpcUnavailableError:
                time.sleep(0.2 * 2**attempt)
        slot.state = _NonceState.UNKNOWN
        raise RpcUnavailableError(
            f"{error} (transaction {tx_hash}, nonce {slot.nonce}, may or may not have reached "
            "the node; it was not sent again: look it up by hash before retrying)"
        )

    def _known(self, tx_hash: str) -> bool:
        try:
            self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return False
        return True

    def _pending_nonce(self) -> int:
        return int(self.w3.eth.get_transaction_count(self.address, "pending"))

    # ─── reverts ──────────────────────────────────────────────────────────────

    def _reverted_receipt(self, sent: SentTx, receipt: TxReceipt) -> RevertError:
        """The error for a mined, failed transaction, with the reason it failed *there*."""
        tx = sent.tx
        block = int(receipt["blockNumber"])
        used, limit = int(receipt["gasUsed"]), int(tx.get("gas", 0))
        revert: DecodedRevert | None = None
        if limit and used >= limit:
            reason = f"it used all {limit} gas (out of gas, or an invalid opcode): raise the limit"
        else:
            revert, reason = self._failure_reason(sent, block)
        return RevertError(
            f"transaction {sent.tx_hash} to {self._target(tx.get('to'), revert)} reverted in "
            f"block {block}: {reason}",
            revert=revert,
            tx_hash=sent.tx_hash,
        )

    def _failure_reason(self, sent: SentTx, block: int) -> tuple[DecodedRevert | None, str]:
        """Why ``sent`` reverted in ``block``: its own trace, else a replay in that block.

        The trace (``debug_traceTransaction``, which anvil and most self-hosted nodes
        answer) is the transaction's actual execution. Without it the call is replayed
        on block ``block`` itself, whose number and time are the ones it failed with
        (a window that closed at that block still reads closed), then on its parent,
        for a failure that a later transaction in the same block undid.
        """
        tx = sent.tx
        data = self._traced_revert(sent.tx_hash)
        if data is not None:
            revert = self._decode(data, tx.get("to"))
            return revert, str(revert)
        replay = {k: tx[k] for k in ("from", "to", "data", "value", "gas") if k in tx}
        failure = "replaying it in that block no longer reverts, so the reason is unknown"
        for at in (block, max(block - 1, 0)):
            try:
                self.w3.eth.call(replay, block_identifier=at)  # type: ignore[arg-type]
            except ContractLogicError as exc:
                revert = self._decode(revert_data_of(exc), tx.get("to"))
                return revert, str(revert)
            except Web3RPCError as exc:
                failure = f"replaying it failed: {_rpc_message(exc)}"
        return None, failure

    def _traced_revert(self, tx_hash: str) -> bytes | None:
        """The revert data of a mined transaction from the node's call tracer, if it has one."""
        try:
            response = self.w3.provider.make_request(
                RPCEndpoint("debug_traceTransaction"), [tx_hash, {"tracer": "callTracer"}]
            )
        except (Web3RPCError, RpcUnavailableError, ValueError):
            return None
        result = response.get("result") if isinstance(response, Mapping) else None
        if not isinstance(result, Mapping) or not result.get("error"):
            return None
        output = result.get("output")
        if not isinstance(output, str) or not output.startswith("0x"):
            return b""  # reverted without data (e.g. a bare revert())
        try:
            return bytes.fromhex(output[2:])
        except ValueError:
            return None

    def _decode(self, data: bytes | None, to: str | None) -> DecodedRevert:
        name = self._labels.get(to_checksum_address(to)) if to else None
        return self.decoder.decode(data, contract=name)

    def _target(self, to: str | None, revert: DecodedRevert | None = None) -> str:
        """The callee as messages show it: its name too, unless the revert already says it."""
        if not to:
            return "a new contract"
        address = to_checksum_address(to)
        name = self._labels.get(address)
        if name is None or (revert is not None and revert.contract is not None):
            return address
        return f"{name} ({address})"


def call(
    fn: ContractFunction,
    *,
    decoder: RevertDecoder | None = None,
    contract: str | None = None,
    sender: str | None = None,
    block: int | str = "latest",
) -> Any:
    """``fn.call()``, with a revert raised as RevertError saying what and why.

    ``contract`` names the callee for the message and for decoding; ``sender``
    is the ``from`` of the call (some functions check the caller).
    """
    params: dict[str, Any] = {"from": to_checksum_address(sender)} if sender else {}
    try:
        return fn.call(params, block_identifier=block)  # type: ignore[arg-type]
    except ContractLogicError as exc:
        revert = (decoder or RevertDecoder()).decode(revert_data_of(exc), contract=contract)
        where = contract or fn.address
        raise RevertError(f"{where}.{fn.fn_name} reverted: {revert}", revert=revert) from None


def _rpc_message(exc: Web3RPCError) -> str:
    response = exc.rpc_response
    if isinstance(response, Mapping):
        error = response.get("error")
        if isinstance(error, Mapping) and error.get("message"):
            return str(error["message"])
    return str(exc.message)


def _is_already_known(message: str) -> bool:
    text = message.lower()
    return "already known" in text or "already imported" in text or "known transaction" in text


def _is_nonce_too_low(message: str) -> bool:
    text = message.lower()
    return "nonce too low" in text or "nonce is too low" in text
