"""Revert decoding: custom errors with arguments, Error(string), Panic, unknown selectors."""

from __future__ import annotations

from typing import Any

import pytest
from client_helpers import (  # noqa: F401 (pytest fixtures, registered by import)
    DEV_ADDRESSES,
    deploy_reverter,
    dev_account_fixture,
    isolated_env_fixture,
    node_w3_fixture,
    sender_fixture,
)
from eth_abi import encode
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st
from web3 import Web3

from worldgym.chain.errors import RevertError
from worldgym.chain.revert import RevertDecoder, revert_data_of
from worldgym.chain.tx import TxSender, call
from worldgym.core.amounts import WAD
from worldgym.core.errors import UsageError
from worldgym.deploy.devchain import DevChain

VALIDATOR = DEV_ADDRESSES[2]

STAKING_ABI: list[dict[str, Any]] = [
    {
        "type": "error",
        "name": "InsufficientStake",
        "inputs": [
            {"name": "validator", "type": "address"},
            {"name": "stake", "type": "uint256"},
            {"name": "required", "type": "uint256"},
        ],
    },
    {"type": "error", "name": "Paused", "inputs": []},
    {"type": "function", "name": "stake", "inputs": [], "outputs": []},
]
OTHER_ABI: list[dict[str, Any]] = [STAKING_ABI[1]]


def _data(signature: str, types: list[str], values: list[Any]) -> bytes:
    return keccak(text=signature)[:4] + encode(types, values)


INSUFFICIENT = _data(
    "InsufficientStake(address,uint256,uint256)",
    ["address", "uint256", "uint256"],
    [VALIDATOR, 5 * WAD, 10 * WAD],
)


def test_custom_error_generic_form() -> None:
    revert = RevertDecoder({"Staking": STAKING_ABI}).decode(INSUFFICIENT)
    assert revert.contract == "Staking"
    assert revert.error == "InsufficientStake"
    assert revert.values == {"validator": VALIDATOR, "stake": 5 * WAD, "required": 10 * WAD}
    assert str(revert) == (
        f"Staking.InsufficientStake(validator={VALIDATOR}, stake={5 * WAD}, required={10 * WAD})"
    )


def test_custom_error_template() -> None:
    decoder = RevertDecoder(
        {"Staking": STAKING_ABI},
        {
            "Staking.InsufficientStake": "insufficient stake for {validator}: "
            "has {stake:wad WGT}, needs {required:wad WGT}"
        },
    )
    assert str(decoder.decode("0x" + INSUFFICIENT.hex())) == (
        f"Staking: insufficient stake for {VALIDATOR}: has 5.0 WGT, needs 10.0 WGT"
    )


def test_contract_specific_template_beats_generic_one() -> None:
    decoder = RevertDecoder(
        {"Staking": STAKING_ABI, "Other": OTHER_ABI},
        {"Paused": "paused", "Staking.Paused": "staking is paused"},
    )
    selector = keccak(text="Paused()")[:4]
    assert str(decoder.decode(selector, contract="Staking")) == "Staking: staking is paused"
    assert str(decoder.decode(selector, contract="Other")) == "Other: paused"


def test_bad_templates_fail_early() -> None:
    with pytest.raises(UsageError, match="names no known error"):
        RevertDecoder({"Staking": STAKING_ABI}, {"Staking.Nope": "x"})
    with pytest.raises(UsageError, match=r"uses \['amount'\]"):
        RevertDecoder({"Staking": STAKING_ABI}, {"InsufficientStake": "{amount}"})


def test_error_string_and_panic() -> None:
    decoder = RevertDecoder()
    reason = decoder.decode(_data("Error(string)", ["string"], ["not enough"]))
    assert (reason.error, str(reason)) == ("Error", "reverted: not enough")
    panic = decoder.decode(_data("Panic(uint256)", ["uint256"], [0x11]))
    assert str(panic) == "panic 0x11: arithmetic overflow or underflow"
    assert panic.values == {"code": 0x11}
    assert "unknown panic code" in str(decoder.decode(_data("Panic(uint256)", ["uint256"], [7])))


def test_unknown_selector_and_empty_data() -> None:
    decoder = RevertDecoder({"Staking": STAKING_ABI})
    unknown = decoder.decode(bytes.fromhex("deadbeef") + bytes(32))
    assert unknown.error is None
    assert str(unknown).startswith("reverted with unknown error 0xdeadbeef (data 0xdeadbeef00")
    assert str(decoder.decode(b"")) == "reverted without a reason"
    assert str(decoder.decode(None)) == "reverted without a reason"
    # A known selector with data that does not decode is reported as unknown, not guessed.
    assert decoder.decode(INSUFFICIENT[:10]).error is None


def test_openzeppelin_errors_are_known_without_an_abi() -> None:
    data = _data(
        "ERC20InsufficientBalance(address,uint256,uint256)",
        ["address", "uint256", "uint256"],
        [VALIDATOR, 1 * WAD, 3 * WAD],
    )
    assert str(RevertDecoder().decode(data)) == (
        f"ERC20: insufficient balance of {VALIDATOR}: has 1.0, needs 3.0"
    )
    expired = _data("ERC2612ExpiredSignature(uint256)", ["uint256"], [99])
    assert str(RevertDecoder().decode(expired)) == "ERC2612: permit signature expired at 99"
    assert RevertDecoder(standard=False).decode(expired).error is None


@given(
    stake=st.integers(min_value=0, max_value=2**256 - 1),
    required=st.integers(min_value=0, max_value=2**256 - 1),
    validator=st.binary(min_size=20, max_size=20),
)
def test_custom_error_round_trip(stake: int, required: int, validator: bytes) -> None:
    address = Web3.to_checksum_address(validator)
    data = _data(
        "InsufficientStake(address,uint256,uint256)",
        ["address", "uint256", "uint256"],
        [address, stake, required],
    )
    revert = RevertDecoder({"Staking": STAKING_ABI}).decode(data)
    assert revert.values == {"validator": address, "stake": stake, "required": required}


# ─── real reverts from anvil ────────────────────────────────────────────────


def test_revert_data_from_a_failing_eth_call(node_w3: Web3) -> None:
    address = deploy_reverter(node_w3, INSUFFICIENT)
    contract = node_w3.eth.contract(address=Web3.to_checksum_address(address), abi=STAKING_ABI)
    decoder = RevertDecoder({"Staking": STAKING_ABI})
    with pytest.raises(RevertError) as info:
        call(contract.functions.stake(), decoder=decoder, contract="Staking")
    assert str(info.value) == (
        f"Staking.stake reverted: Staking.InsufficientStake(validator={VALIDATOR}, "
        f"stake={5 * WAD}, required={10 * WAD})"
    )
    assert info.value.revert is not None
    assert info.value.revert.values["stake"] == 5 * WAD


def test_revert_string_from_anvil(node_w3: Web3, sender: TxSender) -> None:
    address = deploy_reverter(node_w3, _data("Error(string)", ["string"], ["closed"]))
    with pytest.raises(RevertError, match=r"would revert: reverted: closed$"):
        sender.send({"to": address, "data": "0x01"})


def test_real_token_error_through_the_artifacts(chain: DevChain) -> None:
    """A transfer of tokens the sender does not have: ERC20InsufficientBalance, decoded."""
    poor = chain.accounts[5]
    fn = chain.token.functions.transfer(chain.deployer, 7 * WAD)
    with pytest.raises(RevertError) as info:
        call(
            fn,
            decoder=RevertDecoder.from_artifacts(),
            contract="WorldGymToken",
            sender=poor,
        )
    assert str(info.value) == (
        f"WorldGymToken.transfer reverted: WorldGymToken: insufficient balance of {poor}: "
        "has 0.0, needs 7.0"
    )


def test_revert_data_of_handles_node_shapes() -> None:
    class FakeError(Exception):
        def __init__(self, data: Any = None, rpc_response: Any = None) -> None:
            self.data = data
            self.rpc_response = rpc_response

    assert revert_data_of(FakeError("0x1234")) == b"\x12\x34"
    assert revert_data_of(FakeError({"data": "0xab"})) == b"\xab"
    assert revert_data_of(FakeError(rpc_response={"error": {"data": "0xcd"}})) == b"\xcd"
    assert revert_data_of(FakeError("not hex")) is None
    assert revert_data_of(ValueError()) is None
