"""Task generators: from a task seed to a task, identically on every machine.

:class:`TaskSource` wraps the generator a spec names: one leaf source
(reasoning-gym dataset, ``python_functions``), or a composite whose part is
picked from the task seed by weight (:func:`worldgym.gym.derive.pick_weighted`).
"""

from __future__ import annotations

from worldgym.gym.derive import WeightedPicker
from worldgym.gym.generators.base import Item, LeafSource
from worldgym.gym.generators.python_functions import PythonFunctionsSource, check_python_functions
from worldgym.gym.generators.rg import ReasoningGymSource, check_reasoning_gym
from worldgym.gym.spec import (
    CompositeGenerator,
    EnvSpec,
    PythonFunctionsGenerator,
    ReasoningGymGenerator,
    leaf_generators,
)

__all__ = [
    "Item",
    "LeafSource",
    "PythonFunctionsSource",
    "ReasoningGymSource",
    "TaskSource",
    "check_reproducible",
]


def check_reproducible(spec: EnvSpec) -> None:
    """Raise unless this machine can reproduce every task of ``spec`` exactly.

    Raises:
        NotReproducibleError: a pinned version differs from what is installed or
            implemented here, or a dataset is not deterministic across machines.
        SpecError: an unknown dataset, family or config field, or an invalid config value.
    """
    for leaf in leaf_generators(spec.generator):
        if isinstance(leaf, ReasoningGymGenerator):
            check_reasoning_gym(leaf)
        else:
            check_python_functions(leaf)


def _leaf(spec: ReasoningGymGenerator | PythonFunctionsGenerator) -> LeafSource:
    if isinstance(spec, ReasoningGymGenerator):
        return ReasoningGymSource(spec)
    return PythonFunctionsSource(spec)


class TaskSource:
    """The task source of a spec's ``generator``; ``generate`` returns the leaf and its item."""

    def __init__(
        self, spec: ReasoningGymGenerator | PythonFunctionsGenerator | CompositeGenerator
    ) -> None:
        if isinstance(spec, CompositeGenerator):
            self.leaves = [_leaf(part.generator) for part in spec.parts]
            self.weights = [part.weight for part in spec.parts]
            self._picker: WeightedPicker | None = WeightedPicker(self.weights)
            for i, leaf in enumerate(self.leaves):
                leaf.source_id = f"{i}:{leaf.source_id}"
        else:
            self.leaves = [_leaf(spec)]
            self.weights = [1.0]
            self._picker = None
        self._by_id = {leaf.source_id: leaf for leaf in self.leaves}

    def generate(self, task_seed: bytes) -> tuple[LeafSource, Item]:
        """The leaf the task comes from and its item."""
        leaf = self.leaves[self._picker.pick(task_seed)] if self._picker else self.leaves[0]
        return leaf, leaf.generate(task_seed)

    def leaf(self, source_id: str) -> LeafSource | None:
        """The leaf with ``source_id`` (as stored in :attr:`gym.task.Task.source`), if any."""
        return self._by_id.get(source_id)
