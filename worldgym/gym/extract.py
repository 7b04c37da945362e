"""Answer extraction: from a completion to the answer string the verifier sees.

Every extractor is linear in the completion's length (no regex backtracking on
untrusted text except author patterns, which :mod:`worldgym.gym.regexes` vets, probes and
runs with a timeout in any thread) and returns ``None`` when the completion
holds no answer.
"""

from __future__ import annotations

from collections.abc import Callable

from worldgym.gym.regexes import RegexTimeoutError, compile_pattern, search_last
from worldgym.gym.spec import (
    BoxedExtract,
    CodeBlockExtract,
    Extract,
    FullExtract,
    RegexExtract,
    TagExtract,
)
from worldgym.gym.timeouts import VerifierTimeout

__all__ = ["Extractor", "boxed", "code_block", "describe", "make_extractor", "tag"]

Extractor = Callable[[str], str | None]

_BOXED_OPENERS = ("\\boxed{", "\\fbox{")


def tag(completion: str, name: str = "answer") -> str | None:
    """The stripped text inside the last ``<name>...</name>`` pair, or None."""
    close = f"</{name}>"
    end = completion.rfind(close)
    if end < 0:
        return None
    start = completion.rfind(f"<{name}>", 0, end)
    if start < 0:
        return None
    return completion[start + len(name) + 2 : end].strip()


def boxed(completion: str) -> str | None:
    r"""The stripped contents of the last ``\boxed{...}`` (or ``\fbox{...}``), braces balanced."""
    start = max(completion.rfind(opener) for opener in _BOXED_OPENERS)
    if start < 0:
        return None
    begin = completion.index("{", start) + 1
    depth = 1
    for pos in range(begin, len(completion)):
        char = completion[pos]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return completion[begin:pos].strip()
    return None


def code_block(completion: str, language: str = "python") -> str | None:
    """The body of the last fenced block tagged ``language``, else of the last fenced block."""
    pieces = completion.split("```")
    last_any: str | None = None
    last_lang: str | None = None
    # pieces[1], pieces[3], ... sit between an opening and a closing fence
    for body in pieces[1 : len(pieces) - 1 : 2]:
        info, newline, code = body.partition("\n")
        if not newline:
            continue
        last_any = code
        if info.strip().lower() == language.lower():
            last_lang = code
    chosen = last_lang if last_lang is not None else last_any
    return chosen.strip("\n") if chosen is not None else None


def _regex(completion: str, pattern: str, group: int) -> str | None:
    try:
        last = search_last(compile_pattern(pattern, "", ignore_case=False, dotall=True), completion)
    except RegexTimeoutError as exc:  # the caller scores 0 ("answer extraction took too long")
        raise VerifierTimeout(str(exc)) from None
    if last is None:
        return None
    try:
        value = last.group(group)
    except IndexError:
        return None
    return value.strip() if value is not None else None


def make_extractor(spec: Extract) -> Extractor:
    """The extraction function a spec's ``extract`` section describes."""
    if isinstance(spec, TagExtract):
        name = spec.tag
        return lambda completion: tag(completion, name)
    if isinstance(spec, BoxedExtract):
        return boxed
    if isinstance(spec, CodeBlockExtract):
        language = spec.language
        return lambda completion: code_block(completion, language)
    if isinstance(spec, RegexExtract):
        pattern, group = spec.pattern, spec.group
        return lambda completion: _regex(completion, pattern, group)
    if isinstance(spec, FullExtract):
        return lambda completion: completion.strip() or None
    raise TypeError(f"unknown extract kind {spec!r}")  # unreachable: the spec union is closed


def describe(spec: Extract) -> str:
    """Where the extractor looks, for reasons like ``no answer found (expected ...)``."""
    if isinstance(spec, TagExtract):
        return f"<{spec.tag}>...</{spec.tag}>"
    if isinstance(spec, BoxedExtract):
        return "\\boxed{...}"
    if isinstance(spec, CodeBlockExtract):
        return f"a ```{spec.language} fenced code block"
    if isinstance(spec, RegexExtract):
        return f"a match of /{spec.pattern}/"
    return "a non-empty completion"
