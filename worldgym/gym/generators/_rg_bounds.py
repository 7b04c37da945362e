"""Bounds on reasoning-gym configs, so that no spec can make task derivation hang or crash.

reasoning-gym checks that a config is consistent (``min <= max``), not that it
is sane: ``basic_arithmetic`` with ``min_terms: 3000000`` validates and then
overflows the C stack deriving a task; ``tower_of_hanoi`` with 40 disks would
print 2**40 moves. Every field a spec sets is therefore held to a bound derived
from the dataset's own defaults (the sizes its authors tested), per field type:

* **numbers**: ``|value| <= max(scale * m, m + 2)``, where ``m`` is the largest
  default of the field's family (``min_x`` and ``max_x`` share one) and
  ``scale`` is :data:`DEFAULT_SCALE`, or the dataset's entry in :data:`SCALES`
  where deriving a task at twice the defaults was measured to be slow (there
  ``scale`` 1 keeps every field at most its largest default); floats must be
  finite and at most ``max(scale * m, 1)`` in magnitude; booleans are booleans;
  :data:`FIELD_LIMITS` holds a few fields below their defaults where the
  dataset's own default range was measured to be slow (a spec must then set
  them: the default is refused too);
  ``tests/gym/test_gym_rg_bounds.py`` derives and scores tasks at the bound of
  every dataset and fails if one is slow or huge;
* **lists of strings**: a non-empty subset of the default list (or short words
  where :data:`WORDS` says names or colours are free text);
* **weights**: as many finite numbers in ``[0, 1000]`` as the default has;
* **strings**: one of :data:`CHOICES` (the values the dataset understands);
* everything else (dates, nested options, ranges, enums' objects) keeps its
  default: such a field cannot be set in a spec.

:data:`FIXED_FIELDS` lists fields that cannot be set even though their type
could, because a value changes what the process reads (``data_file``).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
from typing import Any

__all__ = [
    "DEFAULT_SCALE",
    "FIELD_LIMITS",
    "SCALES",
    "check_config_bounds",
    "field_bounds",
    "required_config",
]

DEFAULT_SCALE = 2.0

#: datasets where twice the defaults derived a task in over 250 ms of CPU, past the 10 s
#: deadline, or over 100,000 characters (measured on reasoning-gym 0.1.25): no field may
#: exceed its largest default there
SCALES: dict[str, float] = dict.fromkeys(
    (
        "arc_1d", "basic_arithmetic", "bf", "countdown", "futoshiki", "jugs", "number_sequence",
        "palindrome_partitioning", "polynomial_equations", "quantum_lock", "sokoban",
    ),
    1.0,
)  # fmt: skip

#: fields held below their defaults: futoshiki's 9 x 9 boards take 0.5-3 s a task and past
#: the 10 s deadline at the hardest difficulty; 7 x 7 boards take 0.1-0.2 s
FIELD_LIMITS: dict[tuple[str, str], float] = {
    ("futoshiki", "min_board_size"): 7,
    ("futoshiki", "max_board_size"): 7,
}

#: string fields and the values their dataset understands
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("basic_arithmetic", "format_style"): ("simple", "natural"),
    ("basic_arithmetic", "whitespace"): ("no", "single", "random"),
    ("caesar_cipher", "delimiter"): (".", ",", ";", "!", "?", " "),
    ("intermediate_integration", "symbols"): ("x", "y", "z", "t", "u"),
}

#: list fields whose items are free words (names, colours), not a subset of the default
WORDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("aiw", "male_names"),
        ("aiw", "female_names"),
        ("family_relationships", "male_names"),
        ("family_relationships", "female_names"),
        ("boxnet", "colour_list"),
    }
)

FIXED_FIELDS: dict[tuple[str, str], str] = {
    ("spell_backward", "data_file"): "it names a file the dataset reads",
}

_PROTOCOL_FIELDS = frozenset({"seed", "size"})
_WORD = re.compile(r"^[A-Za-z][A-Za-z' -]{0,31}$")
_MAX_WORDS = 256
_MAX_WEIGHT = 1000.0


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _family(name: str) -> str:
    return name.removeprefix("min_").removeprefix("max_")


def _defaults(config_class: type[Any]) -> dict[str, Any]:
    """Default of every field a spec may set (``seed`` and ``size`` belong to the protocol)."""
    return {
        f.name: _default(f)
        for f in dataclasses.fields(config_class)
        if f.name not in _PROTOCOL_FIELDS
    }


def field_bounds(dataset: str, config_class: type[Any]) -> dict[str, tuple[float, float]]:
    """The numeric bound ``(low, high)`` of every number field of ``dataset``'s config."""
    defaults = _defaults(config_class)
    largest: dict[str, float] = {}
    for name, value in defaults.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            family = _family(name)
            largest[family] = max(largest.get(family, 0.0), abs(float(value)))
    scale = SCALES.get(dataset, DEFAULT_SCALE)
    bounds: dict[str, tuple[float, float]] = {}
    for name, value in defaults.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        top = largest[_family(name)]
        if isinstance(value, int):
            limit: float = math.floor(max(scale * top, top + 2)) if scale > 1 else top
        else:
            limit = max(scale * top, 1.0)
        limit = FIELD_LIMITS.get((dataset, name), limit)
        bounds[name] = (-limit, limit)
    return bounds


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_list(dataset: str, name: str, value: Any, default: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list"
    items = [item.value if isinstance(item, enum.Enum) else item for item in default]
    if all(_is_number(item) for item in items):
        if len(value) > len(items):
            return f"must have at most {len(items)} weights"
        if not all(_is_number(w) and math.isfinite(w) and 0 <= w <= _MAX_WEIGHT for w in value):
            return f"weights must be numbers in [0, {_MAX_WEIGHT:g}]"
        return None
    if not all(isinstance(item, str) for item in items):
        return "cannot be set in a spec (the dataset's default is used)"
    if (dataset, name) in WORDS:
        if len(value) > _MAX_WORDS or not all(isinstance(w, str) and _WORD.match(w) for w in value):
            return f"must be at most {_MAX_WORDS} words of letters (up to 32 characters)"
        return None
    if len(value) > len(items) or not all(isinstance(v, str) and v in items for v in value):
        return f"must be a subset of {items}"
    return None


def _check_field(
    dataset: str, name: str, value: Any, default: Any, bound: tuple[float, float] | None
) -> str | None:
    """Why ``value`` is refused for field ``name``, or None."""
    if (dataset, name) in FIXED_FIELDS:
        return f"cannot be set in a spec: {FIXED_FIELDS[dataset, name]}"
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "must be true or false"
    if bound is not None:
        low, high = bound
        if not _is_number(value) or (isinstance(default, int) and not isinstance(value, int)):
            return f"must be {'an integer' if isinstance(default, int) else 'a number'}"
        if not math.isfinite(value) or not low <= value <= high:
            return (
                f"must lie in [{low:g}, {high:g}] (a bound derived from the dataset's defaults, "
                "so that deriving a task stays cheap)"
            )
        return None
    if isinstance(default, list | tuple):
        return _check_list(dataset, name, value, default)
    if (dataset, name) in CHOICES:
        choices = CHOICES[dataset, name]
        return None if value in choices else f"must be one of {list(choices)}"
    return "cannot be set in a spec (the dataset's default is used)"


def check_config_bounds(dataset: str, config_class: type[Any], config: dict[str, Any]) -> None:
    """Raise ValueError naming the first field of ``config`` outside its bound, and why."""
    defaults = _defaults(config_class)
    bounds = field_bounds(dataset, config_class)
    for name in sorted(config):
        why = _check_field(dataset, name, config[name], defaults.get(name), bounds.get(name))
        if why is not None:
            raise ValueError(f"generator.config.{name}: {why}")
    for (limited, name), limit in sorted(FIELD_LIMITS.items()):
        if limited == dataset and name not in config and abs(defaults[name]) > limit:
            raise ValueError(
                f"generator.config.{name}: the default {defaults[name]} derives too slowly; "
                f"set it to at most {limit:g}"
            )


def required_config(dataset: str, config_class: type[Any]) -> dict[str, float]:
    """What a spec of ``dataset`` must set: the limited fields whose default is over the limit."""
    defaults = _defaults(config_class)
    return {
        name: limit
        for (limited, name), limit in FIELD_LIMITS.items()
        if limited == dataset and abs(defaults[name]) > limit
    }
