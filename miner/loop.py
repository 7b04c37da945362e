"""The mining loop: each epoch, for each environment, build a batch, spool it, pin it, submit it.

Order of work in every round: first finish whatever the spool holds (a batch
from before a crash or an outage), then mine the current epoch. A miner never
has two batches in flight, because the contract numbers a miner's batches in
the order they land and the tasks of a batch depend on that number.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from client.contracts import Protocol
from client.schemas import MAX_TRACES, ModelRef, encode_batch
from gym import Environment, load_environment
from gym.registry import resolve
from miner.build import BatchPlan, build_batch, spec_sampling
from miner.errors import MinerError
from miner.spool import OPEN_STATES, BatchState, Spool, SpoolEntry
from miner.submit import TRANSIENT, Submitter
from policy import Policy
from policy.checkpoint import ModelHandle
from storage import ContentStore, compute_cid

__all__ = ["Miner", "MiningConfig"]


@dataclass(frozen=True)
class MiningConfig:
    """What to mine. How to sample (temperature, top-p, group size, token budget) is not
    the miner's choice: every environment spec fixes it, and validators reject a batch
    that differs."""

    env_ids: tuple[int, ...]
    tasks_per_batch: int = 8
    batches_per_epoch: int = 1
    retry_s: float = 300.0
    poll_s: float = 2.0

    def __post_init__(self) -> None:
        if not self.env_ids:
            raise MinerError("name at least one environment to mine: --env ID")
        if not 1 <= self.tasks_per_batch <= MAX_TRACES:
            raise MinerError(f"--tasks-per-batch must be 1..{MAX_TRACES}")
        if self.batches_per_epoch < 1:
            raise MinerError("--batches-per-epoch must be at least 1")


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
    ) -> None:
        self.protocol = protocol
        self.submitter = submitter
        self.spool = spool
        self.policy = policy
        self.model = model
        self.config = config
        self.console = console or Console(stderr=True)
        self.sleep = sleep
        self.miner = submitter.miner
        self.spec_store = spec_store or submitter.store
        self._envs: dict[tuple[int, int], Environment] = {}

    # ─── the spool ───────────────────────────────────────────────────────────

    def drain(self) -> list[SpoolEntry]:
        """Settle every open batch, retrying transient failures with backoff up to ``retry_s``.

        Raises MinerError when a batch still cannot move after that long; it
        stays in the spool and the next start picks it up.
        """
        settled = []
        for entry in self.spool.open_entries():
            settled.append(self._settle_with_retry(entry))
        return settled

    def _settle_with_retry(self, entry: SpoolEntry) -> SpoolEntry:
        deadline = time.monotonic() + self.config.retry_s
        delay = 1.0
        while True:
            try:
                return self.submitter.settle(self.spool.get(entry.id))
            except TRANSIENT as exc:
                self.spool.bump_attempts(entry.id, str(exc))
                if time.monotonic() + delay > deadline:
                    raise MinerError(
                        f"batch {entry.cid} (epoch {entry.epoch}) could not be "
                        f"{_next_step(self.spool.get(entry.id).state)}: {exc}. It is kept in the "
                        f"spool ({self.spool.root}) and will be retried on the next start"
                    ) from None
                self.console.print(f"[yellow]retrying in {delay:.0f}s:[/] {exc}")
                self.sleep(delay)
                delay = min(delay * 2, 30.0)

    # ─── mining ──────────────────────────────────────────────────────────────

    def _environment(self, env_id: int) -> tuple[int, Environment]:
        version, spec = resolve(self.protocol, self.spec_store, env_id)
        key = (env_id, version)
        if key not in self._envs:
            self._envs[key] = load_environment(spec)
        return version, self._envs[key]

    def _plan(self, epoch: int, seed: bytes, env_id: int) -> tuple[BatchPlan, Environment]:
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
            task_count=self.config.tasks_per_batch,
            group_size=spec.group_size,
            model=ModelRef(id=self.model.id, digest=self.model.cid),
            sampling=spec_sampling(spec),
        )
        return plan, env

    def mine_batch(self, epoch: int, seed: bytes, env_id: int, progress: Progress) -> SpoolEntry:
        """Build, spool, pin and submit one batch for ``env_id`` in ``epoch``."""
        plan, env = self._plan(epoch, seed, env_id)
        bar = progress.add_task(
            f"env {env_id} v{plan.env_version} seq {plan.sequence}",
            total=plan.task_count,
            tokens=0.0,
        )
        started = time.monotonic()
        generated = 0

        def advance(tasks: int, tokens: int) -> None:
            nonlocal generated
            generated += tokens
            rate = generated / max(time.monotonic() - started, 1e-9)
            progress.update(bar, advance=tasks, tokens=rate)

        document = build_batch(plan, env, self.policy, on_progress=advance)
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
        """``batches_per_epoch`` batches per environment in the current epoch.

        The spool is drained first; batches this miner already has in the epoch
        (from before a restart) count, so a restart never mines an epoch twice.
        """
        self.drain()
        epoch = self.protocol.current_epoch()
        owed = self._missing(epoch)
        if not owed:
            return []
        seed = self.protocol.poke_seed(epoch)
        done: list[SpoolEntry] = []
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("tasks · {task.fields[tokens]:.0f} tok/s"),
            TimeElapsedColumn(),
            console=self.console,
        ) as progress:
            for env_id in owed:
                entry = self.mine_batch(epoch, seed, env_id, progress)
                self._report(entry)
                done.append(entry)
        return done

    def run(self, *, epochs: int | None = None) -> list[SpoolEntry]:
        """Mine ``epochs`` epochs (forever when None), waiting for each new epoch."""
        results: list[SpoolEntry] = []
        mined = 0
        while epochs is None or mined < epochs:
            results.extend(self.mine_epoch())
            mined += 1
            if epochs is not None and mined >= epochs:
                break
            self._wait_for_epoch(self.protocol.current_epoch() + 1)
        return results

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
