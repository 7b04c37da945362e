"""Keeping a long-running role up through outages: backoff, one status line, never an exit.

A role's loop (``worldgym mine``, ``worldgym validate``, ``worldgym ledger sync
--follow``, the dashboard's indexer) runs each round through
:meth:`Supervisor.call`. An *outage* (the RPC node or the storage daemon
cannot be reached, a receipt that could not be read) is waited out: the round
is tried again after a delay that doubles up to a cap, and every wait prints a
status line that says what is down, for how long, and when the next try is.
Anything else (a wrong setting, a revert, Ctrl-C) goes to the caller, which
decides whether it ends the role.

A round must be safe to repeat, which is what the roles' durable state is for
(the miner's spool, the validator's state file, the ledger's cursor): the
round after an outage resumes where the last one stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from worldgym.chain.errors import RpcUnavailableError

__all__ = ["OUTAGES", "Backoff", "Supervisor", "is_outage"]

T = TypeVar("T")

OUTAGES: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)
"""What a role waits out. The RPC (:class:`~worldgym.chain.errors.RpcUnavailableError`) and the
storage daemon (``worldgym.storage.errors.StoreUnavailableError``) both derive from ConnectionError;
a transaction whose receipt did not come (:class:`~worldgym.chain.errors.TxTimeoutError`) from
TimeoutError."""


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` is an outage (something to wait out, not a reason to stop)."""
    return isinstance(exc, OUTAGES)


@dataclass
class Backoff:
    """Delays that start at ``first_s`` and double up to ``max_s``."""

    first_s: float = 1.0
    max_s: float = 30.0
    _next: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._next = self.first_s

    def next(self) -> float:
        """The delay before the next try (and double the one after)."""
        delay = self._next
        self._next = min(self._next * 2, self.max_s)
        return delay

    def reset(self) -> None:
        """Start again from ``first_s``."""
        self._next = self.first_s


@dataclass
class Supervisor:
    """Runs rounds of a role, waiting out outages with backoff and a status line.

    ``status`` prints a line (a console's ``print``): when an outage starts, then every
    ``say_every_s`` while it lasts, and when it ends; ``sleep`` and ``clock`` are
    injectable for tests. ``give_up_s`` (None: never) re-raises an outage that
    lasted longer, for callers that must not wait forever (``--once``).
    """

    role: str
    status: Callable[[str], None]
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    give_up_s: float | None = None
    outages: tuple[type[BaseException], ...] = OUTAGES
    say_every_s: float = 30.0
    down_since: float | None = field(default=None, init=False)
    outages_seen: int = field(default=0, init=False)
    _said_at: float | None = field(default=None, init=False)

    def call(
        self,
        fn: Callable[[], T],
        what: str = "",
        *,
        on_outage: Callable[[BaseException], T | None] | None = None,
    ) -> T:
        """``fn()``, repeated after each outage until it returns (or raises something else).

        ``on_outage(exc)`` runs after each failed try; a result other than None ends the
        wait with that result (e.g. a batch found expired meanwhile).
        """
        backoff = Backoff(self.first_delay_s, self.max_delay_s)
        while True:
            try:
                result = fn()
            except self.outages as exc:
                if on_outage is not None:
                    settled = on_outage(exc)
                    if settled is not None:
                        self.recovered()
                        return settled
                self._wait(exc, what, backoff.next())
                continue
            self.recovered()
            return result

    def recovered(self) -> None:
        """Say the outage is over (if there was one) and forget it."""
        if self.down_since is not None:
            lasted = self.clock() - self.down_since
            self.status(f"{self.role}: back after {lasted:.0f} s; resuming where it stopped")
            self.down_since = None
            self._said_at = None

    def _wait(self, exc: BaseException, what: str, delay: float) -> None:
        now = self.clock()
        if self.down_since is None:
            self.down_since = now
            self.outages_seen += 1
        down = now - self.down_since
        if self.give_up_s is not None and down + delay > self.give_up_s:
            raise exc
        if self._said_at is None or down == 0 or now - self._said_at >= self.say_every_s:
            kind = "the RPC node" if isinstance(exc, RpcUnavailableError) else _kind(exc)
            doing = f" while {what}" if what else ""
            self.status(
                f"{self.role}: waiting for {kind}{doing} (down {down:.0f} s, retrying every "
                f"{delay:.0f} s or less): {exc}"
            )
            self._said_at = now
        self.sleep(delay)


def _kind(exc: BaseException) -> str:
    module = type(exc).__module__
    if module.startswith("worldgym.storage"):
        return "storage"
    if isinstance(exc, TimeoutError):
        return "a transaction receipt"
    return "the network"
