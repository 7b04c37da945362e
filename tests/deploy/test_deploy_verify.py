"""On-chain verification: code with immutables masked, immutable wiring, parameters and roles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web3 import Web3

from worldgym.chain.artifacts import CONTRACT_NAMES, load_artifact
from worldgym.chain.manifest import ProtocolParams
from worldgym.deploy.anvil import UnlockedSender
from worldgym.deploy.devchain import DevChain
from worldgym.deploy.errors import VerificationError
from worldgym.deploy.network import deploy_to_network, deployment_gas_bound
from worldgym.deploy.verify import immutable_offsets, match_runtime, verify_deployment

_FORGE_OUT = Path(__file__).resolve().parents[2] / "contracts" / "out"


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_immutable_slots_are_exactly_solcs_immutable_references(name: str) -> None:
    out = _FORGE_OUT / f"{name}.sol" / f"{name}.json"
    if not out.exists():
        pytest.skip("no forge build output (run `make build`)")
    deployed = json.loads(out.read_text())["deployedBytecode"]
    references = deployed.get("immutableReferences") or {}
    expected = sorted(r["start"] for refs in references.values() for r in refs)
    assert all(r["length"] == 32 for refs in references.values() for r in refs)
    assert immutable_offsets(load_artifact(name).deployed_bytecode) == expected


def test_a_fresh_deployment_verifies(chain: DevChain) -> None:
    report = verify_deployment(chain.w3, chain.deployment)
    assert report.ok, [c.sentence() for c in report.failures]
    assert {c.contract for c in report.checks} >= set(CONTRACT_NAMES)
    report.raise_for_failures()  # nothing to raise


def _set_code(w3: Web3, address: str, code: bytes) -> None:
    w3.provider.make_request("anvil_setCode", [address, "0x" + code.hex()])  # type: ignore[arg-type]


def test_changed_code_is_caught_outside_the_immutables(chain: DevChain) -> None:
    address = chain.deployment.addresses.worldgym
    code = bytearray(chain.w3.eth.get_code(Web3.to_checksum_address(address)))
    slots = immutable_offsets(load_artifact("WorldGym").deployed_bytecode)
    at = next(i for i in range(len(code)) if all(not (s <= i < s + 32) for s in slots) and i > 100)
    code[at] ^= 0xFF
    _set_code(chain.w3, address, bytes(code))
    report = verify_deployment(chain.w3, chain.deployment)
    (failure,) = [c for c in report.failures if c.what == "bytecode"]
    assert failure.contract == "WorldGym"
    assert f"differs from the artifact at byte {at:,}" in failure.detail
    with pytest.raises(VerificationError, match="WorldGym bytecode") as caught:
        report.raise_for_failures()
    assert caught.value.failures


def test_an_immutable_pointing_elsewhere_is_caught(chain: DevChain) -> None:
    """Same code, but WorldGym's token immutable names another token: bytecode alone passes."""
    gym, token = chain.deployment.addresses.worldgym, chain.deployment.addresses.token
    word = bytes(12) + bytes.fromhex(token[2:])
    impostor = bytes(12) + bytes.fromhex("00000000000000000000000000000000deadbeef")
    code = bytes(chain.w3.eth.get_code(Web3.to_checksum_address(gym)))
    assert word in code
    _set_code(chain.w3, gym, code.replace(word, impostor))
    report = verify_deployment(chain.w3, chain.deployment)
    failed = {(c.contract, c.what) for c in report.failures}
    assert failed == {("WorldGym", "immutable token")}


def test_a_manifest_that_lies_about_parameters_or_chain_is_caught(chain: DevChain) -> None:
    params = chain.deployment.params.model_copy(update={"min_stake": 7 * 10**18})
    lying = chain.deployment.model_copy(update={"params": params, "chain_id": 5})
    report = verify_deployment(chain.w3, lying)
    failed = {(c.contract, c.what): c.detail for c in report.failures}
    assert set(failed) == {("chain", "chain id"), ("Staking", "minStake")}
    assert failed["Staking", "minStake"] == f"{10**21}, expected {7 * 10**18}"


@pytest.mark.parametrize(
    ("field", "value"), [("miner_stake", 7 * 10**18), ("miner_slash_bps", 1), ("max_model_lag", 9)]
)
def test_a_manifest_that_lies_about_the_miner_bond_or_model_lag_is_caught(
    chain: DevChain, field: str, value: int
) -> None:
    params = chain.deployment.params.model_copy(update={field: value})
    report = verify_deployment(chain.w3, chain.deployment.model_copy(update={"params": params}))
    assert {(c.contract, c.what) for c in report.failures} == {("WorldGym", "params")}


def test_no_code_at_an_address_is_caught(chain: DevChain) -> None:
    addresses = chain.deployment.addresses.model_copy(
        update={"staking": "0x000000000000000000000000000000000000dEaD"}
    )
    report = verify_deployment(
        chain.w3, chain.deployment.model_copy(update={"addresses": addresses})
    )
    details = {(c.contract, c.what): c.detail for c in report.failures}
    assert "no contract there" in details["Staking", "bytecode"]
    assert details["Staking", "minStake"].startswith("cannot read minStake()")
    assert ("WorldGym", "immutable staking") in details


def test_code_shorter_than_the_artifact_is_caught() -> None:
    runtime = load_artifact("Staking").deployed_bytecode
    assert "bytes, the artifact's is" in match_runtime(runtime, runtime[:-1]).detail
    assert match_runtime(runtime, runtime).ok


def test_the_gas_bound_covers_a_real_deployment_without_much_slack(w3: Web3) -> None:
    deployer, refinery = list(w3.eth.accounts)[:2]
    sender = UnlockedSender(w3, deployer)
    used: list[int] = []
    deployment = deploy_to_network(
        w3, sender, ProtocolParams.public(), refiners=(refinery,),
        on_step=lambda _label, receipt: used.append(int(receipt["gasUsed"])),
    )  # fmt: skip
    bound = deployment_gas_bound(deployment.params, sender.address, refiners=1)
    assert len(used) == 8
    assert sum(used) <= bound <= 1.25 * sum(used)
    assert verify_deployment(w3, deployment, refiners=(refinery,)).ok
