"""The generator interface: a task source turns a 32-byte task seed into an item."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, NamedTuple

__all__ = ["Item", "LeafSource"]


class Item(NamedTuple):
    """What a generator makes of a task seed (a :class:`worldgym.gym.task.Task` without its index).

    A named tuple rather than a dataclass: one is made per task, on the hot path.
    """

    question: str
    answer: str | None
    metadata: dict[str, Any]


class LeafSource(ABC):
    """A non-composite task source. Implementations must be deterministic on every machine."""

    #: stable identifier of the source inside its environment, e.g. ``reasoning_gym/chain_sum``
    source_id: str

    @abstractmethod
    def generate(self, task_seed: bytes) -> Item:
        """The item for ``task_seed`` (32 bytes); the same on every machine and every call."""
