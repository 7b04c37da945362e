"""The mining loop: each epoch, for each environment, build a batch, spool it, pin it, submit it.

Order of work in every round: first finish whatever the spool holds (a batch
from before a crash or an outage), then mine the current epoch. A miner never
has two batches in flight, because the contract numbers a miner's batches in
the order they land and the tasks of a batch depend on that number.

The loop is supervised (:class:`worldgym.client.supervise.Supervisor`): an RPC or
storage outage is waited out with backoff and a status line, and the round
is repeated from the spool when the outage ends; only a wrong setting or
Ctrl-C ends it.

Work is sized to the epoch (:mod:`worldgym.miner.pace`): before each batch the miner
estimates how long a task takes with this model (measured on the first task,
then on every batch) and how long the submission window has left, and builds
only what can be submitted before it closes, or says why nothing can.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from worldgym.chain.contracts import Protocol
from worldgym.chain.errors import RevertError
from worldgym.client.supervise import Supervisor
from worldgym.core.schemas import MAX_TRACES, ModelRef, encode_batch
from worldgym.gym import Environment, load_environment
from worldgym.gym.registry import resolve
from worldgym.miner.build import BatchPlan, build_batch, spec_sampling
from worldgym.miner.errors import MinerError
from worldgym.miner.pace import Pace, TaskTimer
from worldgym.miner.spool import OPEN_STATES, BatchState, Spool, SpoolEntry
from worldgym.miner.submit import TRANSIENT, Submitter
from worldgym.policy import Policy
from worldgym.policy.checkpoint import ModelHandle
from worldgym.storage import ContentStore, compute_cid

__all__ = ["EpochRound", "Miner", "MiningConfig"]


@dataclass(frozen=True)
class MiningConfig:
    """What to mine. How to sample (temperature, top-p, group size, token budget) is not
    the miner's choice: every environment spec fixes it, and validators reject a batch
    that differs.

    ``retry_s`` bounds how long an outage is waited out (None: as long as it lasts);
    ``margin_blocks`` are kept free at the end of the submission window for pinning and
    submitting; with ``fit`` a batch is cut to the tasks that can be built before then.
    """

    env_ids: tuple[int, ...]
    tasks_per_batch: int = 8
    batches_per_epoch: int = 1
    retry_s: float | None = None
    poll_s: float = 2.0
    margin_blocks: int = 3
    fit: bool = True

    def __post_init__(self) -> None:
        if not self.env_ids:
            raise MinerError("name at least one environment to mine: --env ID")
        if any(env_id < 1 for env_id in self.env_ids):
            raise MinerError(f"environment ids start at 1, not {min(self.env_ids)}")
        if not 1 <= self.tasks_per_batch <= MAX_TRACES:
            raise MinerError(f"--tasks-per-batch must be 1..{MAX_TRACES}")
        if self.batches_per_epoch < 1:
            raise MinerError("--batches-per-epoch must be at least 1")


@dataclass
class EpochRound:
    """What one round did in one epoch: its batches, and why it stopped short, if it did."""

    epoch: int
    entries: list[SpoolEntry] = field(default_factory=list)  # built in this round
    skipped: str | None = None  # why (some) owed batches were not built in this epoch
    drained: list[SpoolEntry] = field(default_factory=list)  # spooled before, settled now

    @property
    def confirmed(self) -> list[SpoolEntry]:
        """The batches that landed on chain in this round (spooled earlier or built now)."""
        return [e for e in (*self.drained, *self.entries) if e.state == BatchState.CONFIRMED]


class Miner:
    """One miner account mining with one model.

    Batches are pinned to the submitter's store; environment specs are read
    from ``spec_store`` (the same store unless given), e.g. a public gateway
    while batches go to the miner's own node.
    """

    def __init__(
        self,
        protocol: Protocol,
        submitter: Submitter,
        spool: Spool,
        *,
        policy: Policy,
        model: ModelHandle,
        config: MiningConfig,
        console: Console | None = None,
        spec_store: ContentStore | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.protocol = protocol
        self.submitter = submitter
        self.spool = spool
        self.policy = policy
        self.model = model
        self.config = config
        self.console = console or Console(stderr=True)
        self.sleep = sleep
        self.clock = clock
        self.miner = submitter.miner
        self.spec_store = spec_store or submitter.store
        self.timer = TaskTimer()
        self.supervisor = Supervisor(
            "miner",
            self.console.print,
            sleep=sleep,
            clock=clock,
            max_delay_s=5.0,  # short: a window reopened by the node's return is not slept through
            give_up_s=config.retry_s,
        )
        # Settling a spooled batch also retries what storage answers with an error (a pin
        # refused by a busy daemon): the batch is safe on disk either way.
        self.settle_supervisor = replace(self.supervisor, outages=TRANSIENT)
        self._envs: dict[tuple[int, int], Environment] = {}

    # ─── the spool ───────────────────────────────────────────────────────────

    def drain(self) -> list[SpoolEntry]:
        """Settle every open batch, waiting out outages (up to ``retry_s`` when set).

        Raises MinerError when a batch still cannot move after ``retry_s``; it
        stays in the spool and the next start picks it up.
        """
        return [self._settle_with_retry(entry) for entry in self.spool.open_entries()]

    def _settle_with_retry(self, entry: SpoolEntry) -> SpoolEntry:
        def attempt() -> SpoolEntry:
            return self.submitter.settle(self.spool.get(entry.id))

        def failed(exc: BaseException) -> SpoolEntry | None:
            self.spool.bump_attempts(entry.id, str(exc))
            return self._expire_if_stale(entry)

        what = f"settling batch {entry.cid} of epoch {entry.epoch}"
        try:
            return self.settle_supervisor.call(attempt, what, on_outage=failed)
        except TRANSIENT as exc:  # outlasted retry_s
            raise MinerError(
                f"batch {entry.cid} (epoch {entry.epoch}) could not be "
                f"{_next_step(self.spool.get(entry.id).state)}: {exc}. It is kept in the "
                f"spool ({self.spool.root}) and will be retried on the next start"
            ) from None

    def _expire_if_stale(self, entry: SpoolEntry) -> SpoolEntry | None:
        """Expire ``entry`` if its epoch is over (when the chain can be asked); else None."""
        try:
            return self.submitter.expire_if_stale(self.spool.get(entry.id))
        except TRANSIENT:
            return None

    # ─── mining ──────────────────────────────────────────────────────────────

    def _environment(self, env_id: int) -> tuple[int, Environment]:
        version, spec = resolve(self.protocol, self.spec_store, env_id)
        key = (env_id, version)
        if key not in self._envs:
            self._envs[key] = load_environment(spec)
        return version, self._envs[key]

    def _plan(
        self, epoch: int, seed: bytes, env_id: int, tasks: int | None = None
    ) -> tuple[BatchPlan, Environment]:
        version, env = self._environment(env_id)
        spec = env.spec
        sequence = self.protocol.miner_batch_count(epoch, self.miner)
        deployment = self.protocol.deployment
        plan = BatchPlan(
            chain_id=deployment.chain_id,
            contract=self.protocol.gym.address,
            epoch=epoch,
            seed=seed,
            miner=self.miner,
            env_id=env_id,
            env_version=version,
            sequence=sequence,
            task_count=tasks or self.config.tasks_per_batch,
            group_size=spec.group_size,
            model=ModelRef(id=self.model.id, digest=self.model.cid),
            sampling=spec_sampling(spec),
        )
        return plan, env

    def mine_batch(
        self,
        epoch: int,
        seed: bytes,
        env_id: int,
        progress: Progress,
        tasks: int | None = None,
    ) -> SpoolEntry:
        """Build, spool, pin and submit one batch of ``tasks`` tasks for ``env_id``."""
        plan, env = self._plan(epoch, seed, env_id, tasks)
        bar = progress.add_task(
            f"env {env_id} v{plan.env_version} seq {plan.sequence}",
            total=plan.task_count,
            tokens=0.0,
        )
        started = self.clock()
        generated = 0

        def advance(done: int, tokens: int) -> None:
            nonlocal generated
            generated += tokens
            rate = generated / max(self.clock() - started, 1e-9)
            progress.update(bar, advance=done, tokens=rate)

        document = build_batch(plan, env, self.policy, on_progress=advance)
        self.timer.record((env_id, plan.env_version), plan.task_count, self.clock() - started)
        data = encode_batch(document)
        entry = self.spool.add(
            epoch=epoch,
            sequence=plan.sequence,
            env_id=env_id,
            env_version=plan.env_version,
            model_id=self.model.id,
            trace_count=document.trace_count,
            cid=compute_cid(data),
            document=data,
        )
        return self._settle_with_retry(entry)

    def _missing(self, epoch: int) -> list[int]:
        """The environments still owed a batch in ``epoch`` (one entry per batch to make)."""
        made: dict[int, int] = {}
        for entry in self.spool.entries(epoch=epoch):
            if entry.state in (BatchState.CONFIRMED, *OPEN_STATES):
                made[entry.env_id] = made.get(entry.env_id, 0) + 1
        owed = []
        for env_id in self.config.env_ids:
            owed.extend([env_id] * max(0, self.config.batches_per_epoch - made.get(env_id, 0)))
        return owed

    def mine_epoch(self) -> list[SpoolEntry]:
        """``batches_per_epoch`` batches per environment in the current epoch (those that fit).

        The spool is drained first; batches this miner already has in the epoch
        (from before a restart) count, so a restart never mines an epoch twice.
        """
        return self.mine_round().entries

    def mine_round(self) -> EpochRound:
        """One round in the current epoch: drain the spool, fix the seed, build what fits."""
        drained = self.drain()
        epoch = self.protocol.current_epoch()
        result = EpochRound(epoch, drained=drained)
        owed = self._missing(epoch)
        if not owed:
            return result
        try:
            seed = self.protocol.poke_seed(epoch)
        except RevertError as exc:  # WorldGymSeedExpired: the epoch takes no batches
            result.skipped = f"epoch {epoch} takes no batches: {exc}"
            return result
        pace = Pace.read(self.protocol, epoch, self.config.margin_blocks, self.clock)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("tasks · {task.fields[tokens]:.0f} tok/s"),
            TimeElapsedColumn(),
            console=self.console,
        ) as progress:
            for env_id in owed:
                if self.protocol.current_epoch() != epoch:
                    result.skipped = f"epoch {epoch} ended before all its batches were built"
                    break
                tasks = self._fit(epoch, seed, env_id, pace)
                if isinstance(tasks, str):
                    result.skipped = tasks
                    break
                entry = self.mine_batch(epoch, seed, env_id, progress, tasks)
                self._report(entry)
                result.entries.append(entry)
        if result.skipped:
            self.console.print(f"[yellow]miner:[/] {result.skipped}")
        return result

    def _fit(self, epoch: int, seed: bytes, env_id: int, pace: Pace) -> int | str:
        """How many tasks the next batch of ``env_id`` gets, or why it gets none this epoch."""
        asked = self.config.tasks_per_batch
        if not self.config.fit or pace.seconds_left() is None:
            return asked
        version, env = self._environment(env_id)
        key = (env_id, version)
        per_task = self.timer.seconds_per_task(key)
        if per_task is None:  # measure one task of this very batch (it is built again, exactly)
            probe, _ = self._plan(epoch, seed, env_id, 1)
            started = self.clock()
            build_batch(probe, env, self.policy)
            self.timer.record(key, 1, self.clock() - started)
            per_task = self.timer.seconds_per_task(key)
            assert per_task is not None
        left = pace.seconds_left()
        assert left is not None
        fits = int(left // per_task) if per_task > 0 else asked
        if fits >= asked:
            return asked
        spec = env.spec
        cost = (
            f"one task of environment {env_id} takes ~{per_task:.1f} s here ({spec.group_size} "
            f"samples of up to {spec.max_tokens} tokens)"
        )
        if fits < 1:
            epoch_s = pace.epoch_seconds()
            if epoch_s is not None and per_task > epoch_s:
                raise MinerError(
                    f"{cost}, but a whole submission window lasts ~{epoch_s:.0f} s: no batch can "
                    "be built in time. Use a faster backend or device (--backend vllm, --device "
                    "cuda), or mine an environment with a smaller token budget"
                )
            return (
                f"{cost} and epoch {epoch} has ~{max(left, 0):.0f} s left before its last "
                f"{self.config.margin_blocks} blocks: waiting for epoch {epoch + 1}"
            )
        self.console.print(
            f"[yellow]miner:[/] {cost}; ~{left:.0f} s are left in epoch {epoch}, so this batch "
            f"gets {fits} of the {asked} tasks asked"
        )
        return fits

    def run(self, *, epochs: int | None = None) -> list[SpoolEntry]:
        """Mine ``epochs`` epochs (forever when None), waiting for each new epoch.

        An epoch where nothing could be built in time (see :meth:`mine_round`) does not
        count: the miner waits for the next one. Outages are waited out.
        """
        return [e for r in self.run_rounds(epochs=epochs) for e in r.entries]

    def run_rounds(self, *, epochs: int | None = None) -> list[EpochRound]:
        """:meth:`run`, returning what each epoch's round did."""
        rounds: list[EpochRound] = []
        mined = 0
        while epochs is None or mined < epochs:
            result = self.supervisor.call(self.mine_round, "mining")
            rounds.append(result)
            if result.entries or result.drained or not result.skipped:
                mined += 1
            if epochs is not None and mined >= epochs:
                break
            self.supervisor.call(
                partial(self._wait_for_epoch, result.epoch + 1), "waiting for the next epoch"
            )
        return rounds

    def _wait_for_epoch(self, epoch: int) -> None:
        while self.protocol.current_epoch() < epoch:
            self.sleep(self.config.poll_s)

    def _report(self, entry: SpoolEntry) -> None:
        if entry.state == BatchState.CONFIRMED:
            self.console.print(
                f"[green]epoch {entry.epoch}[/]: batch {entry.batch_index} "
                f"({entry.trace_count} traces) {entry.cid}"
            )
        else:
            self.console.print(f"[red]batch {entry.cid} {entry.state.value}:[/] {entry.note}")


def _next_step(state: BatchState) -> str:
    return {BatchState.BUILT: "pinned", BatchState.PINNED: "submitted"}.get(state, "confirmed")
