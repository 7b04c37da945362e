"""A transaction that fails because its window closed reads why, at the block where it failed."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3
from web3.types import RPCEndpoint

from worldgym.chain.contracts import Protocol, Window
from worldgym.chain.errors import RevertError
from worldgym.chain.messages import protocol_decoder
from worldgym.chain.tx import TxSender
from worldgym.core.amounts import WAD
from worldgym.deploy.devchain import DevChain


def _validator(chain: DevChain) -> tuple[TxSender, Protocol]:
    account = Account.create()
    chain.w3.provider.make_request(RPCEndpoint("anvil_setBalance"), [account.address, hex(10**20)])
    chain.fund(account.address, 5_000 * WAD)
    labels = {a: n for n, a in chain.deployment.addresses.by_contract().items()}
    sender = TxSender(chain.w3, account, decoder=protocol_decoder(), labels=labels)
    protocol = Protocol(chain.w3, chain.deployment, sender)
    protocol.stake(2_000 * WAD)
    return sender, protocol


def _commit_one_block_late(chain: DevChain, sender: TxSender) -> RevertError:
    """Commit with the gas given (no estimate), mined at the first block after the window."""
    epoch = chain.current_epoch()
    _, closes = chain.window(epoch, Window.COMMIT)
    chain.mine_to(closes - 1)  # the commit lands in block `closes`: one block too late
    data = chain.gym.encode_abi("commit", args=[epoch, b"\x01" * 32])
    with pytest.raises(RevertError) as failed:
        sender.send({"to": chain.gym.address, "data": data, "gas": 300_000})
    receipt = chain.w3.eth.get_transaction_receipt(failed.value.tx_hash)  # type: ignore[arg-type]
    assert receipt["blockNumber"] == closes
    return failed.value


def test_a_commit_one_block_late_says_the_window_closed(chain: DevChain) -> None:
    sender, _ = _validator(chain)
    error = _commit_one_block_late(chain, sender)
    assert error.revert is not None
    assert error.revert.error == "WorldGymOutsideWindow"
    assert "no longer reverts" not in str(error)
    assert "this call belongs to window 1" in str(error)


def test_without_a_tracer_the_replay_runs_in_the_failed_block(
    chain: DevChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Public nodes often refuse debug_traceTransaction: the replay must still find the reason
    (replaying on the parent block, where the window was open, would not revert)."""
    sender, _ = _validator(chain)
    monkeypatch.setattr(TxSender, "_traced_revert", lambda self, tx_hash: None)
    error = _commit_one_block_late(chain, sender)
    assert error.revert is not None
    assert error.revert.error == "WorldGymOutsideWindow"
    assert Web3.to_checksum_address(chain.gym.address) in str(error)
