"""The supervisor waits out outages with backoff and a status line, and nothing else."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from worldgym.chain.errors import RevertError, RpcUnavailableError, TxTimeoutError
from worldgym.client.supervise import Backoff, Supervisor
from worldgym.storage.errors import StoreUnavailableError


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _flaky(failures: list[BaseException]) -> Callable[[], str]:
    def step() -> str:
        if failures:
            raise failures.pop(0)
        return "done"

    return step


def test_an_outage_is_waited_out_with_doubling_delays_and_one_line_each_half_minute() -> None:
    clock, lines = _Clock(), list[str]()
    sup = Supervisor("miner", lines.append, sleep=clock.sleep, clock=lambda: clock.now,
                     max_delay_s=5.0)  # fmt: skip
    down = RpcUnavailableError("cannot reach the RPC at http://127.0.0.1:1 (connection refused)")
    result = sup.call(_flaky([down] * 12), "mining")
    assert result == "done"
    assert clock.slept == [1, 2, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5]
    waiting = [line for line in lines if "waiting for the RPC node while mining" in line]
    assert 2 <= len(waiting) <= 3, lines  # the first try, then every 30 s, not every try
    assert "connection refused" in waiting[0]
    assert lines[-1] == "miner: back after 52 s; resuming where it stopped"
    assert sup.outages_seen == 1


def test_storage_and_receipt_outages_are_named() -> None:
    clock, lines = _Clock(), list[str]()
    sup = Supervisor("validator", lines.append, sleep=clock.sleep, clock=lambda: clock.now)
    sup.call(_flaky([StoreUnavailableError("the Kubo RPC API is down")]))
    sup.call(_flaky([TxTimeoutError("no receipt")]))
    assert "waiting for storage" in lines[0]
    assert "waiting for a transaction receipt" in lines[2]


def test_anything_but_an_outage_goes_to_the_caller_at_once() -> None:
    clock = _Clock()
    sup = Supervisor("validator", lambda _l: None, sleep=clock.sleep, clock=lambda: clock.now)
    with pytest.raises(RevertError):
        sup.call(_flaky([RevertError("window closed")]))
    assert clock.slept == []


def test_give_up_re_raises_an_outage_that_lasts_too_long() -> None:
    clock = _Clock()
    sup = Supervisor("miner", lambda _l: None, sleep=clock.sleep, clock=lambda: clock.now,
                     give_up_s=10.0)  # fmt: skip
    with pytest.raises(RpcUnavailableError):
        sup.call(_flaky([RpcUnavailableError("down")] * 100))
    assert sum(clock.slept) <= 10.0


def test_backoff_doubles_to_its_cap_and_resets() -> None:
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next() == 0.5
