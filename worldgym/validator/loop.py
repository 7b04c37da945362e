"""The validator's loop: score closed epochs, commit, reveal, finalize, claim, survive restarts.

:meth:`Validator.step` looks at the current block and does what each recent
epoch needs from this validator, reading both its local state and the chain,
so it is safe to call after any crash:

* in epoch ``e``'s **submission** window: fix ``seed(e)`` if nobody has (it
  expires 256 blocks on), and fetch every batch of ``e`` as it arrives, with
  its environment and model, so that scoring can start the moment ``e`` closes;
* in ``e``'s **commit** window: score every batch of ``e`` (if not yet
  scored), pack each verdict as a lane (``score << 7 | digest``, FRAUD for
  fraud), choose environment weights (the injectable ``env_weights`` hook),
  write lanes + weights + salt + commitment to the state file, then commit
  (unless the chain already has that commitment);
* in the **reveal** window: reveal (unless already revealed on chain);
* after it: finalize ``e`` in chunks (anyone may) and claim what is credited.

:meth:`Validator.run` is supervised (:class:`worldgym.client.supervise.Supervisor`): an
RPC or storage outage is waited out with backoff and a status line, never an
exit, and the next step resumes from the state file and the chain. Commit and
reveal transactions are recorded (their hash, in the state file) before they
are sent, so after an outage a transaction the node still holds is waited
for, never sent twice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from web3.exceptions import TransactionNotFound
from web3.types import TxReceipt

from worldgym.chain.contracts import BatchRecord, CommitmentRecord, Protocol, Stage, Window
from worldgym.chain.errors import ChainError
from worldgym.chain.protocol_math import (
    FRAUD,
    commitment,
    default_env_weights,
    make_lane,
    pack_env_weights,
    pack_lanes,
)
from worldgym.chain.tx import SentTx, TxSender
from worldgym.client.supervise import Supervisor, is_outage
from worldgym.core.amounts import format_wgt
from worldgym.storage import compute_cid
from worldgym.storage.errors import StorageError
from worldgym.validator.checks import BatchVerdict
from worldgym.validator.engine import BatchScorer, sample_seed_for
from worldgym.validator.errors import StateError, ValidatorError
from worldgym.validator.state import EpochRecord, EpochState, ValidatorState

__all__ = ["EnvWeights", "Validator", "ValidatorConfig", "full_env_weights"]

EnvWeights = Callable[[int, Sequence[int]], dict[int, int]]
"""``(epoch, env ids with a batch in it) -> {env_id: weight in 0..10,000}``: the weights a
validator reveals (an environment it leaves out weighs 0)."""

_PROBE_CID = compute_cid(b"")  # asked of storage to tell "storage is down" from a bad batch


def full_env_weights(epoch: int, env_ids: Sequence[int]) -> dict[int, int]:
    """The default :data:`EnvWeights`: full weight for every environment with a batch."""
    return default_env_weights(env_ids)


@dataclass(frozen=True)
class ValidatorConfig:
    """How the validator paces itself.

    ``max_delay_s`` caps the wait between tries during an outage (short, so that a
    window reopened by the node's return is not slept through).
    """

    finalize_chunk: int = 64
    poll_s: float = 2.0
    lookback_epochs: int = 4
    claim: bool = True
    max_delay_s: float = 5.0


class Validator:
    """One staked validator account."""

    def __init__(
        self,
        protocol: Protocol,
        scorer: BatchScorer,
        state: ValidatorState,
        config: ValidatorConfig | None = None,
        *,
        console: Console | None = None,
        sleep: Callable[[float], None] = time.sleep,
        env_weights: EnvWeights = full_env_weights,
    ) -> None:
        self.protocol = protocol
        self.env_weights = env_weights
        self.scorer = scorer
        self.state = state
        self.config = config or ValidatorConfig()
        self.console = console or Console(stderr=True)
        self.sleep = sleep
        self.address = to_checksum_address(scorer.validator)
        self.supervisor = Supervisor(
            "validator", self.console.print, sleep=sleep, max_delay_s=self.config.max_delay_s
        )
        self._prefetch_seen: set[tuple[int, int]] = set()
        self._poked: set[int] = set()
        self.revealed: set[int] = set()  # epochs this process revealed (or found revealed)
        self._said: set[str] = set()

    # ─── one pass ────────────────────────────────────────────────────────────

    def step(self) -> list[str]:
        """Do whatever the current block calls for; return what was done.

        An outage (RPC or storage down) propagates, for :meth:`run` to wait out; any
        other trouble with one epoch (a revert) is reported and retried next step.
        """
        done: list[str] = []
        current = self.protocol.current_epoch()
        self._poke_seed(current)
        for epoch in range(max(0, current - self.config.lookback_epochs), current):
            try:
                done.extend(self._epoch_step(epoch))
            except (ChainError, StorageError, ValidatorError) as exc:
                if is_outage(exc):
                    raise
                self._raise_if_storage_down()
                # One epoch's trouble (a revert) must not stop the others; the next step
                # retries whatever is still possible in its window.
                done.append(f"epoch {epoch}: {exc}")
        self._prefetch(current)
        if self.config.claim:
            try:
                amount = self.protocol.claim()
            except ChainError as exc:
                if is_outage(exc):
                    raise
                done.append(f"claim failed (retried next step): {exc}")
            else:
                if amount:
                    done.append(f"claimed {format_wgt(amount)}")
        for line in done:
            if line not in self._said:  # the same news every poll is said once
                self.console.print(line)
        self._said = set(done)
        return done

    def _epoch_step(self, epoch: int) -> list[str]:
        block = self.protocol.block_number()
        commit_opens, commit_closes = self.protocol.window(epoch, Window.COMMIT)
        reveal_opens, reveal_closes = self.protocol.window(epoch, Window.REVEAL)
        record = self.state.get(epoch)
        if commit_opens <= block < commit_closes:
            if record is None:
                record = self.score(epoch)
                if record is None:
                    return []
            return self._commit(record)
        if reveal_opens <= block < reveal_closes:
            return self._reveal(record) if record is not None else []
        if block >= reveal_closes:
            return self._finalize(epoch, record)
        return []

    def _poke_seed(self, epoch: int) -> None:
        """Fix ``seed(epoch)`` at the epoch's start if nobody has: it expires 256 blocks on, and
        an epoch whose seed expired takes no batches (``WorldGymSeedExpired``)."""
        if epoch in self._poked:
            return
        try:
            self.protocol.poke_seed(epoch)
            self._poked.add(epoch)
        except ChainError as exc:
            if is_outage(exc):
                raise
            self._poked.add(epoch)  # expired or refused: say it once, not every step
            self.console.print(f"epoch {epoch}: the seed could not be fixed: {exc}")

    def _raise_if_storage_down(self) -> None:
        """Re-raise a storage outage hidden in a scoring error (the engine reports it as a
        ValidatorError): asking storage for anything shows whether it answers."""
        self.scorer.store.has(_PROBE_CID)

    # ─── fetching ahead ──────────────────────────────────────────────────────

    def _prefetch(self, epoch: int) -> None:
        """Fetch the batches of the running ``epoch`` that arrived since the last step (which
        checks they are in storage and warms the store), and load their environments and
        models, so that scoring starts the moment the epoch closes."""
        for record in self.protocol.batches(epoch):
            key = (record.epoch, record.index)
            if key in self._prefetch_seen:
                continue
            try:
                self.scorer.fetch(record)
                self.scorer.environment(record.env_id, record.env_version)
                self.scorer.checkpoint(record.model_id)
                if self.scorer.prove:
                    self.scorer.scorer(record.model_id)
            except ValidatorError:
                self._raise_if_storage_down()  # an outage is waited out
                # Anything else, scoring meets again and reports with the batch.
            self._prefetch_seen.add(key)

    # ─── scoring ─────────────────────────────────────────────────────────────

    def score(self, epoch: int) -> EpochRecord | None:
        """Score every batch of ``epoch`` and record scores, salt and commitment (no tx)."""
        count = self.protocol.batch_count(epoch)
        if count == 0:
            return None
        sample_seed = sample_seed_for(self.protocol, epoch, poke=True)
        started = time.monotonic()
        env_ids: set[int] = set()
        with Progress(
            TextColumn(f"[bold]epoch {epoch}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("batches"),
            TimeElapsedColumn(),
            console=self.console,
        ) as progress:
            bar = progress.add_task("score", total=count)

            def scored(record: BatchRecord, _verdict: BatchVerdict) -> None:
                env_ids.add(record.env_id)
                progress.advance(bar)

            verdicts = self.scorer.score_epoch(epoch, sample_seed=sample_seed, on_batch=scored)
        self._warn_if_slow(epoch, time.monotonic() - started, count)
        scores = [v.score for v in verdicts]
        lanes = [make_lane(FRAUD if v.fraud else v.score, v.digest) for v in verdicts]
        weights = self.env_weights(epoch, sorted(env_ids))
        reasons = [v.reason for v in verdicts]
        salt = os.urandom(32)
        digest = commitment(epoch, self.address, pack_lanes(lanes), pack_env_weights(weights), salt)
        return self.state.record_scores(
            epoch, scores, reasons, salt, digest, lanes=lanes, env_weights=weights
        )

    def _warn_if_slow(self, epoch: int, seconds: float, batches: int) -> None:
        opens, closes = self.protocol.window(epoch, Window.COMMIT)
        left = closes - self.protocol.block_number()
        block_s = self.protocol.block_seconds()
        window = f"{closes - opens} blocks" + (
            f" (~{(closes - opens) * block_s:.0f} s)" if block_s else ""
        )
        line = f"epoch {epoch}: scored {batches} batches in {seconds:.1f} s"
        if left <= 1:
            self.console.print(
                f"[red]{line}, past the commit window of {window}: the commitment is late. "
                "Use a faster --device, or a machine that scores an epoch within the window[/]"
            )
        else:
            self.console.print(f"{line}; the commit window ({window}) closes in {left} blocks")

    # ─── commit, reveal, finalize ────────────────────────────────────────────

    def _commit(self, record: EpochRecord) -> list[str]:
        if record.state != EpochState.SCORED:
            return []
        on_chain = self.protocol.commitment(record.epoch, self.address).commitment
        if on_chain == record.commitment:  # landed before a restart
            self.state.advance(record.epoch, EpochState.COMMITTED)
            return [f"epoch {record.epoch}: commitment already on chain"]
        if any(on_chain):
            raise StateError(
                f"epoch {record.epoch}: the chain holds another commitment from {self.address} "
                "than this state file: is another validator process using this key?"
            )
        if self._landed_before(
            record.commit_tx, lambda: self._on_chain(record.epoch).commitment == record.commitment
        ):
            self.state.advance(record.epoch, EpochState.COMMITTED)
            return [f"epoch {record.epoch}: committed (sent before the outage)"]
        receipt = self._send(record, "commit_tx", "commit", record.epoch, record.commitment)
        self.state.advance(
            record.epoch, EpochState.COMMITTED, commit_tx=receipt["transactionHash"].to_0x_hex()
        )
        return [f"epoch {record.epoch}: committed to {len(record.scores)} scores"]

    def _reveal(self, record: EpochRecord) -> list[str]:
        if record.state == EpochState.SCORED:
            on_chain = self.protocol.commitment(record.epoch, self.address)
            if on_chain.commitment != record.commitment:
                return [f"epoch {record.epoch}: missed the commit window; nothing to reveal"]
            record = self.state.advance(record.epoch, EpochState.COMMITTED)
        if record.state != EpochState.COMMITTED:
            return []
        if self.protocol.commitment(record.epoch, self.address).revealed:
            self.state.advance(record.epoch, EpochState.REVEALED)
            self.revealed.add(record.epoch)
            return []
        if self._landed_before(record.reveal_tx, lambda: self._on_chain(record.epoch).revealed):
            self.state.advance(record.epoch, EpochState.REVEALED)
            self.revealed.add(record.epoch)
            return [f"epoch {record.epoch}: revealed (sent before the outage)"]
        lanes, weights = pack_lanes(record.lanes), pack_env_weights(record.env_weights)
        receipt = self._send(
            record, "reveal_tx", "reveal", record.epoch, lanes, weights, record.salt
        )
        self.state.advance(
            record.epoch, EpochState.REVEALED, reveal_tx=receipt["transactionHash"].to_0x_hex()
        )
        self.revealed.add(record.epoch)
        return [f"epoch {record.epoch}: revealed"]

    def _finalize(self, epoch: int, record: EpochRecord | None) -> list[str]:
        done = []
        stage, _, _ = self.protocol.finalization(epoch)
        if stage != Stage.FINALIZED and self.protocol.batch_count(epoch) > 0:
            calls = 0
            while not self.protocol.finalize(epoch, self.config.finalize_chunk):
                calls += 1
            done.append(f"epoch {epoch}: finalized ({calls + 1} calls)")
        if record is not None and record.state != EpochState.FINALIZED:
            self.state.advance(epoch, EpochState.FINALIZED)
        return done

    # ─── sending once ────────────────────────────────────────────────────────

    def _send(self, record: EpochRecord, field: str, fn: str, *args: Any) -> TxReceipt:
        """Send ``fn(*args)`` to the gym, its hash written to ``field`` before the bytes leave."""
        sender = self.protocol.sender
        if not isinstance(sender, TxSender):
            return self.protocol.transact(self.protocol.gym, fn, *args)
        gym = self.protocol.gym

        def remember(tx_hash: str, _nonce: int, _raw: bytes) -> None:
            self.state.advance(record.epoch, record.state, **{field: tx_hash})

        sent = sender.submit(
            {"to": gym.address, "data": gym.encode_abi(fn, args=list(args))}, before_send=remember
        )
        return sender.wait(sent)

    def _on_chain(self, epoch: int) -> CommitmentRecord:
        return self.protocol.commitment(epoch, self.address)

    def _landed_before(self, tx_hash: str | None, landed: Callable[[], bool]) -> bool:
        """Whether ``tx_hash``, recorded before an outage or a crash, landed and did its work."""
        return tx_hash is not None and self._await_earlier(tx_hash) is not None and landed()

    def _await_earlier(self, tx_hash: str) -> TxReceipt | None:
        """A transaction sent before a crash or an outage: its receipt once mined (waited
        for while the node holds it), or None when the node never got it (send again)."""
        w3 = self.protocol.w3
        try:
            w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            sender = self.protocol.sender
            if isinstance(sender, TxSender):
                sender.nonces.resync()  # its nonce may be free again
            return None
        sender = self.protocol.sender
        if not isinstance(sender, TxSender):
            return None
        self.console.print(f"waiting for {tx_hash}, sent before the last outage")
        try:
            return sender.wait(SentTx(tx_hash, -1, {}))
        except ChainError as exc:
            if is_outage(exc):
                raise
            self.console.print(f"{tx_hash} did not succeed: {exc}")
            return None

    # ─── the loop ────────────────────────────────────────────────────────────

    def run(self, *, once: bool = False, epochs: int | None = None) -> list[str]:
        """Step until interrupted; ``once``: a single step; ``epochs``: until that many epochs
        revealed by this process are finalized (and their rewards claimed). Outages are waited
        out. Returns what was done."""
        done: list[str] = []
        while True:
            done.extend(self.supervisor.call(self.step, "validating"))
            if once:
                return done
            if epochs is not None and len(self.settled()) >= epochs:
                return done
            self.sleep(self.config.poll_s)

    def settled(self) -> list[int]:
        """Epochs this process revealed that are finalized since."""
        finalized = {r.epoch for r in self.state.records() if r.state == EpochState.FINALIZED}
        return sorted(self.revealed & finalized)
