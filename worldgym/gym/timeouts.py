"""Wall-clock deadlines for in-process work on untrusted input (scorers, regexes).

A deadline has to interrupt C code that holds the GIL (a regex backtracking in
``_sre``), so it needs a real signal: a thread could not run while the GIL is
held. Arming one per scored trace with ``setitimer`` would cost two system calls
and a handler swap each time, so instead:

* arming a deadline only pushes its end time on a stack;
* while deadlines are in use, a periodic ``ITIMER_REAL`` ticks every
  :data:`TICK_S` and our SIGALRM handler raises :class:`VerifierTimeout` in the
  main thread once the innermost deadline has passed;
* after a few idle ticks the timer switches itself off again.

Python runs signal handlers on the main thread only, so deadlines only work
there; elsewhere the block runs unbounded and the length caps on answers are
what bound it (worldgym/gym/README.md). The gym owns SIGALRM on the main thread while it
scores: code that sets its own ``alarm`` (math-verify does) stops the ticks; call
:func:`alarm_used` after it, or the next deadline notices once a tick is overdue.
"""

from __future__ import annotations

import _signal  # the C module: its getsignal returns the raw handler, no enum conversion
import atexit
import signal
import threading
import time
from types import FrameType, TracebackType

__all__ = ["TICK_S", "VerifierTimeout", "alarm_used", "deadline", "on_main_thread"]

TICK_S = 0.01
_IDLE_TICKS = 20
_MAIN_THREAD_ID = threading.main_thread().ident
_stack: list[tuple[float, float]] = []  # (absolute monotonic end, seconds), innermost last
_state: dict[str, float] = {"idle": 0, "last_tick": float("-inf")}


class VerifierTimeout(BaseException):
    """Raised inside work that ran past its deadline.

    A ``BaseException`` so that third-party scorers' ``except Exception`` blocks do
    not swallow it and report an ordinary wrong answer.
    """


def on_main_thread() -> bool:
    """True on the main thread, the only one where deadlines work."""
    return threading.get_ident() == _MAIN_THREAD_ID


def _tick(signum: int, frame: FrameType | None) -> None:
    _state["last_tick"] = time.monotonic()
    if _stack:
        _state["idle"] = 0
        end, seconds = _stack[-1]
        if time.monotonic() >= end:
            raise VerifierTimeout(f"ran longer than {seconds:g} s")
        return
    _state["idle"] += 1
    if _state["idle"] >= _IDLE_TICKS:
        _stop_ticking()


def _stop_ticking() -> None:
    """Switch the timer off (also at exit: a tick after handlers are reset kills the process)."""
    signal.setitimer(signal.ITIMER_REAL, 0)


def _start_ticking() -> None:
    if _signal.getsignal(signal.SIGALRM) is not _tick:
        signal.signal(signal.SIGALRM, _tick)
        atexit.register(_stop_ticking)
    _state["idle"] = 0
    _state["last_tick"] = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, TICK_S, TICK_S)


def alarm_used() -> None:
    """Tell the deadlines that code ran which set its own ``alarm`` (and so stopped the ticks)."""
    _state["last_tick"] = float("-inf")


class deadline:  # noqa: N801 - used like a function: ``with deadline(2.0): ...``
    """Raise :class:`VerifierTimeout` in the ``with`` block after ``seconds`` of wall time.

    Deadlines nest (an inner one never outlives the outer one); resolution is
    :data:`TICK_S`. Off the main thread this does nothing.
    """

    __slots__ = ("_armed", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._armed = False

    def __enter__(self) -> None:
        if threading.get_ident() != _MAIN_THREAD_ID:
            return
        now = time.monotonic()
        ours = _signal.getsignal(signal.SIGALRM) is _tick
        overdue = now - _state["last_tick"] > 1.5 * TICK_S  # stopped when idle, or by an alarm()
        if not ours or (overdue and signal.getitimer(signal.ITIMER_REAL)[1] <= 0):
            _start_ticking()
        end = now + self.seconds
        if _stack and _stack[-1][0] < end:
            end = _stack[-1][0]
        _stack.append((end, self.seconds))
        self._armed = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._armed:
            _stack.pop()
            self._armed = False
