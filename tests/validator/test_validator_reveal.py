"""The validator's commit-reveal plumbing for protocol v2, on a devnet with the real contracts.

The scorer is replaced by one that returns fixed verdicts (what ``worldgym.validator.checks``
decides is tested elsewhere); everything else is real: lanes packed from each
verdict's score, digest and fraud flag, environment weights from the injected hook,
the state file written before the commit, the reveal read back from the chain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from worldgym.chain.contracts import BatchRecord, Protocol, Window
from worldgym.chain.protocol_math import FRAUD, make_lane, pack_env_weights, pack_lanes
from worldgym.core.amounts import WAD
from worldgym.deploy.devchain import DevChain, raw_cid
from worldgym.storage import StoreSettings, open_store
from worldgym.validator import BatchScorer, EpochState, Validator, ValidatorState
from worldgym.validator.checks import BatchVerdict

VERDICTS = [
    BatchVerdict(7_500, "ok", digest=42),
    BatchVerdict(0, "rejected: a forged rollout", digest=9, fraud=True),
    BatchVerdict(0, "rejected: not in storage", digest=0),
]


class FixedVerdicts(BatchScorer):
    """A scorer that hands out ``VERDICTS`` in batch order."""

    def score_epoch(
        self,
        epoch: int,
        *,
        sample_seed: bytes | None,
        on_batch: Callable[[BatchRecord, BatchVerdict], None] | None = None,
    ) -> list[BatchVerdict]:
        records = self.protocol.batches(epoch)
        for record, verdict in zip(records, VERDICTS, strict=True):
            if on_batch is not None:
                on_batch(record, verdict)
        return VERDICTS[: len(records)]


def _epoch_with_batches(chain: DevChain) -> tuple[int, list[int]]:
    """Three batches in two environments; return the epoch and the environment ids."""
    envs = [
        chain.register_environment_as(chain.accounts[1], raw_cid(f"e{i}".encode())) for i in (1, 2)
    ]
    chain.send(chain.deployer, chain.models, "registerModel", raw_cid(b"m"), 0, b"", b"\0" * 32)
    miner = chain.accounts[2]
    chain.bond_miner_as(miner)
    epoch = chain.current_epoch()
    for i, env in enumerate((envs[0], envs[1], envs[0])):
        chain.send(miner, chain.gym, "submitBatch", env, 1, raw_cid(bytes([i])), 4, 1)
    return epoch, envs


def test_lanes_fraud_digests_and_env_weights_are_committed_revealed_and_kept(
    chain: DevChain, tmp_path: Path
) -> None:
    epoch, envs = _epoch_with_batches(chain)
    validator = chain.accounts[3]
    chain.stake_as(validator, 2_000 * WAD)
    protocol = chain.as_account(validator)
    asked: list[tuple[int, Sequence[int]]] = []

    def weights(e: int, env_ids: Sequence[int]) -> dict[int, int]:
        asked.append((e, list(env_ids)))
        return {env_ids[0]: 6_000, env_ids[1]: 1_500}

    store = open_store(StoreSettings(path=tmp_path / "store"))
    scorer = FixedVerdicts(protocol, store, tmp_path / "models", validator)
    state = ValidatorState(tmp_path / "state.db")
    v = Validator(protocol, scorer, state, console=Console(quiet=True), env_weights=weights)

    chain.mine_to(chain.window_opens(epoch, Window.COMMIT))
    assert v.step() == [f"epoch {epoch}: committed to 3 scores"]
    assert asked == [(epoch, envs)], "the hook sees every environment with a batch, once"
    record = state.get(epoch)
    assert record is not None
    lanes = [make_lane(7_500, 42), make_lane(FRAUD, 9), make_lane(0, 0)]
    assert record.lanes == lanes
    assert record.scores == [7_500, 0, 0]
    assert record.env_weights == {envs[0]: 6_000, envs[1]: 1_500}
    on_chain = chain.gym.functions.commitmentOf(
        epoch, validator, pack_lanes(lanes), pack_env_weights(record.env_weights), record.salt
    ).call()
    assert record.commitment == on_chain == chain.commitment(epoch, validator).commitment

    # A restart reads lanes and weights back from the state file and reveals them.
    state.close()
    restarted = Validator(
        protocol, scorer, ValidatorState(tmp_path / "state.db"), console=Console(quiet=True)
    )
    chain.mine_to(chain.window_opens(epoch, Window.REVEAL))
    assert restarted.step() == [f"epoch {epoch}: revealed"]
    assert [chain.revealed_lane(epoch, validator, i) for i in range(3)] == lanes
    assert [chain.gym.functions.revealedEnvWeight(epoch, validator, e).call() for e in envs] == [
        6_000,
        1_500,
    ]
    assert restarted.state.get(epoch).state == EpochState.REVEALED  # type: ignore[union-attr]

    chain.mine_to(chain.window_opens(epoch, Window.FINALIZE))
    assert any("finalized" in line for line in restarted.step())
    assert chain.consensus(epoch, 1) == FRAUD
    assert chain.stake_of(chain.accounts[2]) < chain.deployment.params.miner_stake, "slashed"


def test_by_default_every_environment_with_a_batch_gets_full_weight(
    chain: DevChain, tmp_path: Path
) -> None:
    epoch, envs = _epoch_with_batches(chain)
    validator = chain.accounts[3]
    chain.stake_as(validator, 2_000 * WAD)
    protocol: Protocol = chain.as_account(validator)
    store = open_store(StoreSettings(path=tmp_path / "store"))
    scorer = FixedVerdicts(protocol, store, tmp_path / "models", validator)
    v = Validator(protocol, scorer, ValidatorState(tmp_path / "s.db"), console=Console(quiet=True))
    chain.mine_to(chain.window_opens(epoch, Window.COMMIT))
    v.step()
    record = v.state.get(epoch)
    assert record is not None
    assert record.env_weights == {envs[0]: 10_000, envs[1]: 10_000}
