"""One refinery run on chain: select, train, evaluate, gate, publish; and the schedule.

:meth:`Refinery.plan` decides what a run would do now: the parent is the
latest registered model, the epochs are the finalized ones its lineage has
not trained on yet (every ancestor's dataset manifest lists the epochs it
used), and the run key hashes both with the settings. :meth:`Refinery.run`
then walks the stages of :mod:`worldgym.refinery.runs`, recording each, so a run that
crashes resumes where it stopped and a run whose key already ended is not
repeated. Registration comes last; nothing is registered unless the
checkpoint, the dataset manifest and the metrics document are all pinned and
the gate passed.

The edges are injected: a :class:`~worldgym.chain.contracts.Protocol` with the
refinery's signing wallet, a content store and a working directory.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from rich.progress import Progress

from worldgym.chain.contracts import Protocol
from worldgym.core.canonical import canonical_json
from worldgym.core.files import write_durably
from worldgym.gym import Environment, load_environment
from worldgym.gym.registry import resolve
from worldgym.policy.checkpoint import fetch_checkpoint, pin_checkpoint
from worldgym.policy.metrics import METRICS_FILE, METRICS_SCHEMA
from worldgym.refinery.config import Algorithm, EvalConfig, GrpoConfig, TrainConfig
from worldgym.refinery.curve import annotate_round, append_round
from worldgym.refinery.dataset import pin_dataset, read_dataset_manifest, read_rows
from worldgym.refinery.errors import RefineryError
from worldgym.refinery.groups import GroupSelection, select_groups
from worldgym.refinery.lineage import MAX_LINEAGE
from worldgym.refinery.publish import pin_metrics, register_once
from worldgym.refinery.runs import RunDir, RunLock, RunStage, run_key
from worldgym.refinery.selection import Selection, SelectionConfig, select
from worldgym.refinery.sources import LedgerReader, finalized_epochs
from worldgym.storage import ContentStore, cid_from_bytes

__all__ = ["Plan", "RefineConfig", "Refinery", "RunOutcome"]


class RefineConfig(BaseModel):
    """A refinery job: which epochs, how to select, train and evaluate, and the gate.

    ``algorithm``: ``sft`` fine-tunes on the verified correct traces
    (:func:`worldgym.refinery.selection.select`); ``grpo`` trains on the informative
    groups (:func:`worldgym.refinery.groups.select_groups`) with the ``grpo`` objective.
    Both share ``selection``'s budget and ``train``'s optimizer settings.
    ``gate_margin``: the candidate is published when its mean pass@1 over the
    evaluated environments is at least the parent's minus this margin.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    algorithm: Algorithm = "sft"
    selection: SelectionConfig = SelectionConfig()
    train: TrainConfig = TrainConfig()
    grpo: GrpoConfig = GrpoConfig()
    eval: EvalConfig = EvalConfig()
    gate_margin: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.0
    lookback_epochs: Annotated[int, Field(ge=1, le=100_000)] = 168
    max_epochs: Annotated[int, Field(ge=1, le=10_000)] = 24


@dataclass(frozen=True)
class Plan:
    """What a run does: train ``parent_id`` on ``epochs``; ``key`` names the run."""

    parent_id: int
    parent_cid: str
    epochs: tuple[int, ...]
    key: str


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended (or that there was nothing to do: ``plan`` is None)."""

    plan: Plan | None
    stage: RunStage | None
    message: str
    state: dict[str, Any]

    @property
    def model_id(self) -> int | None:
        """The model registered by this run, if any."""
        value = self.state.get("model_id")
        return int(value) if value is not None else None


StageHook = Callable[[RunStage, dict[str, Any]], None]


class Refinery:
    """The refinery of one deployment, working under ``root``."""

    def __init__(
        self,
        protocol: Protocol,
        store: ContentStore,
        root: Path,
        config: RefineConfig | None = None,
        *,
        on_stage: StageHook | None = None,
        log: Callable[[str], None] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.protocol = protocol
        self.store = store
        self.root = Path(root)
        self.config = config or RefineConfig()
        self.on_stage = on_stage
        self.log = log or (lambda _line: None)
        self.progress = progress
        self.model_cache = self.root / "models"

    # ─── planning ─────────────────────────────────────────────────────────────

    def consumed_epochs(self, model_id: int) -> set[int]:
        """Epochs the lineage of ``model_id`` was trained on (from its dataset manifests)."""
        consumed: set[int] = set()
        current, steps = model_id, 0
        while current != 0 and steps < MAX_LINEAGE:
            record = self.protocol.model(current)
            if record.dataset_cid:
                cid = cid_from_bytes(record.dataset_cid)
                try:
                    manifest = read_dataset_manifest(self.store, cid)
                except RefineryError as exc:
                    raise RefineryError(
                        f"{exc}; without model {current}'s dataset manifest the refinery cannot "
                        "tell which epochs were already used: name them with --epochs A:B"
                    ) from None
                consumed.update(manifest["epochs"])
            current, steps = record.parent_id, steps + 1
        return consumed

    def plan(self, epochs: Sequence[int] | None = None) -> Plan | None:
        """The run to do now, or None when no finalized epoch is left to train on.

        ``epochs`` overrides the choice (each must be finalized).
        """
        parent_id = self.protocol.latest_model_id()
        if parent_id == 0:
            raise RefineryError(
                "no model is registered yet: register a base model first "
                "(worldgym model register DIR --wallet W)"
            )
        parent_cid = cid_from_bytes(self.protocol.model(parent_id).checkpoint_cid)
        if epochs is None:
            current = self.protocol.current_epoch()
            consumed = self.consumed_epochs(parent_id)
            window = range(max(0, current - self.config.lookback_epochs), current)
            fresh = [e for e in window if e not in consumed]
            chosen = finalized_epochs(self.protocol, fresh)[-self.config.max_epochs :]
        else:
            chosen = sorted(set(epochs))
            done = set(finalized_epochs(self.protocol, chosen))
            if missing := [e for e in chosen if e not in done]:
                raise RefineryError(f"epochs {missing} are not finalized; pick finalized epochs")
        if not chosen:
            return None
        deployment = self._deployment()
        key = run_key(
            {
                "deployment": deployment,
                "parent": [parent_id, parent_cid],
                "epochs": chosen,
                "config": self.config.model_dump(mode="json"),
            }
        )
        return Plan(parent_id, parent_cid, tuple(chosen), key)

    def _deployment(self) -> dict[str, Any]:
        return {
            "chain_id": self.protocol.deployment.chain_id,
            "contract": self.protocol.gym.address,
        }

    # ─── running ──────────────────────────────────────────────────────────────

    def run_once(self, epochs: Sequence[int] | None = None) -> RunOutcome:
        """Plan and run (holding the lock); a no-op outcome when there is nothing to do."""
        with RunLock(self.root):
            plan = self.plan(epochs)
            if plan is None:
                return RunOutcome(None, None, "no new finalized epochs to train on", {})
            return self._run(plan)

    def run(self, plan: Plan) -> RunOutcome:
        """Run ``plan`` to its end, resuming a crashed run with the same key."""
        with RunLock(self.root):
            return self._run(plan)

    def _run(self, plan: Plan) -> RunOutcome:
        rd = RunDir(self.root, plan.key)
        if rd.stage is not None and rd.stage.final:
            self._annotate(plan, rd)  # a crash may have come between registering and this
            return self._outcome(plan, rd, resumed=True)
        if rd.stage is not None:
            self.log(f"run {plan.key}: resuming after stage {rd.stage.value}")
        if not rd.reached(RunStage.SELECTED):
            self._select(plan, rd)
            if rd.stage is RunStage.EMPTY:
                return self._outcome(plan, rd)
        if not rd.reached(RunStage.TRAINED):
            self._train(plan, rd)
        if not rd.reached(RunStage.EVALUATED):
            self._evaluate(plan, rd)
            if rd.stage is RunStage.REJECTED:
                return self._outcome(plan, rd)
        if not rd.reached(RunStage.PINNED):
            self._pin(rd)
        if not rd.reached(RunStage.REGISTERED):
            self._register(plan, rd)
        self._annotate(plan, rd)
        return self._outcome(plan, rd)

    def _bar(self, what: str, total: int) -> Callable[..., None]:
        """A progress bar for ``total`` units (when a :class:`Progress` was given); its ticker.

        ``tick(n)`` advances by ``n``; ``tick(n, absolute=True)`` moves to ``n``.
        """
        progress = self.progress
        if progress is None:
            return lambda _n, absolute=False: None
        task = progress.add_task(what, total=max(total, 1))

        def tick(n: float, absolute: bool = False) -> None:
            if absolute:
                progress.update(task, completed=n)
            else:
                progress.advance(task, n)

        return tick

    def _advance(self, rd: RunDir, stage: RunStage, **fields: Any) -> None:
        state = rd.advance(stage, **fields)
        self.log(f"run {rd.key}: {stage.value}")
        if self.on_stage is not None:
            self.on_stage(stage, state)

    def _select(self, plan: Plan, rd: RunDir) -> None:
        config = self.config.selection
        reader = LedgerReader(self.protocol, self.store, self.model_cache)
        total = sum(self.protocol.batch_count(e) for e in plan.epochs)
        tick = self._bar("reading and re-verifying batches", total)
        ledger = reader.read(
            plan.epochs, min_consensus_bps=config.min_consensus_bps, on_batch=lambda _b: tick(1)
        )
        selection: Selection | GroupSelection
        if self.config.algorithm == "grpo":
            selection = select_groups(ledger, config)
        else:
            selection = select(ledger, config)
        pinned = pin_dataset(
            self.store, selection, config, epochs=plan.epochs, deployment=self._deployment(),
            parent={"id": plan.parent_id, "cid": plan.parent_cid},
        )  # fmt: skip
        envs = sorted({(s.batch.env_id, s.batch.env_version) for s in selection.traces})
        latest = {env_id: version for env_id, version in envs}  # the highest version wins
        stage = RunStage.SELECTED if selection.traces else RunStage.EMPTY
        self._advance(
            rd, stage,
            parent_id=plan.parent_id, parent_cid=plan.parent_cid, epochs=list(plan.epochs),
            dataset_cid=pinned.manifest_cid, data_cid=pinned.data_cid,
            traces=len(selection.traces), environments=[[e, v] for e, v in latest.items()],
            counts=pinned.manifest["counts"], started=time.time(),
        )  # fmt: skip

    def _train(self, plan: Plan, rd: RunDir) -> None:
        state = rd.state()
        rows = read_rows(self.store, state["data_cid"])
        parent_dir = fetch_checkpoint(self.store, plan.parent_cid, self.model_cache)
        staging, final = rd.path / "model.partial", rd.path / "model"
        for stale in (staging, final):  # a crash mid-training: start the training over
            shutil.rmtree(stale, ignore_errors=True)
        train = self.config.train
        per_epoch = math.ceil(len(rows) / (train.batch_size * train.gradient_accumulation))
        what = "traces" if self.config.algorithm == "sft" else "rollouts (GRPO)"
        tick = self._bar(f"training on {len(rows)} {what}", per_epoch * train.epochs)

        def on_log(record: dict[str, float]) -> None:
            tick(record["step"], absolute=True)

        if self.config.algorithm == "grpo":
            from worldgym.refinery.train_grpo import train_grpo

            result = train_grpo(
                parent_dir, rows, staging, train, self.config.grpo,
                behaviour_models=self._behaviour_models(rows), on_log=on_log,
            )  # fmt: skip
        else:
            from worldgym.refinery.train import train_sft

            result = train_sft(parent_dir, rows, staging, train, on_log=on_log)
        staging.rename(final)
        self._advance(
            rd, RunStage.TRAINED,
            train={
                "algorithm": self.config.algorithm, "steps": result.steps,
                "loss": result.train_loss, "tokens": result.tokens,
                "seconds": round(result.seconds, 3), **result.details,
            },
        )  # fmt: skip

    def _behaviour_models(self, rows: Sequence[dict[str, Any]]) -> dict[str, Path]:
        """The checkpoints of the models that sampled ``rows`` at T != 1 or top-p < 1 (their
        sampling probabilities are recomputed with them), fetched from storage by CID."""
        needed = {
            str(r["model"]["digest"])
            for r in rows
            if r["sampling"]["temperature"] != 1.0 or r["sampling"]["top_p"] < 1.0
        }
        return {cid: fetch_checkpoint(self.store, cid, self.model_cache) for cid in sorted(needed)}

    def _environment(self, env_id: int, version: int) -> Environment:
        _, spec = resolve(self.protocol, self.store, env_id, version)
        return load_environment(spec)

    def _evaluate(self, plan: Plan, rd: RunDir) -> None:
        from worldgym.refinery.evaluate import evaluate, held_out_tasks

        state = rd.state()
        config = self.config.eval
        parent_dir = fetch_checkpoint(self.store, plan.parent_cid, self.model_cache)
        per_env: dict[str, Any] = {}
        curve: dict[str, dict[str, float]] = {}
        tick = self._bar("evaluating parent and candidate", 2 * len(state["environments"]))
        for env_id, version in state["environments"]:
            env = self._environment(env_id, version)
            tasks = held_out_tasks(env, env_id, version, plan.key, config.tasks)
            before = evaluate(parent_dir, env, tasks, config)
            tick(1)
            after = evaluate(rd.path / "model", env, tasks, config)
            tick(1)
            per_env[str(env_id)] = {
                "name": env.spec.name, "version": version, "tasks": len(tasks),
                "parent": before.to_json(), "candidate": after.to_json(),
            }  # fmt: skip
            curve[f"{env.spec.name} (env {env_id})"] = {
                "parent": before.pass_at_1,
                "candidate": after.pass_at_1,
            }
            self.log(
                f"env {env_id} ({env.spec.name}): pass@1 {before.pass_at_1:.3f} -> "
                f"{after.pass_at_1:.3f} on {len(tasks)} held-out tasks"
            )
        parent_mean = sum(v["parent"] for v in curve.values()) / len(curve)
        candidate_mean = sum(v["candidate"] for v in curve.values()) / len(curve)
        accepted = candidate_mean >= parent_mean - self.config.gate_margin
        metrics = {
            "schema": METRICS_SCHEMA,
            "run": plan.key,
            "deployment": self._deployment(),
            "parent": {"id": plan.parent_id, "cid": plan.parent_cid},
            "dataset": state["dataset_cid"],
            "epochs": list(plan.epochs),
            "algorithm": self.config.algorithm,
            "train": {**state["train"], "config": self._train_settings()},
            "eval": {
                "key": plan.key,
                "config": config.model_dump(mode="json"),
                "environments": per_env,
            },
            "pass_at_1": {"parent": parent_mean, "candidate": candidate_mean},
            "gate": {"margin": self.config.gate_margin, "accepted": accepted},
        }
        # The curve first: a crash before the state is written re-evaluates and replaces it.
        append_round(
            self.root,
            {
                "run": plan.key, "parent_id": plan.parent_id, "epochs": list(plan.epochs),
                "traces": state["traces"], "accepted": accepted, "environments": curve,
                "algorithm": self.config.algorithm,
            },
        )  # fmt: skip
        stage = RunStage.EVALUATED if accepted else RunStage.REJECTED
        self._advance(rd, stage, metrics=metrics, accepted=accepted)

    def _train_settings(self) -> dict[str, Any]:
        settings = self.config.train.model_dump(mode="json")
        if self.config.algorithm == "grpo":
            settings["grpo"] = self.config.grpo.model_dump(mode="json")
        return settings

    def _pin(self, rd: RunDir) -> None:
        state = rd.state()
        # The metrics travel inside the checkpoint, so they can be found from the chain alone.
        write_durably(rd.path / "model" / METRICS_FILE, canonical_json(state["metrics"]))
        checkpoint_cid = pin_checkpoint(self.store, rd.path / "model")
        metrics_cid, digest = pin_metrics(self.store, state["metrics"])
        self._advance(
            rd, RunStage.PINNED,
            checkpoint_cid=checkpoint_cid, metrics_cid=metrics_cid, metrics_digest=digest.hex(),
            register_from_block=self.protocol.block_number(),
        )  # fmt: skip

    def _register(self, plan: Plan, rd: RunDir) -> None:
        state = rd.state()
        registration = register_once(
            self.protocol,
            checkpoint_cid=state["checkpoint_cid"],
            parent_id=plan.parent_id,
            dataset_cid=state["dataset_cid"],
            digest=bytes.fromhex(state["metrics_digest"]),
            from_block=int(state["register_from_block"]),
        )
        self._advance(
            rd, RunStage.REGISTERED,
            model_id=registration.model_id, block=registration.block_number,
            tx=registration.tx_hash,
        )  # fmt: skip

    def _annotate(self, plan: Plan, rd: RunDir) -> None:
        """Record the registered model and its metrics in the round's history entry."""
        if rd.stage is not RunStage.REGISTERED:
            return
        state = rd.state()
        fields = {"model_id": state["model_id"], "metrics": state["metrics"]}
        annotate_round(self.root, plan.key, fields)

    def _outcome(self, plan: Plan, rd: RunDir, *, resumed: bool = False) -> RunOutcome:
        state = rd.state()
        stage = rd.stage
        again = " (already done: same parent, epochs and settings)" if resumed else ""
        if stage is RunStage.REGISTERED:
            message = f"registered model {state['model_id']} (parent {plan.parent_id}){again}"
        elif stage is RunStage.REJECTED:
            p = state["metrics"]["pass_at_1"]
            message = (
                f"not published: pass@1 {p['candidate']:.3f} is below the parent's "
                f"{p['parent']:.3f} (margin {self.config.gate_margin}){again}"
            )
        elif stage is RunStage.EMPTY:
            message = f"nothing to train on in epochs {list(plan.epochs)}{again}"
        else:
            message = f"stopped at stage {stage}"
        return RunOutcome(plan, stage, message, state)
