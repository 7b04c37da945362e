"""A real tiny model mines a real batch on a devnet: the right tasks, the model's own numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from worlds import World

from worldgym.chain.contracts import Protocol
from worldgym.chain.rpc import make_web3
from worldgym.chain.tx import TxSender
from worldgym.core.schemas import parse_batch, task_index
from worldgym.deploy.anvil import free_port
from worldgym.gym import load_environment
from worldgym.gym.environment import load_spec
from worldgym.gym.environments import example_path
from worldgym.miner import BatchState, MinerError, Submitter
from worldgym.policy.gumbel import SampleKey
from worldgym.policy.hf import TransformersPolicy
from worldgym.policy.rollout import check_rollout
from worldgym.storage import KuboStore, StoreSettings, cid_from_bytes, open_store

pytestmark = pytest.mark.ml


def test_mined_batch_is_on_chain_in_storage_with_derived_tasks_and_model_logprobs(
    world: World, policy: TransformersPolicy
) -> None:
    miner, spool = world.miner(policy)
    (entry,) = miner.mine_epoch()
    assert entry.state == BatchState.CONFIRMED

    epoch = world.chain.current_epoch()
    (record,) = world.chain.batches(epoch)
    assert record.miner == world.account.address
    assert cid_from_bytes(record.cid) == entry.cid
    assert record.trace_count == 3 * 2
    assert record.model_id == world.model.id

    doc = parse_batch(world.store.get_bytes(entry.cid))
    h = doc.header
    assert (h.epoch, h.miner, h.env_id, h.sequence) == (
        epoch,
        world.account.address,
        world.env_id,
        0,
    )
    assert (h.model.id, h.model.digest) == (world.model.id, world.model.cid)
    assert (h.chain_id, h.contract) == (world.chain.deployment.chain_id, world.chain.gym.address)

    env = load_environment(load_spec(example_path("arithmetic")))
    seed = world.chain.seed(epoch)
    assert seed is not None
    for trace in doc.traces:
        task = env.task(seed, world.env_id, 1, world.account.address, task_index(0, trace.task))
        assert [m.model_dump() for m in trace.prompt] == env.prompt(task)
        assert trace.answer == env.extract(trace.completion)
        assert trace.completion == policy.decode(trace.tokens)
        recomputed = policy.score([(env.prompt(task), trace.tokens)])[0]
        assert max(abs(a - b) for a, b in zip(recomputed, trace.logprobs, strict=True)) < 1e-4
        key = SampleKey.derive(task.task_seed, trace.sample)  # the chain fixed this sample
        check = check_rollout(
            policy, env.prompt(task), trace.tokens, trace.logprobs, trace.completion,
            h.sampling, key,
        )  # fmt: skip
        assert check.ok, check.reason
    assert (h.sampling.max_new_tokens, h.group_size) == (12, 2)  # the spec's, not the miner's
    assert spool.document(entry) == world.store.get_bytes(entry.cid)


def test_second_batch_in_an_epoch_takes_the_next_sequence_and_new_tasks(
    world: World, policy: TransformersPolicy
) -> None:
    miner, _ = world.miner(policy, tasks_per_batch=2, batches_per_epoch=2)
    first, second = miner.mine_epoch()
    assert miner.mine_epoch() == []  # the epoch has its two batches
    if first.epoch != second.epoch:
        pytest.skip("the epoch turned between the two batches")
    assert (first.sequence, second.sequence) == (0, 1)
    one = parse_batch(world.store.get_bytes(first.cid))
    two = parse_batch(world.store.get_bytes(second.cid))
    assert one.traces[0].prompt != two.traces[0].prompt


def test_a_batch_whose_epoch_ended_is_kept_as_expired_not_submitted(
    world: World, policy: TransformersPolicy, tmp_path: Path
) -> None:
    down = open_store(StoreSettings(backend="kubo", kubo_api="http://127.0.0.1:9", retries=0))
    assert isinstance(down, KuboStore)
    miner, spool = world.miner(policy, down, retry_s=0.0)
    with pytest.raises(MinerError, match="kept in the spool"):
        miner.mine_epoch()
    (entry,) = spool.entries()
    world.chain.mine_to(world.chain.window_opens(entry.epoch + 1, 0))
    later = Submitter(world.protocol, world.sender, world.store, spool)
    assert later.settle(entry).state == BatchState.EXPIRED
    assert world.chain.batches(entry.epoch) == []
    assert spool.document(entry)  # the traces are still on disk


def test_storage_down_keeps_the_batch_and_submits_it_once_after_recovery(
    world: World, policy: TransformersPolicy
) -> None:
    down = open_store(StoreSettings(backend="kubo", kubo_api="http://127.0.0.1:9", retries=0))
    miner, spool = world.miner(policy, down, retry_s=0.0)
    with pytest.raises(MinerError, match="could not be pinned"):
        miner.mine_epoch()
    (entry,) = spool.entries()
    assert entry.state == BatchState.BUILT
    assert entry.attempts == 1
    assert world.chain.batches(entry.epoch) == []

    recovered, _ = world.miner(policy)
    assert recovered.mine_epoch() == []  # the spooled batch is this epoch's batch
    (after,) = spool.entries()
    assert after.state == BatchState.CONFIRMED
    assert [cid_from_bytes(b.cid) for b in world.chain.batches(entry.epoch)] == [entry.cid]
    assert world.store.get_bytes(entry.cid) == spool.document(entry)


def test_rpc_down_at_submission_keeps_the_pinned_batch_until_the_node_is_back(
    world: World, policy: TransformersPolicy
) -> None:
    dead = make_web3(f"http://127.0.0.1:{free_port()}", retries=0, timeout_s=2)
    offline = Protocol(dead, world.chain.deployment, TxSender(dead, world.account))
    miner, spool = world.miner(policy, retry_s=0.0)
    miner.submitter = Submitter(offline, offline.sender, world.store, spool)  # type: ignore[arg-type]
    with pytest.raises(MinerError, match="could not be submitted"):
        miner.mine_epoch()
    (entry,) = spool.entries()
    assert entry.state == BatchState.PINNED
    assert world.store.has(entry.cid)

    recovered, _ = world.miner(policy)
    (confirmed,) = recovered.drain()
    assert confirmed.state == BatchState.CONFIRMED
    assert [cid_from_bytes(b.cid) for b in world.chain.batches(entry.epoch)] == [entry.cid]
