"""Parse untrusted JSON in bounded time and memory, whatever the process's recursion limit.

CPython's JSON decoder recurses once per nesting level, in C. Under the default
recursion limit a deep document raises ``RecursionError``; in a process that
raised the limit (py_ecc, which web3 imports, sets it to 100,000) the same
document overflows the C stack and kills the process. Documents from the
network (specs, manifests, metrics) are therefore measured *before* any parser
sees them:

* the size against the caller's cap;
* the nesting depth, walked without recursion over the bracket skeleton
  (string literals cut out by a regex that cannot backtrack, so an
  unterminated string costs one pass, not one per quote);
* ``NaN``/``Infinity`` (not JSON; they would break canonical re-encoding),
  integers longer than CPython allows, and optionally duplicate keys are
  refused while parsing.

Memory is then bounded by the byte cap: the worst case (``[[],[],...]``) costs
about 25 bytes of Python objects per input byte.

Every failure is one :class:`JSONLimitError` (a ``ValueError``) whose message
names the document and the reason; callers re-raise it in their own vocabulary.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_MAX_DEPTH", "JSONLimitError", "check_nesting", "loads_bounded"]

DEFAULT_MAX_DEPTH = 32

# A string literal: possessive repeats (never backtrack), and the closing quote is optional so
# that an unterminated string swallows the rest in one pass instead of failing at every quote.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.DOTALL)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_OPENERS = (ord("["), ord("{"))


class JSONLimitError(ValueError):
    """Untrusted JSON that is too large, too deep, malformed or not plain JSON; says which."""


def check_nesting(data: bytes, max_depth: int, *, what: str = "document") -> None:
    """Raise :class:`JSONLimitError` if ``data`` nests arrays/objects deeper than ``max_depth``.

    Linear in ``len(data)`` and iterative: only the bracket skeleton (outside
    string literals) is walked, and the walk stops at the first level too deep.
    Unbalanced brackets are left to the parser, which then fails without
    recursing past ``max_depth``.
    """
    skeleton = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    if len(skeleton) <= max_depth:
        return
    depth = 0
    for char in skeleton:
        if char in _OPENERS:
            depth += 1
            if depth > max_depth:
                raise JSONLimitError(f"{what} is nested deeper than {max_depth} levels")
        else:
            depth -= 1


def _refuse_constant(name: str) -> Any:
    raise JSONLimitError(f"{name} is not a JSON number")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise JSONLimitError(f"duplicate key {key[:80]!r}")
        out[key] = value
    return out


def loads_bounded(
    data: bytes,
    *,
    max_bytes: int,
    max_depth: int = DEFAULT_MAX_DEPTH,
    what: str = "document",
    unique_keys: bool = False,
) -> Any:
    """Parse ``data`` as UTF-8 JSON within the given bounds.

    Args:
        data: the untrusted bytes.
        max_bytes: longer inputs are refused before anything else.
        max_depth: deepest allowed nesting of arrays and objects.
        what: names the document in messages ("spec", "checkpoint manifest").
        unique_keys: refuse an object that repeats a key (two readers must not
            disagree on which value counts).

    Raises:
        JSONLimitError: with the reason, for every way the input can be refused.
    """
    if len(data) > max_bytes:
        raise JSONLimitError(f"{what} is {len(data):,} bytes; the limit is {max_bytes:,}")
    check_nesting(data, max_depth, what=what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONLimitError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    hook: Callable[[list[tuple[str, Any]]], dict[str, Any]] | None = (
        _unique_object if unique_keys else None
    )
    try:
        return json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=hook)
    except JSONLimitError as exc:
        raise JSONLimitError(f"{what}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise JSONLimitError(
            f"{what} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:  # only if the caller's stack was already nearly full
        raise JSONLimitError(f"{what} is nested too deeply for this process") from None
    except ValueError as exc:  # e.g. an integer longer than sys.get_int_max_str_digits()
        raise JSONLimitError(f"{what} is not plain JSON: {str(exc)[:200]}") from None
