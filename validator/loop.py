"""The validator's loop: score closed epochs, commit, reveal, finalize, claim, survive restarts.

:meth:`Validator.step` looks at the current block and does what each recent
epoch needs from this validator, reading both its local state and the chain,
so it is safe to call after any crash:

* in epoch ``e``'s **commit** window: score every batch of ``e`` (if not yet
  scored), pack each verdict as a lane (``score << 7 | digest``, FRAUD for
  fraud), choose environment weights (the injectable ``env_weights`` hook),
  write lanes + weights + salt + commitment to the state file, then commit
  (unless the chain already has that commitment);
* in the **reveal** window: reveal (unless already revealed on chain);
* after it: finalize ``e`` in chunks (anyone may) and claim what is credited.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eth_utils import to_checksum_address
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from client.contracts import BatchRecord, Protocol, Stage, Window
from client.errors import ChainError
from client.protocol_math import (
    FRAUD,
    commitment,
    default_env_weights,
    make_lane,
    pack_env_weights,
    pack_lanes,
)
from storage.errors import StorageError
from validator.checks import BatchVerdict
from validator.engine import BatchScorer, sample_seed_for
from validator.errors import StateError, ValidatorError
from validator.state import EpochRecord, EpochState, ValidatorState

__all__ = ["EnvWeights", "Validator", "ValidatorConfig", "full_env_weights"]

EnvWeights = Callable[[int, Sequence[int]], dict[int, int]]
"""``(epoch, env ids with a batch in it) -> {env_id: weight in 0..10,000}``: the weights a
validator reveals (an environment it leaves out weighs 0)."""


def full_env_weights(epoch: int, env_ids: Sequence[int]) -> dict[int, int]:
    """The default :data:`EnvWeights`: full weight for every environment with a batch."""
    return default_env_weights(env_ids)


@dataclass(frozen=True)
class ValidatorConfig:
    """How the validator paces itself."""

    finalize_chunk: int = 64
    poll_s: float = 2.0
    lookback_epochs: int = 4
    claim: bool = True


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

    # ─── one pass ────────────────────────────────────────────────────────────

    def step(self) -> list[str]:
        """Do whatever the current block calls for; return what was done."""
        done: list[str] = []
        current = self.protocol.current_epoch()
        for epoch in range(max(0, current - self.config.lookback_epochs), current):
            try:
                done.extend(self._epoch_step(epoch))
            except (ChainError, StorageError, ValidatorError) as exc:
                # One epoch's trouble (a revert, an outage) must not stop the others; the
                # next step retries whatever is still possible in its window.
                done.append(f"epoch {epoch}: {exc}")
        if self.config.claim and self.protocol.claimable(self.address) > 0:
            amount = self.protocol.claim()
            done.append(f"claimed {amount / 10**18:,.4f} WGT")
        for line in done:
            self.console.print(line)
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

    # ─── scoring ─────────────────────────────────────────────────────────────

    def score(self, epoch: int) -> EpochRecord | None:
        """Score every batch of ``epoch`` and record scores, salt and commitment (no tx)."""
        count = self.protocol.batch_count(epoch)
        if count == 0:
            return None
        sample_seed = sample_seed_for(self.protocol, epoch, poke=True)
        with Progress(
            TextColumn(f"[bold]epoch {epoch}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("batches"),
            TimeElapsedColumn(),
            console=self.console,
        ) as progress:
            bar = progress.add_task("score", total=count)
            env_ids: set[int] = set()

            def scored(record: BatchRecord, _verdict: BatchVerdict) -> None:
                env_ids.add(record.env_id)
                progress.advance(bar)

            verdicts = self.scorer.score_epoch(epoch, sample_seed=sample_seed, on_batch=scored)
        scores = [v.score for v in verdicts]
        lanes = [make_lane(FRAUD if v.fraud else v.score, v.digest) for v in verdicts]
        weights = self.env_weights(epoch, sorted(env_ids))
        reasons = [v.reason for v in verdicts]
        salt = os.urandom(32)
        digest = commitment(epoch, self.address, pack_lanes(lanes), pack_env_weights(weights), salt)
        return self.state.record_scores(
            epoch, scores, reasons, salt, digest, lanes=lanes, env_weights=weights
        )

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
        receipt = self.protocol.commit(record.epoch, record.commitment)
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
            return []
        receipt = self.protocol.reveal(
            record.epoch, pack_lanes(record.lanes), pack_env_weights(record.env_weights),
            record.salt,
        )  # fmt: skip
        self.state.advance(
            record.epoch, EpochState.REVEALED, reveal_tx=receipt["transactionHash"].to_0x_hex()
        )
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

    # ─── the loop ────────────────────────────────────────────────────────────

    def run(self, *, once: bool = False) -> None:
        """Step until interrupted (once: a single step)."""
        while True:
            self.step()
            if once:
                return
            self.sleep(self.config.poll_s)
