"""The refinery's ledger, read from the chain and the store and re-verified.

For each finalized epoch: every batch from its ``BatchSubmitted`` event, its
consensus score, and its document fetched from storage (verified against the
CID), with each trace's token ids and log-probabilities and the header's
model and sampling settings (what GRPO needs). Each document is re-scored
exactly as a validator scores it
(:func:`worldgym.validator.checks.score_batch`: header against the submission,
prompts against the tasks derived here, every completion through the
environment's verifier), without the proof-of-rollout sample, which consensus
already stands for. A batch that cannot be read or is rejected (by the
re-verification, or flagged FRAUD by consensus) is kept in the ledger with its
reason, so the dataset manifest can say why it was left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from worldgym.chain.contracts import BatchRecord, Protocol, Stage
from worldgym.chain.protocol_math import FRAUD
from worldgym.core.schemas import parse_batch
from worldgym.refinery.errors import RefineryError
from worldgym.refinery.selection import Behaviour, Ledger, LedgerBatch, LedgerTrace
from worldgym.storage import ContentStore, cid_from_bytes
from worldgym.storage.errors import CidError
from worldgym.validator.engine import BatchScorer
from worldgym.validator.errors import ValidatorError

__all__ = ["LedgerReader", "finalized_epochs"]

_NOBODY = "0x" + "00" * 20


def finalized_epochs(protocol: Protocol, epochs: Iterable[int]) -> list[int]:
    """Those of ``epochs`` (ascending) that are finalized on chain."""
    current = protocol.current_epoch()
    return [
        e
        for e in sorted(set(epochs))
        if 0 <= e < current and protocol.finalization(e)[0] is Stage.FINALIZED
    ]


class LedgerReader:
    """Reads and re-verifies the batches of finalized epochs of one deployment."""

    def __init__(self, protocol: Protocol, store: ContentStore, model_cache: Path) -> None:
        self.protocol = protocol
        self.store = store
        self._scorer = BatchScorer(protocol, store, model_cache, _NOBODY, prove=False)

    def read(
        self,
        epochs: Iterable[int],
        *,
        min_consensus_bps: int = 0,
        on_batch: Callable[[LedgerBatch], None] | None = None,
    ) -> Ledger:
        """The ledger of ``epochs`` (each must be finalized).

        Batches whose consensus is under ``min_consensus_bps`` are listed but
        not fetched: selection would drop them anyway.

        Raises:
            RefineryError: an epoch is not finalized, or this machine's storage is down.
        """
        wanted = sorted(set(epochs))
        done = set(finalized_epochs(self.protocol, wanted))
        missing = [e for e in wanted if e not in done]
        if missing:
            raise RefineryError(
                f"epochs {missing} are not finalized: the refinery trains only on finalized "
                "epochs (run `worldgym validate` or finalize them first)"
            )
        batches: list[LedgerBatch] = []
        for epoch in wanted:
            seed = self.protocol.seed(epoch)
            for record in self.protocol.batches(epoch):
                batch = self._batch(record, seed, min_consensus_bps)
                batches.append(batch)
                if on_batch is not None:
                    on_batch(batch)
        return Ledger(tuple(wanted), tuple(batches))

    def _batch(self, record: BatchRecord, seed: bytes | None, min_consensus: int) -> LedgerBatch:
        consensus = self.protocol.consensus(record.epoch, record.index)
        fraud = consensus == FRAUD
        try:
            cid = cid_from_bytes(record.cid)
        except CidError:
            cid = "0x" + record.cid.hex()
        base = LedgerBatch(
            epoch=record.epoch,
            index=record.index,
            cid=cid,
            miner=record.miner,
            env_id=record.env_id,
            env_version=record.env_version,
            consensus_bps=0 if fraud else consensus,
        )
        if fraud:
            return _with_problem(base, "the stake majority flagged the batch as fraud")
        if consensus < min_consensus:
            return base
        if seed is None:
            return _with_problem(base, "the epoch has no seed on chain")
        try:
            data, reason = self._scorer.fetch(record)
            if data is None:
                return _with_problem(base, f"unreadable: {reason}")
            verdict = self._scorer.score(record, seed, None, data)
        except ValidatorError as exc:
            raise RefineryError(f"cannot re-verify batch {cid}: {exc}") from None
        if verdict.rejected:
            return _with_problem(base, f"re-verification {verdict.reason}")
        doc = parse_batch(data)  # score_batch accepted it, so it parses
        traces = tuple(
            LedgerTrace(
                task=trace.task,
                sample=trace.sample,
                prompt=tuple((m.role, m.content) for m in trace.prompt),
                completion=trace.completion,
                score=result.score,
                tokens=tuple(trace.tokens),
                logprobs=tuple(trace.logprobs),
            )
            for trace, result in zip(doc.traces, verdict.traces, strict=True)
        )
        header = doc.header
        behaviour = Behaviour(
            model_id=header.model.id,
            model_digest=header.model.digest,
            temperature=header.sampling.temperature,
            top_p=header.sampling.top_p,
        )
        return replace(base, traces=traces, behaviour=behaviour)


def _with_problem(batch: LedgerBatch, problem: str) -> LedgerBatch:
    return replace(batch, problem=problem[:500])
