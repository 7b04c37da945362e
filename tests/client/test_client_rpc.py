"""The RPC layer: clear errors for a dead node, chain-id check, retries for reads only."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
from client_helpers import (  # noqa: F401 (pytest fixtures, registered by import)
    isolated_env_fixture,
)
from requests.adapters import HTTPAdapter
from web3 import Web3

from worldgym.chain.errors import ChainIdMismatchError, RpcUnavailableError
from worldgym.chain.rpc import READ_METHODS, RetryingHTTPProvider, make_web3
from worldgym.client.config import NetworkProfile, load_settings, save_profile
from worldgym.client.session import connect
from worldgym.deploy.anvil import AnvilProcess, pid_alive


def _dead_url() -> str:
    """The URL of an anvil that was started, answered, and was stopped by its pid."""
    with AnvilProcess() as node:
        url, pid = node.url, node.pid
        assert make_web3(url).eth.block_number == 0
    assert pid is not None
    assert not pid_alive(pid)
    return url


def test_dead_node_gives_one_clear_line() -> None:
    url = _dead_url()
    w3 = make_web3(url, retries=2, backoff_s=0.01)
    started = time.monotonic()
    with pytest.raises(RpcUnavailableError) as info:
        _ = w3.eth.block_number
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert message == f"cannot reach the RPC at {url} (connection refused): is the node running?"
    assert info.value.__cause__ is None  # translated, not chained to a requests traceback


def test_connect_hint_names_the_profile_setting(isolated_env: Path) -> None:
    url = _dead_url()
    save_profile("devnet", NetworkProfile(rpc_url=url, chain_id=31337))
    with pytest.raises(RpcUnavailableError) as info:
        connect(load_settings(), retries=0)
    message = str(info.value)
    assert url in message
    assert "networks.devnet.rpc_url" in message
    assert "WORLDGYM_NETWORKS__DEVNET__RPC_URL" in message
    assert "worldgym devnet up" in message


def test_connect_checks_the_chain_id(anvil: AnvilProcess, isolated_env: Path) -> None:
    save_profile("good", NetworkProfile(rpc_url=anvil.url, chain_id=31337))
    save_profile("wrong", NetworkProfile(rpc_url=anvil.url, chain_id=1))
    settings = load_settings()
    assert connect(settings, "good").eth.chain_id == 31337
    with pytest.raises(ChainIdMismatchError, match=r"serves chain 31337, but chain 1 was expected"):
        connect(settings, "wrong")


class _Refusing(HTTPAdapter):
    """A transport that counts requests per JSON-RPC method and refuses every one."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, int] = {}

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        body = request.body
        text = body.decode() if isinstance(body, bytes) else str(body)
        method = text.split('"method":')[1].split('"')[1]
        self.calls[method] = self.calls.get(method, 0) + 1
        raise requests.ConnectionError("[Errno 111] Connection refused")


def test_reads_are_retried_and_sends_are_not() -> None:
    adapter = _Refusing()
    session = requests.Session()
    session.mount("http://", adapter)
    provider = RetryingHTTPProvider(
        "http://127.0.0.1:1", retries=3, backoff_s=0.001, session=session
    )
    with pytest.raises(RpcUnavailableError):
        provider.make_request("eth_blockNumber", [])  # type: ignore[arg-type]
    with pytest.raises(RpcUnavailableError):
        provider.make_request("eth_sendRawTransaction", ["0x00"])  # type: ignore[arg-type]
    with pytest.raises(RpcUnavailableError):
        provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert adapter.calls == {"eth_blockNumber": 4, "eth_sendRawTransaction": 1, "evm_mine": 1}
    assert "eth_sendRawTransaction" not in READ_METHODS


def test_timeout_is_reported_as_such() -> None:
    class Slow(HTTPAdapter):
        def send(
            self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
        ) -> requests.Response:
            raise requests.ReadTimeout("read timed out")

    session = requests.Session()
    session.mount("http://", Slow())
    w3 = Web3(RetryingHTTPProvider("http://127.0.0.1:1", timeout_s=0.5, retries=0, session=session))
    with pytest.raises(RpcUnavailableError, match=r"did not answer eth_chainId within 0.5s"):
        _ = w3.eth.chain_id
