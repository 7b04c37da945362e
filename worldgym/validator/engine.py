"""Everything a validator needs to score real batches: fetch, environments, models, the sample.

:class:`BatchScorer` builds a :class:`worldgym.validator.checks.BatchContext` for each
on-chain batch and calls :func:`worldgym.validator.checks.score_batch`. Failures that
are the miner's (bytes that do not match the CID, a batch missing from
storage, a spec that cannot be reproduced) become a score of 0 with the
reason; failures that are the validator's own (its storage or RPC down, the
declared model's registered checkpoint unreadable) raise, so the validator
does not commit scores it could not compute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from eth_utils import keccak, to_checksum_address

from worldgym.chain.contracts import BatchRecord, Protocol
from worldgym.core.errors import WorldGymError
from worldgym.core.schemas import MAX_BATCH_BYTES, BatchDocument
from worldgym.gym import Environment, GymError, load_environment
from worldgym.gym.audit import check_registrable
from worldgym.gym.registry import resolve
from worldgym.policy.checkpoint import resolve_model
from worldgym.policy.errors import BackendUnavailableError, PolicyError
from worldgym.policy.rollout import (
    LogitsModel,
    RolloutCheck,
    Tolerances,
    TraceToCheck,
    check_rollouts,
)
from worldgym.storage import ContentStore, cid_from_bytes
from worldgym.storage.errors import (
    CidError,
    ContentNotFoundError,
    IntegrityError,
    ReadLimitError,
    StorageError,
    StoreUnavailableError,
)
from worldgym.validator.checks import BatchContext, BatchVerdict, RolloutRequest, score_batch
from worldgym.validator.errors import ValidatorError

__all__ = ["BatchScorer", "sample_seed_for"]


def sample_seed_for(protocol: Protocol, epoch: int, *, poke: bool) -> bytes:
    """The randomness for epoch ``epoch``'s rollout samples: the seed of epoch ``epoch + 1``.

    It is fixed at the start of the next epoch, after submissions to
    ``epoch`` closed, so no miner could know it when submitting. With
    ``poke`` the validator fixes it on chain if nobody has yet.
    """
    seed = protocol.seed(epoch + 1)
    if seed is None and poke:
        seed = protocol.poke_seed(epoch + 1)
    if seed is None:
        raise ValidatorError(
            f"the seed of epoch {epoch + 1} is not fixed yet, so the rollout sample of epoch "
            f"{epoch} cannot be drawn: wait for epoch {epoch + 1}, or poke it with a wallet"
        )
    return seed


class BatchScorer:
    """Scores the batches of one deployment as validator ``validator``."""

    def __init__(
        self,
        protocol: Protocol,
        store: ContentStore,
        model_cache: Path,
        validator: str,
        *,
        prove: bool = True,
        device: str = "cpu",
        tolerances: Tolerances | None = None,
    ) -> None:
        self.protocol = protocol
        self.store = store
        self.model_cache = model_cache
        self.validator = to_checksum_address(validator)
        self.prove = prove
        self.device = device
        self.tolerances = tolerances or Tolerances()
        self._envs: dict[tuple[int, int], Environment] = {}
        self._refused: dict[tuple[int, int], GymError] = {}
        self._scorers: dict[int, LogitsModel] = {}
        self._checkpoints: dict[int, str] = {}

    # ─── what the validator knows on its own ──────────────────────────────────

    def environment(self, env_id: int, version: int) -> Environment:
        """The environment ``env_id`` at ``version``, loaded and audited once.

        The audit is the one ``env register`` runs (:func:`worldgym.gym.audit.check_registrable`):
        anyone can register a spec on the contract directly, skipping the CLI, so a
        validator refuses here too an environment whose verifier ignores the reference
        or pays degenerate answers. A refusal is remembered, so it costs one audit.
        """
        key = (env_id, version)
        if key in self._refused:
            raise self._refused[key]
        if key not in self._envs:
            try:
                _, spec = resolve(self.protocol, self.store, env_id, version)
            except StoreUnavailableError as exc:
                raise ValidatorError(f"cannot fetch environment {env_id}'s spec: {exc}") from None
            try:
                env = load_environment(spec)
                check_registrable(env)
            except GymError as exc:
                self._refused[key] = exc
                raise
            self._envs[key] = env
        return self._envs[key]

    def checkpoint(self, model_id: int) -> str:
        """The registered checkpoint CID of ``model_id``."""
        if model_id not in self._checkpoints:
            record = self.protocol.model(model_id)
            self._checkpoints[model_id] = cid_from_bytes(record.checkpoint_cid)
        return self._checkpoints[model_id]

    def scorer(self, model_id: int) -> LogitsModel:
        """The declared model, loaded once (needs the ml extra)."""
        if model_id not in self._scorers:
            try:
                # The proof reads the whole next-token distribution at every position
                # (LogitsModel), which of the backends only transformers hands over.
                from worldgym.policy.hf import TransformersPolicy

                handle = resolve_model(self.protocol, self.store, self.model_cache, model_id)
                self._scorers[model_id] = TransformersPolicy(handle.path, device=self.device)
            except BackendUnavailableError as exc:
                raise ValidatorError(
                    f"the proof of rollout needs the declared model: {exc}. A validator "
                    "without it would accept traces no model wrote, so it refuses to score"
                ) from None
            except (PolicyError, StorageError) as exc:
                raise ValidatorError(
                    f"cannot load model {model_id} to check rollouts: {exc}"
                ) from None
        return self._scorers[model_id]

    def _rollout(
        self, doc: BatchDocument, requests: Sequence[RolloutRequest]
    ) -> list[RolloutCheck]:
        scorer = self.scorer(doc.header.model.id)
        traces = []
        for request in requests:
            trace = doc.traces[request.number]
            prompt = [m.model_dump() for m in trace.prompt]
            traces.append(
                TraceToCheck(
                    prompt, trace.tokens, trace.logprobs, trace.completion, request.key,
                    request.canaries,
                )
            )  # fmt: skip
        return check_rollouts(scorer, traces, doc.header.sampling, self.tolerances)

    # ─── scoring ──────────────────────────────────────────────────────────────

    def fetch(self, record: BatchRecord) -> tuple[bytes | None, str | None]:
        """The batch's bytes, verified against its CID, or (None, the miner-facing reason)."""
        try:
            cid = cid_from_bytes(record.cid)
            return self.store.get_bytes(cid, max_bytes=MAX_BATCH_BYTES), None
        except CidError as exc:
            return None, f"the on-chain CID is not a valid CID: {exc}"
        except IntegrityError as exc:
            return None, f"the bytes in storage do not match the CID: {exc}"
        except ContentNotFoundError as exc:
            return None, f"the batch is not available in storage: {exc}"
        except ReadLimitError as exc:
            return None, f"the batch is over the size cap: {exc}"
        except StoreUnavailableError as exc:
            raise ValidatorError(f"this validator's storage is down: {exc}") from None

    def context(self, record: BatchRecord, seed: bytes, sample_seed: bytes | None) -> BatchContext:
        """What the validator knows about ``record`` independently of the batch."""
        checkpoint: str | None = None
        if record.model_id:  # 0 only offline, for a document that names no model
            try:
                checkpoint = self.checkpoint(record.model_id)
            except WorldGymError as exc:  # the contract only accepts registered models
                raise ValidatorError(f"cannot read model {record.model_id}: {exc}") from None
        rollout = self._rollout if self.prove else None
        return BatchContext(
            record=record,
            validator=self.validator,
            chain_id=self.protocol.deployment.chain_id,
            contract=self.protocol.gym.address,
            seed=seed,
            checkpoint_cid=checkpoint,
            environment=self.environment,
            rollout=rollout,
            sample_seed=sample_seed,
        )

    def score(
        self,
        record: BatchRecord,
        seed: bytes,
        sample_seed: bytes | None,
        data: bytes | None = None,
    ) -> BatchVerdict:
        """Fetch (unless ``data`` is given) and score one on-chain batch."""
        reason = None
        if data is None:
            data, reason = self.fetch(record)
        return score_batch(data, self.context(record, seed, sample_seed), reason)

    def score_epoch(
        self,
        epoch: int,
        *,
        sample_seed: bytes | None,
        on_batch: Callable[[BatchRecord, BatchVerdict], None] | None = None,
    ) -> list[BatchVerdict]:
        """Verdicts on every batch of ``epoch``, in index order."""
        seed = self.protocol.seed(epoch)
        records = self.protocol.batches(epoch)
        if records and seed is None:
            raise ValidatorError(f"epoch {epoch} has batches but no seed on chain")
        verdicts = []
        for record in records:
            assert seed is not None
            verdict = self.score(record, seed, sample_seed)
            verdicts.append(verdict)
            if on_batch is not None:
                on_batch(record, verdict)
        return verdicts


def offline_sample_seed(cid: bytes) -> bytes:
    """A stand-in sample seed for checking a batch before the next epoch's seed exists."""
    return keccak(b"worldgym.verify-batch" + cid)
