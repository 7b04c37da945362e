"""An environment, verifiers-style: a task source, a parser (answer extraction) and a rubric.

:func:`load_environment` builds one from a spec; the validator and the miner
both call :meth:`Environment.task` to derive tasks, :meth:`Environment.prompt`
for the chat messages and :meth:`Environment.score` for the verdict.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from worldgym.gym.checks import check_patterns, check_samples
from worldgym.gym.derive import parse_seed, task_seed
from worldgym.gym.errors import DerivationError, SandboxError
from worldgym.gym.extract import describe, make_extractor
from worldgym.gym.generators import TaskSource, check_reproducible
from worldgym.gym.loading import read_spec
from worldgym.gym.spec import QUESTION_PLACEHOLDER, EnvSpec
from worldgym.gym.task import Score, Task
from worldgym.gym.timeouts import VerifierTimeout
from worldgym.gym.verifiers import make_verifier

__all__ = ["Environment", "load_environment", "load_spec"]

_CACHE_SIZE = 32
_cache: OrderedDict[bytes, Environment] = OrderedDict()
_cache_lock = threading.Lock()


class Environment:
    """A loaded environment. Build it with :func:`load_environment`."""

    def __init__(self, spec: EnvSpec) -> None:
        """Build the environment after the machine checks (:mod:`worldgym.gym.checks`).

        Raises:
            SpecError: the spec fails a check; NotReproducibleError: not reproducible here.
        """
        check_reproducible(spec)
        check_patterns(spec)
        self.spec = spec
        self.source = TaskSource(spec.generator)
        self.parser = make_extractor(spec.extract)
        self.rubric = make_verifier(spec.verifier, self.source.leaf)
        self._expects = describe(spec.extract)
        check_samples(self)

    def task(
        self, seed: bytes | str, env_id: int, version: int, miner: str | bytes, index: int
    ) -> Task:
        """The task a miner gets for ``index`` in an epoch with ``seed`` (see :mod:`gym.derive`).

        Raises:
            DerivationError: an input is malformed or outside its Solidity type's range.
        """
        return self.task_from_seed(task_seed(seed, env_id, version, miner, index), index)

    def tasks(
        self,
        seed: bytes | str,
        env_id: int,
        version: int,
        miner: str | bytes,
        indices: Iterable[int],
    ) -> list[Task]:
        """:meth:`task` for each index, in order."""
        seed_bytes = parse_seed(seed)
        return [self.task(seed_bytes, env_id, version, miner, index) for index in indices]

    def task_from_seed(self, seed: bytes, index: int) -> Task:
        """The task for an already computed 32-byte task seed."""
        if len(seed) != 32:
            raise DerivationError(f"a task seed is 32 bytes, got {len(seed)}")
        leaf, item = self.source.generate(seed)
        return Task(
            index=index,
            task_seed=seed,
            question=item.question,
            answer=item.answer,
            metadata=item.metadata,
            source=leaf.source_id,
        )

    def prompt(self, task: Task) -> list[dict[str, str]]:
        """Chat messages: the spec's system message (if not empty) and the user message."""
        messages = []
        if self.spec.prompt.system:
            messages.append({"role": "system", "content": self.spec.prompt.system})
        user = self.spec.prompt.user.replace(QUESTION_PLACEHOLDER, task.question)
        messages.append({"role": "user", "content": user})
        return messages

    def extract(self, completion: str) -> str | None:
        """The answer in ``completion`` per the spec's ``extract``; None if there is none."""
        if not isinstance(completion, str) or len(completion) > self.spec.completion_char_limit:
            return None
        return self.parser(completion)

    def score(self, task: Task, completion: str) -> Score:
        """Score one completion in [0, 1] with a reason; never raises because of the completion.

        Raises:
            SandboxError: only when this machine cannot start the sandbox at all
                (then no code completion can be scored here, whatever it holds).
        """
        if not isinstance(completion, str):
            return Score.zero(f"the completion is not text ({type(completion).__name__})")
        limit = self.spec.completion_char_limit
        if len(completion) > limit:
            return Score.zero(
                f"the completion is {len(completion)} characters; the limit is {limit}"
            )
        try:
            answer = self.parser(completion)
        except VerifierTimeout:
            return Score.zero("answer extraction took too long")
        except (RecursionError, MemoryError, ValueError) as exc:
            return Score.zero(f"could not extract an answer ({type(exc).__name__})")
        if answer is None:
            return Score.zero(f"no answer found: expected {self._expects}")
        if not answer:
            return Score.zero("the answer is empty")
        try:
            return self.rubric(task, answer)
        except SandboxError:
            raise
        except Exception as exc:
            return Score.zero(
                f"the verifier failed on this answer ({type(exc).__name__}: {exc})"[:300]
            )


def load_environment(spec: EnvSpec | str | Path | bytes) -> Environment:
    """The environment of a spec (an :class:`EnvSpec`, a spec file path, or the spec's bytes).

    Environments are cached by the spec's canonical bytes, so loading the same
    spec again is free (dataset instances are built once).

    Raises:
        SpecError: the spec is malformed; NotReproducibleError: not reproducible here.
    """
    if not isinstance(spec, EnvSpec):
        spec = read_spec(spec)
    key = spec.canonical_bytes()
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    environment = Environment(spec)
    with _cache_lock:
        _cache[key] = environment
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return environment


def load_spec(
    source: str | Path | bytes, *, check: bool = True, json_only: bool = False
) -> EnvSpec:
    """Load a spec from a file path or from its bytes (YAML or JSON).

    Args:
        source: a path to a ``.yaml``/``.json`` file, or the spec's bytes.
        check: also run this machine's checks (reproducible here, config within
            bounds, regexes fast, sample tasks derivable: :mod:`worldgym.gym.checks`); the
            environment built for them is cached, so loading it next is free.
        json_only: refuse anything but JSON (specs read from the network are
            pinned as canonical JSON; YAML is for files people write).

    Raises:
        SpecError: the spec is malformed, has unknown fields or kinds, or fails a check.
        NotReproducibleError: a pinned version or dataset cannot be reproduced here.
    """
    spec = read_spec(source, json_only=json_only)
    if check:
        load_environment(spec)
    return spec
