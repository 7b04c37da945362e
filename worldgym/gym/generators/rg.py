"""Task source for reasoning-gym procedural datasets.

Mapping a task seed to an item (see worldgym/gym/README.md): with ``s = item_seed(task_seed)``
(bytes ``[0:4]``, a uint32), the item is by definition::

    reasoning_gym.create_dataset(dataset, **config, seed=s, size=1)[0]

with ``metadata.source_index`` (``source_idx`` in a few datasets) equal to 0.
Building a dataset per task would be slow, so for datasets whose item ``idx``
depends only on ``Random(self.seed + idx)`` we keep one instance per spec with
``seed=0, size=2**32`` and take item ``s`` of it, which is the same item; the
few datasets whose ``__init__`` draws from the seed (``PER_TASK_INSTANCE``) are
built per task. ``tests/gym/test_gym_rg_catalog.py`` checks the equivalence
for every dataset. The few datasets whose items depend on ``PYTHONHASHSEED``
(``HASH_SEED_DEPENDENT``) are generated and scored in a child interpreter with
the hash seed pinned to 0 (:mod:`worldgym.gym.generators._pinned`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import threading
from difflib import get_close_matches
from functools import lru_cache
from importlib import metadata as importlib_metadata
from typing import Any

from worldgym.gym.derive import item_seed
from worldgym.gym.errors import GenerationError, GymError, NotReproducibleError, SpecError
from worldgym.gym.generators._pinned import (
    GENERATE_TIMEOUT_S,
    SCORE_TIMEOUT_S,
    PinnedWorker,
    WorkerError,
)
from worldgym.gym.generators._rg_bounds import check_config_bounds
from worldgym.gym.generators._rg_catalog import (
    EXCLUDED,
    EXPRESSION_SCORERS,
    HASH_SEED_DEPENDENT,
    NOISY,
    PER_TASK_INSTANCE,
    SUPPORTED_VERSION,
)
from worldgym.gym.generators._rg_guards import (
    check_expression,
    harden_literal_scorers,
    pristine_decimals,
)
from worldgym.gym.generators._rg_strict import strict_refusal, strict_value
from worldgym.gym.generators.base import Item, LeafSource
from worldgym.gym.spec import ReasoningGymGenerator
from worldgym.gym.task import Task
from worldgym.gym.timeouts import VerifierTimeout, deadline

__all__ = ["DERIVE_TIMEOUT_S", "ReasoningGymSource", "check_reasoning_gym", "installed_version"]

#: wall-clock limit on deriving one task in-process (main thread; see worldgym.gym.timeouts)
DERIVE_TIMEOUT_S = 10.0

_BIG_SIZE = 2**32
_INDEX_KEYS = ("source_index", "source_idx")
_PROTOCOL_KEYS = frozenset({"seed", "size"})
_quiet_lock = threading.Lock()


def installed_version() -> str | None:
    """The installed reasoning-gym version, or None if it is not installed."""
    try:
        return importlib_metadata.version("reasoning-gym")
    except importlib_metadata.PackageNotFoundError:
        return None


def _quiet(dataset: str) -> contextlib.AbstractContextManager[Any]:
    """Swallow what a noisy dataset prints (bf prints dots) so ``--json`` output stays clean.

    ``redirect_stdout`` swaps a process-wide object, hence the lock; only the few
    datasets in ``NOISY`` pay for it.
    """
    if dataset not in NOISY:
        return contextlib.nullcontext()
    return _Quiet()


class _Quiet:
    def __enter__(self) -> None:
        _quiet_lock.acquire()
        self._redirect = contextlib.redirect_stdout(io.StringIO())
        self._redirect.__enter__()

    def __exit__(self, *exc: object) -> None:
        try:
            self._redirect.__exit__(None, None, None)
        finally:
            _quiet_lock.release()


def _registry() -> dict[str, tuple[type[Any], type[Any]]]:
    import reasoning_gym
    from reasoning_gym.factory import DATASETS

    del reasoning_gym  # imported for its side effect: registering every dataset
    harden_literal_scorers()
    registry: dict[str, tuple[type[Any], type[Any]]] = DATASETS
    return registry


def check_reasoning_gym(spec: ReasoningGymGenerator) -> None:
    """Refuse what this machine cannot reproduce exactly; the message says what differs.

    Raises:
        NotReproducibleError: reasoning-gym missing or at another version; a dataset that
            is not deterministic across machines.
        SpecError: unknown dataset, unknown or protocol-owned config field, invalid value.
    """
    installed = installed_version()
    if installed is None:
        raise NotReproducibleError(
            f"the spec needs reasoning-gym {spec.reasoning_gym_version}, which is not installed; "
            f"pip install reasoning-gym=={spec.reasoning_gym_version}"
        )
    if spec.reasoning_gym_version != installed:
        raise NotReproducibleError(
            f"the spec pins reasoning-gym {spec.reasoning_gym_version} but {installed} is "
            f"installed; "
            f"tasks would differ. Pin {installed} in the spec or install "
            f"reasoning-gym=={spec.reasoning_gym_version}"
        )
    if installed != SUPPORTED_VERSION:
        raise NotReproducibleError(
            f"this gym has only been validated against reasoning-gym {SUPPORTED_VERSION}, "
            f"not {installed}"
        )
    registry = _registry()
    if spec.dataset in EXCLUDED:
        raise SpecError(f"reasoning-gym dataset {spec.dataset!r}: {EXCLUDED[spec.dataset]}")
    if spec.dataset not in registry:
        close = get_close_matches(spec.dataset, list(registry), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise SpecError(
            f"reasoning-gym {installed} has no dataset {spec.dataset!r}{hint} "
            f"(see `python -c 'import reasoning_gym.factory as f; print(sorted(f.DATASETS))'`)"
        )
    owned = sorted(set(spec.config) & _PROTOCOL_KEYS)
    if owned:
        raise SpecError(f"generator.config: {owned} are set by the protocol, remove them")
    config_class, fields = _config_fields(spec.dataset)
    unknown = sorted(set(spec.config) - fields)
    if unknown:
        raise SpecError(
            f"generator.config: unknown field(s) {unknown} for dataset {spec.dataset!r}; "
            f"known: {sorted(fields - _PROTOCOL_KEYS)}"
        )
    try:
        check_config_bounds(spec.dataset, config_class, spec.config)
    except ValueError as exc:
        raise SpecError(f"dataset {spec.dataset!r}: {exc}") from None
    _build(spec.dataset, _config_key(spec.config), 0, 1)


def _config_fields(dataset: str) -> tuple[type[Any], set[str]]:
    _dataset_class, config_class = _registry()[dataset]
    return config_class, {f.name for f in dataclasses.fields(config_class)}


def _config_key(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


@lru_cache(maxsize=128)
def _build(dataset: str, config_json: str, seed: int, size: int) -> Any:
    """``create_dataset(dataset, **config, seed=seed, size=size)``, cached: instances are reused."""
    from reasoning_gym import create_dataset

    _registry()
    try:
        with _quiet(dataset), deadline(DERIVE_TIMEOUT_S):
            return create_dataset(dataset, **json.loads(config_json), seed=seed, size=size)
    except VerifierTimeout:
        raise SpecError(
            f"dataset {dataset!r} took longer than {DERIVE_TIMEOUT_S:g} s to set up with this "
            "config"
        ) from None
    except Exception as exc:  # reasoning-gym's config checks raise anything from asserts on
        why = f"{type(exc).__name__}: {exc}"[:300]
        raise SpecError(f"generator.config is invalid for dataset {dataset!r}: {why}") from None


class ReasoningGymSource(LeafSource):
    """One reasoning-gym dataset, with its config (checked by :func:`check_reasoning_gym`)."""

    def __init__(self, spec: ReasoningGymGenerator) -> None:
        check_reasoning_gym(spec)
        self.spec = spec
        self.dataset = spec.dataset
        self.source_id = f"reasoning_gym/{spec.dataset}"
        self.expression_answers = spec.dataset in EXPRESSION_SCORERS
        self._config_json = _config_key(spec.config)
        self._per_task = spec.dataset in PER_TASK_INSTANCE
        self._noisy = spec.dataset in NOISY
        self._worker: PinnedWorker | None = None
        if spec.dataset in HASH_SEED_DEPENDENT:
            self._worker = PinnedWorker(spec.dataset, self._config_json, self._per_task)
        #: True when items are made and scored in the pinned-hash child
        self.pinned = self._worker is not None
        size = 1 if self._per_task else _BIG_SIZE
        self._instance = _build(spec.dataset, self._config_json, 0, size)

    def entry(self, task_seed: bytes) -> dict[str, Any]:
        """The reasoning-gym entry (question, answer, metadata) for a task seed.

        Raises:
            GenerationError: reasoning-gym failed to make this item.
        """
        seed = item_seed(task_seed)
        try:
            if self._worker is not None:
                entry = self._pinned(seed)
            elif self._per_task:
                with _quiet(self.dataset), pristine_decimals(), deadline(DERIVE_TIMEOUT_S):
                    entry = _build.__wrapped__(self.dataset, self._config_json, seed, 1)[0]
            elif self._noisy:
                with _quiet(self.dataset), pristine_decimals(), deadline(DERIVE_TIMEOUT_S):
                    entry = self._instance[seed]
            else:
                with pristine_decimals(), deadline(DERIVE_TIMEOUT_S):
                    entry = self._instance[seed]
        except GymError:
            raise
        except VerifierTimeout:
            raise GenerationError(
                f"reasoning-gym {self.dataset} item {seed}: took longer than "
                f"{DERIVE_TIMEOUT_S:g} s to derive"
            ) from None
        except Exception as exc:
            why = f"{type(exc).__name__}: {exc}"
            raise GenerationError(f"reasoning-gym {self.dataset} item {seed}: {why}") from None
        metadata = entry.get("metadata")
        if isinstance(metadata, dict):
            for key in _INDEX_KEYS:
                if key in metadata:
                    metadata[key] = 0
        result: dict[str, Any] = entry  # a fresh dict from reasoning-gym, ours to keep
        return result

    def _pinned(self, seed: int) -> dict[str, Any]:
        assert self._worker is not None
        reply = self._worker.call({"op": "generate", "seed": seed}, GENERATE_TIMEOUT_S)
        if "error" in reply:
            raise GenerationError(f"reasoning-gym {self.dataset} item {seed}: {reply['error']}")
        return reply

    def generate(self, task_seed: bytes) -> Item:
        """The item for ``task_seed`` (see the module docstring for the exact definition)."""
        entry = self.entry(task_seed)
        answer = entry.get("answer")
        metadata = entry.get("metadata")
        return Item(
            question=str(entry["question"]),
            answer=None if answer is None else str(answer),
            metadata=metadata if isinstance(metadata, dict) else {},
        )

    def score_answer(self, answer: str, task: Task) -> tuple[float, str | None]:
        """reasoning-gym's score for ``answer``; or 0 and why it was refused or failed.

        The gym's stricter rules for datasets whose scorer pays degenerate
        answers apply first and last (:mod:`worldgym.gym.generators._rg_strict`).
        """
        if self.expression_answers:
            refused = check_expression(answer)
            if refused is not None:
                return 0.0, f"answer refused: {refused}"
        entry = {"question": task.question, "answer": task.answer, "metadata": task.metadata}
        refused = strict_refusal(self.dataset, answer, entry, self._instance)
        if refused is not None:
            return 0.0, f"answer refused: {refused}"
        if self._worker is not None:
            request = {"op": "score", "seed": item_seed(task.task_seed), "answer": answer}
            try:
                reply = self._worker.call(request, SCORE_TIMEOUT_S)
            except WorkerError as exc:
                return 0.0, str(exc)
            if "error" in reply:
                return 0.0, f"reasoning-gym's scorer rejected the answer ({reply['error']})"[:300]
            return strict_value(self.dataset, float(reply["value"]))
        with _quiet(self.dataset) if self._noisy else contextlib.nullcontext(), pristine_decimals():
            value = float(self._instance.score_answer(answer, entry))
        return strict_value(self.dataset, value)
