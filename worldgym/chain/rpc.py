"""A web3.py connection for a network profile: idempotent reads retried, clear errors.

:func:`make_web3` builds a :class:`~web3.Web3` over HTTP without touching the
network. Read-only JSON-RPC methods (:data:`READ_METHODS`) are retried with
exponential backoff on connection errors, timeouts and HTTP 5xx/429; anything
that changes state (``eth_sendRawTransaction``, anvil's ``evm_*``) is tried
once, so a send is never repeated behind the caller's back (``worldgym.chain.tx``
checks by hash and nonce instead). When the node stays unreachable the caller
gets :class:`~worldgym.chain.errors.RpcUnavailableError`, one line that says what to
do, instead of a ``requests`` traceback.

:func:`connect` does the same for a configured profile and checks that the
node serves the profile's chain id.
"""

from __future__ import annotations

import re
from typing import Any

import requests
from web3 import Web3
from web3.providers.rpc import HTTPProvider
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import RPCEndpoint, RPCResponse

from worldgym.chain.errors import ChainIdMismatchError, RpcUnavailableError

__all__ = [
    "READ_METHODS",
    "RetryingHTTPProvider",
    "check_chain_id",
    "make_web3",
]

# Methods that only read, so repeating one cannot change anything.
READ_METHODS = frozenset(
    {
        "web3_clientVersion",
        "net_version",
        "eth_chainId",
        "eth_syncing",
        "eth_blockNumber",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_feeHistory",
        "eth_blobBaseFee",
        "eth_accounts",
        "eth_getBalance",
        "eth_getCode",
        "eth_getStorageAt",
        "eth_getProof",
        "eth_getTransactionCount",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getBlockTransactionCountByNumber",
        "eth_getBlockTransactionCountByHash",
        "eth_getBlockReceipts",
        "eth_getTransactionByHash",
        "eth_getTransactionByBlockHashAndIndex",
        "eth_getTransactionByBlockNumberAndIndex",
        "eth_getRawTransactionByHash",
        "eth_getTransactionReceipt",
        "eth_call",
        "eth_estimateGas",
        "eth_createAccessList",
        "eth_getLogs",
    }
)

_RETRY_ERRORS = (requests.ConnectionError, requests.Timeout, requests.HTTPError)
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


class RetryingHTTPProvider(HTTPProvider):
    """HTTPProvider that retries only :data:`READ_METHODS` and raises RpcUnavailableError.

    ``retries`` extra attempts are made for a read, sleeping ``backoff_s * 2**i``
    before the i-th; ``hint`` ends the error message (what to check or set).
    ``session`` replaces the per-thread ``requests`` sessions (e.g. a test transport).
    The chain id is cached per thread (web3 checks it before every call and
    estimate), so one provider must not outlive a node restarted as another chain.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 30.0,
        retries: int = 4,
        backoff_s: float = 0.1,
        hint: str = "is the node running?",
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(
            url,
            request_kwargs={"timeout": timeout_s},
            session=session,
            # web3 validates every eth_call/eth_estimateGas against eth_chainId: ask once.
            cache_allowed_requests=True,
            cacheable_requests={RPCEndpoint("eth_chainId")},
            request_cache_validation_threshold=None,
            exception_retry_configuration=ExceptionRetryConfiguration(
                errors=_RETRY_ERRORS,
                retries=max(retries, 0) + 1,  # web3 counts attempts, not retries
                backoff_factor=backoff_s,
                method_allowlist=sorted(READ_METHODS),
            ),
        )
        self.timeout_s = timeout_s
        self.hint = hint

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        """Send one JSON-RPC request; network failures become :class:`RpcUnavailableError`."""
        try:
            return super().make_request(method, params)
        except _RETRY_ERRORS as exc:
            raise self._unavailable(method, exc) from None

    def make_batch_request(
        self, batch_requests: list[tuple[RPCEndpoint, Any]]
    ) -> list[RPCResponse] | RPCResponse:
        """Send a JSON-RPC batch (not retried); network failures become RpcUnavailableError."""
        try:
            return super().make_batch_request(batch_requests)
        except _RETRY_ERRORS as exc:
            raise self._unavailable(RPCEndpoint("batch"), exc) from None

    def _unavailable(self, method: str, exc: BaseException) -> RpcUnavailableError:
        url = self.endpoint_uri
        if isinstance(exc, requests.Timeout):
            what = f"the RPC at {url} did not answer {method} within {self.timeout_s:g}s"
        elif isinstance(exc, requests.HTTPError):
            status = exc.response.status_code if exc.response is not None else "an error"
            what = f"the RPC at {url} answered {method} with HTTP {status}"
        else:
            found = _ERRNO.search(str(exc))
            reason = found.group(1).strip().lower() if found else "connection failed"
            what = f"cannot reach the RPC at {url} ({reason})"
        return RpcUnavailableError(f"{what}: {self.hint}")


def make_web3(
    rpc_url: str,
    *,
    timeout_s: float = 30.0,
    retries: int = 4,
    backoff_s: float = 0.1,
    hint: str = "is the node running?",
) -> Web3:
    """A Web3 over :class:`RetryingHTTPProvider`; no request is made yet."""
    provider = RetryingHTTPProvider(
        rpc_url, timeout_s=timeout_s, retries=retries, backoff_s=backoff_s, hint=hint
    )
    return Web3(provider)


def check_chain_id(w3: Web3, expected: int, *, profile: str | None = None) -> None:
    """Raise :class:`ChainIdMismatchError` unless the node serves chain ``expected``."""
    actual = int(w3.eth.chain_id)
    if actual != expected:
        url = getattr(w3.provider, "endpoint_uri", "the RPC")
        fix = (
            f"fix networks.{profile}.chain_id or networks.{profile}.rpc_url"
            if profile
            else "point at the right node"
        )
        raise ChainIdMismatchError(
            f"the node at {url} serves chain {actual}, but chain {expected} was expected: {fix}"
        )
