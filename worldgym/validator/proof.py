"""What every validator checks the same way: which traces, which canaries, and the digest.

All validators check the same traces of a batch, drawn from the seed of the
epoch *after* the batch's (fixed only once submissions had closed) and the
batch's CID, so a forged trace is caught by all of them or by none, and their
digests can agree. Enough traces are drawn that a batch with at least
:data:`DETECTION_RATE` forged traces is caught with probability at least
:data:`DETECTION_CONFIDENCE` (:func:`checks_needed`).

The digest a validator reveals with each batch's score (7 bits) commits to
every trace's score and to the *canaries*: the runner-up tokens of the
sampling competition at :data:`CANARIES` positions of the checked traces,
which only a validator that ran the model knows (docs/protocol-v2.md §3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from eth_utils import keccak

__all__ = [
    "CANARIES",
    "DETECTION_CONFIDENCE",
    "DETECTION_RATE",
    "DIGEST_BITS",
    "canary_positions",
    "checks_needed",
    "rejection_digest",
    "rollout_picks",
    "verdict_digest",
]

DETECTION_RATE = 0.05
DETECTION_CONFIDENCE = 0.999
CANARIES = 4
DIGEST_BITS = 7

_PICK_DOMAIN = b"worldgym.check/1"
_CANARY_DOMAIN = b"worldgym.canary/1"
_VERDICT_DOMAIN = b"worldgym.verdict/1"


def checks_needed(
    count: int, rate: float = DETECTION_RATE, confidence: float = DETECTION_CONFIDENCE
) -> int:
    """How many of ``count`` traces to check: ``ceil(ln(1 - confidence) / ln(1 - rate))``, capped.

    Drawing without replacement catches at least as often as this bound
    (135 traces for 5% at 0.999); a smaller batch is checked whole.
    """
    if count <= 0:
        return 0
    need = math.ceil(math.log(1.0 - confidence) / math.log(1.0 - rate))
    return min(count, need)


def _draw(material: bytes, counter: int, bound: int) -> int:
    return int.from_bytes(keccak(material + counter.to_bytes(4, "big")), "big") % bound


def rollout_picks(sample_seed: bytes | None, cid: bytes, count: int) -> list[int]:
    """The trace numbers every validator checks, in the order they are drawn.

    ``sample_seed`` is the next epoch's seed; when it was never fixed
    (``None``: nobody poked it within 256 blocks), every trace is checked.
    """
    if sample_seed is None:
        return list(range(count))
    k = checks_needed(count)
    if k == count:
        return list(range(count))
    material = _PICK_DOMAIN + sample_seed + cid
    chosen: list[int] = []
    seen: set[int] = set()
    counter = 0
    while len(chosen) < k:
        pick = _draw(material, counter, count)
        counter += 1
        if pick not in seen:
            seen.add(pick)
            chosen.append(pick)
    return chosen


def canary_positions(
    sample_seed: bytes | None, cid: bytes, picks: Sequence[int], lengths: Sequence[int]
) -> list[tuple[int, int]]:
    """``CANARIES`` (trace number, token position) pairs among the checked traces.

    ``lengths[i]`` is the token count of trace ``picks[i]``; traces with no
    tokens are skipped.
    """
    usable = [(n, length) for n, length in zip(picks, lengths, strict=True) if length > 0]
    if not usable:
        return []
    material = _CANARY_DOMAIN + (sample_seed or b"") + cid
    out = []
    for c in range(CANARIES):
        trace, length = usable[_draw(material, 2 * c, len(usable))]
        out.append((trace, _draw(material, 2 * c + 1, length)))
    return out


def _top_bits(digest: bytes) -> int:
    return digest[0] >> (8 - DIGEST_BITS)


def verdict_digest(cid: bytes, trace_scores: Sequence[int], canaries: Sequence[int]) -> int:
    """The digest of a scored batch: every trace's score (basis points) and the canary tokens."""
    body = b"".join(s.to_bytes(2, "big") for s in trace_scores)
    body += b"".join(t.to_bytes(4, "big") for t in canaries)
    return _top_bits(keccak(_VERDICT_DOMAIN + cid + b"scored" + body))


def rejection_digest(cid: bytes, code: str, where: int = 0, *, proof: Sequence[int] = ()) -> int:
    """The digest of a rejected batch: why (``code``), where (a trace number), and the proof.

    ``proof`` is what the proof of rollout found on the batch as submitted:
    the first failing (trace, token), or the canary tokens; both only a
    validator that ran the model knows. An unusable batch has none.
    """
    body = code.encode() + where.to_bytes(4, "big")
    body += b"".join(value.to_bytes(4, "big") for value in proof)
    return _top_bits(keccak(_VERDICT_DOMAIN + cid + b"rejected" + body))
