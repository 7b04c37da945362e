"""Running the refinery on a schedule (APScheduler), one run at a time.

The job runs at once and then every interval. APScheduler keeps one instance
of it (``max_instances=1``) and folds missed runs into one (``coalesce``);
:class:`worldgym.refinery.runs.RunLock` keeps runs from other processes out too. A
run that fails with a WorldGym error is reported and retried at the next
tick, where it resumes from its recorded stage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from worldgym.core.errors import UsageError, WorldGymError

__all__ = ["parse_interval", "run_every"]

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """Seconds in ``90s``, ``15m``, ``1h``, ``2d`` (a bare number is seconds).

    Raises:
        UsageError: the text is not an interval, or is under a second.
    """
    match = _INTERVAL.match(text)
    if not match:
        raise UsageError(f"cannot read the interval {text!r}: write e.g. 30m, 1h or 2d")
    seconds = float(match.group(1)) * _UNIT[match.group(2)]
    if seconds < 1:
        raise UsageError(f"the interval {text!r} is under a second: use at least 1s")
    return seconds


def run_every(
    job: Callable[[], None],
    seconds: float,
    *,
    on_error: Callable[[WorldGymError], None],
    runs: int | None = None,
) -> int:
    """Call ``job`` now and every ``seconds`` until interrupted (or ``runs`` calls); return calls.

    A :class:`~worldgym.core.errors.WorldGymError` from ``job`` goes to ``on_error``
    and the schedule goes on; anything else stops it and is raised.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler()
    calls = 0
    failure: list[BaseException] = []

    def tick() -> None:
        nonlocal calls
        calls += 1
        try:
            job()
        except WorldGymError as exc:
            on_error(exc)
        except BaseException as exc:  # stop the schedule and re-raise in the caller
            failure.append(exc)
            scheduler.shutdown(wait=False)
            return
        if runs is not None and calls >= runs:
            scheduler.shutdown(wait=False)

    scheduler.add_job(
        tick, "interval", seconds=seconds, next_run_time=datetime.now(), max_instances=1,
        coalesce=True, id="refine",
    )  # fmt: skip
    try:
        scheduler.start()
    except KeyboardInterrupt:
        scheduler.shutdown(wait=False)
    if failure:
        raise failure[0]
    return calls
