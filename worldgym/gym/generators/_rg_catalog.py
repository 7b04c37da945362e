"""What we know about each reasoning-gym dataset, for the one version the gym supports.

These facts were measured on reasoning-gym 0.1.25 and are checked by
``tests/gym/test_gym_rg_catalog.py`` for every dataset, so a version bump that
changes them fails the tests instead of silently forking validators.

* ``PER_TASK_INSTANCE``: datasets whose ``__init__`` draws from the seed or the
  size (e.g. ``Random(self.seed).choices(tasks, k=self.size)``), so item ``i`` of
  one big instance is not item 0 of an instance seeded ``i``; each task builds a
  dataset of size 1 (cheap for these).
* ``HASH_SEED_DEPENDENT``: datasets whose items depend on ``PYTHONHASHSEED``
  (they iterate over sets of strings); in-process, two machines would derive
  different tasks, so they run in a child with ``PYTHONHASHSEED=0``
  (:mod:`worldgym.gym.generators._pinned`).
* ``LITERAL_EVAL_SCORERS``: scorers that ``eval()`` the miner's answer; in these
  modules ``eval`` is shadowed by a literal-only evaluator (:mod:`._rg_guards`).
* ``EXPRESSION_SCORERS``: scorers that hand the answer to ``sympy.parse_expr``
  (which evaluates Python); answers must first pass an arithmetic-only check.
* ``REVIEWED_EVALS``: other modules that call ``eval``/``exec``/``parse_expr``,
  reviewed: none of them evaluates the miner's answer.
* ``NOISY``: datasets that print to stdout while generating or scoring.
* ``EXCLUDED``: registered names that are not procedural datasets of their own.
"""

from __future__ import annotations

__all__ = [
    "EXCLUDED",
    "EXPRESSION_SCORERS",
    "HASH_SEED_DEPENDENT",
    "LITERAL_EVAL_SCORERS",
    "NOISY",
    "PER_TASK_INSTANCE",
    "REVIEWED_EVALS",
    "SUPPORTED_VERSION",
]

SUPPORTED_VERSION = "0.1.25"

PER_TASK_INSTANCE: frozenset[str] = frozenset(
    {"acre", "gsm_symbolic", "list_functions", "word_ladder"}
)

HASH_SEED_DEPENDENT: dict[str, str] = {
    "isomorphic_strings": "its questions iterate over a set of strings",
    "knight_swap": "its reference solutions iterate over a set of strings",
    "polynomial_multiplication": "its polynomials are built from a set of sympy symbols",
    "ransom_note": "its questions iterate over a set of strings",
    "word_ladder": "its reference paths iterate over a set of words",
}

LITERAL_EVAL_SCORERS: dict[str, str] = {
    "binary_matrix": "reasoning_gym.algorithmic.binary_matrix",
    "n_queens": "reasoning_gym.games.n_queens",
    "spiral_matrix": "reasoning_gym.algorithmic.spiral_matrix",
    "string_insertion": "reasoning_gym.algorithmic.string_insertion",
}

EXPRESSION_SCORERS: frozenset[str] = frozenset(
    {
        "countdown",
        "intermediate_integration",
        "polynomial_multiplication",
        "puzzle24",
        "simple_integration",
    }
)

REVIEWED_EVALS: dict[str, str] = {
    "basic_arithmetic": "evaluates its own generated expression to make the reference",
    "bitwise_arithmetic": "evaluates the task's own problem; the answer goes through int()",
    "codeio": "runs code snippets shipped with reasoning-gym while generating, never the answer",
    "number_sorting": "falls back to eval only for the reference answer",
    "propositional_logic": "its parse_expr is its own recursive parser, not sympy's",
}

NOISY: frozenset[str] = frozenset({"bf", "codeio"})

EXCLUDED: dict[str, str] = {
    "composite": "use a generator of kind 'composite' instead (the spec pins and weighs its parts)",
}
