"""TxSender on a real anvil: concurrent nonces, refusals, lost sends, reverts, fees, timeouts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from client_helpers import (  # noqa: F401 (pytest fixtures, registered by import)
    DEV_ADDRESSES,
    DEV_KEYS,
    SINK,
    deploy_reverter,
    dev_account_fixture,
    isolated_env_fixture,
    node_w3_fixture,
    sender_fixture,
)
from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.types import RPCEndpoint

from worldgym.chain.contracts import Protocol
from worldgym.chain.errors import (
    RevertError,
    RpcUnavailableError,
    TransactionError,
    TxRejectedError,
    TxTimeoutError,
)
from worldgym.chain.revert import RevertDecoder
from worldgym.chain.rpc import RetryingHTTPProvider
from worldgym.chain.tx import FeePolicy, TxSender
from worldgym.core.amounts import WAD
from worldgym.core.errors import UsageError
from worldgym.deploy.anvil import AnvilProcess
from worldgym.deploy.devchain import DevChain


def _nonce_of(w3: Web3, receipt: Any) -> int:
    return int(w3.eth.get_transaction(receipt["transactionHash"])["nonce"])


def test_fifty_concurrent_sends_land_with_consecutive_nonces(
    node_w3: Web3, sender: TxSender
) -> None:
    start = node_w3.eth.get_transaction_count(sender.address)
    with ThreadPoolExecutor(max_workers=50) as pool:
        receipts = list(pool.map(lambda i: sender.send({"to": SINK, "value": i + 1}), range(50)))
    assert all(r["status"] == 1 for r in receipts)
    nonces = sorted(_nonce_of(node_w3, r) for r in receipts)
    assert nonces == list(range(start, start + 50))
    assert node_w3.eth.get_transaction_count(sender.address) == start + 50
    assert node_w3.eth.get_balance(Web3.to_checksum_address(SINK)) == sum(range(1, 51))


def test_refused_sends_leave_no_gap(node_w3: Web3, sender: TxSender) -> None:
    """Every third send asks for more ETH than exists: refused, and its nonce is reused."""
    start = node_w3.eth.get_transaction_count(sender.address)

    def send(i: int) -> Any:
        value = 10**30 if i % 3 == 0 else 1
        try:
            return sender.send({"to": SINK, "value": value, "gas": 21_000})
        except TxRejectedError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(send, range(30)))
    refused = [o for o in outcomes if isinstance(o, TxRejectedError)]
    landed = [o for o in outcomes if not isinstance(o, TxRejectedError)]
    assert len(refused) == 10
    assert "insufficient funds" in str(refused[0]).lower()
    assert sorted(_nonce_of(node_w3, r) for r in landed) == list(range(start, start + 20))
    assert sender.nonces.next_nonce == start + 20
    assert sender.send({"to": SINK, "value": 1})["status"] == 1


class _LossyProvider(RetryingHTTPProvider):
    """Loses ``eth_sendRawTransaction`` traffic: the request, the answer, or everything after."""

    def __init__(self, url: str, mode: str) -> None:
        super().__init__(url, retries=1, backoff_s=0.001)
        self.mode = mode
        self.armed = True
        self.down = False
        self.delivered: list[bytes] = []

    def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        if self.down:
            raise requests.ConnectionError("[Errno 111] Connection refused")
        if method != "eth_sendRawTransaction":
            return super()._make_request(method, request_data)
        if self.armed:
            self.armed = False
            if self.mode == "answer":  # the node gets it, the answer is lost
                self.delivered.append(request_data)
                super()._make_request(method, request_data)
            elif self.mode == "everything":
                self.down = True
            raise requests.ConnectionError("[Errno 104] Connection reset by peer")
        self.delivered.append(request_data)
        return super()._make_request(method, request_data)


@pytest.mark.parametrize("mode", ["answer", "request"])
def test_lost_send_is_checked_not_blindly_resent(
    anvil: AnvilProcess, dev_account: LocalAccount, mode: str
) -> None:
    provider = _LossyProvider(anvil.url, mode)
    w3 = Web3(provider)
    sender = TxSender(w3, dev_account)
    sent = sender.submit({"to": SINK, "value": 7})
    receipt = sender.wait(sent)
    assert receipt["status"] == 1
    assert receipt["transactionHash"].to_0x_hex() == sent.tx_hash
    # Answer lost: found by hash, never sent again. Request lost: the same bytes, once.
    assert len(provider.delivered) == 1
    assert w3.eth.get_transaction_count(sender.address) == sent.nonce + 1
    assert sender.send({"to": SINK, "value": 1})["status"] == 1


def test_unreachable_after_send_raises_and_resyncs(
    anvil: AnvilProcess, dev_account: LocalAccount
) -> None:
    provider = _LossyProvider(anvil.url, "everything")
    sender = TxSender(Web3(provider), dev_account)
    with pytest.raises(RpcUnavailableError, match="may or may not have reached the node"):
        sender.submit({"to": SINK, "value": 7, "gas": 21_000})
    assert provider.delivered == []
    assert sender.nonces.next_nonce is None  # re-read from the node next time
    provider.down = False
    receipt = sender.send({"to": SINK, "value": 1})
    assert _nonce_of(sender.w3, receipt) == 0  # the nonce was not skipped


def test_another_sender_on_the_same_account(node_w3: Web3, dev_account: LocalAccount) -> None:
    first = TxSender(node_w3, dev_account)
    second = TxSender(node_w3, dev_account)
    first.send({"to": SINK, "value": 1})
    second.send({"to": SINK, "value": 1})
    second.send({"to": SINK, "value": 1})
    # first's local count (1) is stale: "nonce too low", re-read, signed again with 3
    receipt = first.send({"to": SINK, "value": 1})
    assert _nonce_of(node_w3, receipt) == 3


def test_reverted_receipt_carries_the_decoded_reason(node_w3: Web3, sender: TxSender) -> None:
    abi = [
        {
            "type": "error",
            "name": "TooEarly",
            "inputs": [{"name": "epoch", "type": "uint256"}, {"name": "opens", "type": "uint256"}],
        }
    ]
    data = keccak(text="TooEarly(uint256,uint256)")[:4] + encode(["uint256", "uint256"], [3, 90])
    target = deploy_reverter(node_w3, data)
    labelled = TxSender(
        node_w3,
        Account.from_key(DEV_KEYS[0]),
        decoder=RevertDecoder({"Gym": abi}, {"TooEarly": "epoch {epoch} opens at block {opens}"}),
        labels={target: "Gym"},
    )
    with pytest.raises(RevertError) as estimate:
        labelled.send({"to": target, "data": "0x01"})
    assert str(estimate.value) == (
        f"the transaction to {target} would revert: Gym: epoch 3 opens at block 90"
    )
    assert estimate.value.tx_hash is None  # nothing was signed or sent
    nonce = node_w3.eth.get_transaction_count(labelled.address)

    with pytest.raises(RevertError) as mined:
        labelled.send({"to": target, "data": "0x01", "gas": 100_000})  # skips the estimate
    assert mined.value.tx_hash is not None
    assert mined.value.revert is not None
    assert mined.value.revert.values == {"epoch": 3, "opens": 90}
    assert f"transaction {mined.value.tx_hash}" in str(mined.value)
    assert str(mined.value).endswith("Gym: epoch 3 opens at block 90")
    assert node_w3.eth.get_transaction_count(labelled.address) == nonce + 1


def test_out_of_gas_is_named(node_w3: Web3, sender: TxSender) -> None:
    # Creation code that loops forever (JUMPDEST; PUSH1 0; JUMP) burns all the gas.
    with pytest.raises(RevertError, match=r"used all 100000 gas \(out of gas"):
        sender.send({"data": "0x5b600056", "gas": 100_000})


def test_eip1559_fees(node_w3: Web3, dev_account: LocalAccount) -> None:
    base = int(node_w3.eth.get_block("latest")["baseFeePerGas"])
    sender = TxSender(node_w3, dev_account, fees=FeePolicy(priority_fee_wei=3))
    built = sender.build({"to": SINK, "value": 1})
    assert built["maxPriorityFeePerGas"] == 3
    assert built["maxFeePerGas"] == 2 * base + 3
    assert built["chainId"] == 31337
    assert built["gas"] == int(21_000 * 1.2)
    assert "nonce" not in built
    capped = TxSender(node_w3, dev_account, fees=FeePolicy(max_fee_cap_wei=base // 2))
    with pytest.raises(UsageError, match="above the fee cap"):
        capped.build({"to": SINK})
    with pytest.raises(UsageError):
        FeePolicy(base_fee_multiplier=0.5)


def test_receipt_timeout_then_mined(node_w3: Web3, sender: TxSender) -> None:
    node_w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [False])
    sent = sender.submit({"to": SINK, "value": 1})
    with pytest.raises(TxTimeoutError, match=sent.tx_hash):
        sender.wait(sent, timeout_s=0.2)
    node_w3.provider.make_request(RPCEndpoint("evm_mine"), [])
    assert sender.wait(sent)["status"] == 1


def test_works_as_the_protocol_sender(chain: DevChain) -> None:
    """The typed contract wrappers send through a TxSender (local signing, no unlocked account)."""
    validator = DEV_ADDRESSES[2]
    chain.fund(validator, 2_000 * WAD)
    sender = TxSender(
        chain.w3,
        Account.from_key(DEV_KEYS[2]),
        decoder=RevertDecoder.from_artifacts(),
        labels={v: k for k, v in chain.deployment.addresses.by_contract().items()},
    )
    protocol = Protocol(chain.w3, chain.deployment, sender)
    protocol.stake(1_500 * WAD)
    assert protocol.stake_of(validator) == 1_500 * WAD
    with pytest.raises(RevertError, match=r"Staking.StakingInsufficientStake\(validator="):
        protocol.request_unbond(10_000 * WAD)


def test_no_nonce_taken_when_the_estimate_reverts(node_w3: Web3, sender: TxSender) -> None:
    target = deploy_reverter(node_w3, b"")
    sender.send({"to": SINK, "value": 1})
    before = sender.nonces.next_nonce
    with pytest.raises(RevertError, match="reverted without a reason"):
        sender.send({"to": target})
    with pytest.raises(TransactionError):
        sender.send({"to": target, "value": 1})
    assert sender.nonces.next_nonce == before
