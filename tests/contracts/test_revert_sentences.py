"""Every contract error has a sentence, and real reverts from each contract read as one."""

from __future__ import annotations

import os

import pytest
from eth_account import Account

from worldgym.chain.artifacts import all_abis
from worldgym.chain.errors import RevertError
from worldgym.chain.messages import TEMPLATES, protocol_decoder
from worldgym.chain.protocol_math import commitment, make_lane, pack_env_weights, pack_lanes
from worldgym.chain.revert import STANDARD_TEMPLATES
from worldgym.chain.tx import TxSender
from worldgym.core.amounts import WAD
from worldgym.deploy.devchain import DevChain, Window, raw_cid

# anvil's dev keys 1 and 2: public test keys, never real funds.
KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
KEY_2 = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
_OURS = ("Token", "Registry", "Staking", "Models", "WorldGym", "WeightedMedian")


def test_every_protocol_error_has_a_sentence() -> None:
    errors = {e["name"] for abi in all_abis().values() for e in abi if e["type"] == "error"}
    ours = {name for name in errors if name.startswith(_OURS)}
    assert ours, "no protocol errors found in the artifacts"
    missing = sorted(ours - set(TEMPLATES))
    assert not missing, f"errors without a sentence in worldgym/chain/messages.py: {missing}"
    assert not set(TEMPLATES) - errors, "sentences for errors that no longer exist"
    assert {"ERC20InsufficientBalance", "AccessControlUnauthorizedAccount"} <= set(
        STANDARD_TEMPLATES
    )


def _sender(chain: DevChain, key: str) -> TxSender:
    labels = {a: n for n, a in chain.deployment.addresses.by_contract().items()}
    return TxSender(chain.w3, Account.from_key(key), decoder=protocol_decoder(), labels=labels)


def _revert(chain: DevChain, key: str, contract_name: str, fn: str, *args: object) -> str:
    contract = chain.contract(contract_name)
    tx = {"to": contract.address, "data": contract.encode_abi(fn, args=list(args))}
    with pytest.raises(RevertError) as caught:
        _sender(chain, key).send(tx)
    return str(caught.value)


def test_each_contract_reverts_in_a_sentence(chain: DevChain) -> None:
    one, two = Account.from_key(KEY_1).address, Account.from_key(KEY_2).address

    text = _revert(chain, KEY_1, "WorldGymToken", "setMinter", one)
    assert f"{one} may not set the minter: only the deployer {chain.deployer} can" in text

    env_id = chain.register_environment_as(one, raw_cid(b"spec"))
    text = _revert(chain, KEY_2, "EnvironmentRegistry", "publishVersion", env_id, raw_cid(b"v2"))
    assert f"{two} is not the owner of environment {env_id} (the owner is {one})" in text

    text = _revert(chain, KEY_2, "Staking", "withdraw")
    assert f"{two} has nothing unbonding" in text

    text = _revert(
        chain, KEY_2, "ModelRegistry", "registerModel", raw_cid(b"m"), 0, b"", b"\0" * 32
    )
    assert "lacks the role REFINERY_ROLE" in text  # the role by name, not its hash
    assert two in text

    chain.send(chain.deployer, chain.models, "registerModel", raw_cid(b"m"), 0, b"", b"\0" * 32)
    text = _revert(chain, KEY_1, "WorldGym", "submitBatch", env_id, 1, raw_cid(b"b"), 3, 1)
    assert f"{one} has 0.0 WGT staked but miners need a bond of 100.0 WGT" in text
    assert "`worldgym stake AMOUNT`" in text
    chain.bond_miner_as(one)
    text = _revert(chain, KEY_1, "WorldGym", "submitBatch", env_id, 1, raw_cid(b"b"), 3, 2)
    assert "model 2 is not in the model registry (the latest is 1)" in text
    chain.as_account(one).submit_batch(env_id, 1, raw_cid(b"b"), 3, 1)
    epoch = chain.current_epoch()
    text = _revert(chain, KEY_2, "WorldGym", "commit", epoch, b"\1" * 32)
    assert f"epoch {epoch}: this call belongs to window 1" in text

    chain.mine_to(chain.window(epoch, Window.COMMIT)[0])
    text = _revert(chain, KEY_2, "WorldGym", "commit", epoch, b"\1" * 32)
    assert f"{two} has 0.0 WGT staked but 1000.0 WGT is needed to commit" in text

    chain.stake_as(two, 1_000 * WAD)
    salt, weights = os.urandom(32), pack_env_weights({env_id: 10_000})
    lanes = pack_lanes([make_lane(9, 1)])
    chain.send(two, chain.gym, "commit", epoch, commitment(epoch, two, lanes, weights, salt))
    chain.mine_to(chain.window(epoch, Window.REVEAL)[0])
    wrong = pack_lanes([make_lane(10, 1)])
    text = _revert(chain, KEY_2, "WorldGym", "reveal", epoch, wrong, weights, salt)
    assert f"the lanes, environment weights and salt revealed by {two} for epoch {epoch}" in text
    assert "reveal exactly what was committed" in text


def test_a_failing_view_reads_as_a_sentence(chain: DevChain) -> None:
    with pytest.raises(RevertError, match=r"there is no environment 7 \(ids are 1..0\)"):
        chain.environment(7)
