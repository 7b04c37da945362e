"""The Kubo backend against recorded Kubo RPC exchanges (transport level), and a real
daemon when ``WORLDGYM_KUBO_API`` is set (``WORLDGYM_KUBO_RECORD=<file>`` also records)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kubo_replay import Exchange, RecordingTransport, ReplayTransport, load_exchanges
from storage_vectors import pattern

from worldgym.storage import (
    BackendError,
    ContentNotFoundError,
    IntegrityError,
    KuboStore,
    LocalStore,
    ReadLimitError,
    StoreSettings,
    StoreUnavailableError,
    compute_cid,
    open_store,
)
from worldgym.storage.unixfs import ImportOptions

HELLO_V1 = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
KPLUS_V0 = "QmUSjGawaz4ptvREcMKSMJneWCa5j8dAz2wSAAvHtW2rnB"
KPLUS_V1 = "bafybeiexg2oqkfnj56l7fcmawswqbijt5shq4b5rg6a546uwpkqqzwjioi"
MISSING = "bafkreicvyijdwbh2pc4wmvtzkyoy4a5jv6e4vxnerz4jwrlq4qftnmzhaa"
CHUNK = 256 * 1024
KPLUS = pattern(CHUNK + 1)
NOT_ADDS = [e.name for e in load_exchanges() if not e.name.startswith("add_")]


def _store(*names: str, retries: int = 2) -> tuple[KuboStore, ReplayTransport]:
    transport = ReplayTransport(load_exchanges([*names, *NOT_ADDS]))
    store = KuboStore("http://127.0.0.1:5001", retries=retries, backoff_s=0, transport=transport)
    return store, transport


def _with(exchange: Exchange, **changes: object) -> Exchange:
    return Exchange(**{**vars(exchange), **changes})


def test_constructing_a_store_makes_no_request() -> None:
    transport = ReplayTransport([])
    open_store(StoreSettings(backend="kubo"), transport=transport).close()
    assert transport.requests == []


def test_put_bytes_adds_with_explicit_options_and_checks_the_cid() -> None:
    store, transport = _store("add_hello_cidv1")
    assert store.put_bytes(b"hello world") == HELLO_V1
    (request,) = transport.requests
    assert request.url.path == "/api/v0/add"
    assert dict(request.url.params) == {
        "cid-version": "1",
        "raw-leaves": "true",
        "chunker": "size-262144",
        "hash": "sha2-256",
        "pin": "false",
        "progress": "false",
    }
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert b"hello world" in request.content


def test_put_cidv0_and_streams() -> None:
    store, transport = _store("add_kplus_cidv0", "add_kplus_cidv1")
    assert store.put_bytes(KPLUS, cid_version=0) == KPLUS_V0
    assert store.put_stream(iter([KPLUS[:5], KPLUS[5:]]), cid_version=1) == KPLUS_V1
    assert transport.requests[0].url.params["raw-leaves"] == "false"


def test_put_file_streams_the_upload(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(KPLUS)
    store, transport = _store("add_kplus_cidv1")
    assert store.put_file(path, pin=True) == KPLUS_V1
    assert transport.requests[0].url.params["pin"] == "true"
    assert KPLUS in transport.requests[0].content


def test_a_daemon_that_imports_differently_is_refused() -> None:
    (add,) = load_exchanges(["add_hello_cidv1"])
    wrong = _with(add, body=json.dumps({**json.loads(add.body), "Hash": KPLUS_V1}).encode())
    store = KuboStore(transport=ReplayTransport([wrong]), backoff_s=0)
    with pytest.raises(BackendError, match="imports differently"):
        store.put_bytes(b"hello world")


def test_get_walks_the_dag_with_block_get_and_verifies_every_block() -> None:
    store, transport = _store()
    assert store.get_bytes(KPLUS_V0) == KPLUS
    assert transport.paths() == ["/api/v0/block/get"] * 3
    assert store.get_bytes(HELLO_V1) == b"hello world"
    assert store.stat(KPLUS_V0).size == len(KPLUS)


def test_a_daemon_serving_a_wrong_block_is_caught() -> None:
    exchanges = load_exchanges()
    leaf = "QmSCMtko2SLHTEWJw6yBamETEkB25sWCRx6uXVMaat2hF1"
    tampered = [
        _with(e, body=e.body[:-1] + b"\x00") if e.match.get("arg") == leaf else e for e in exchanges
    ]
    store = KuboStore(transport=ReplayTransport(tampered), backoff_s=0)
    with pytest.raises(IntegrityError) as caught:
        store.get_bytes(KPLUS_V0)
    assert caught.value.cid == leaf


def test_an_oversized_block_answer_is_cut_off() -> None:
    (get,) = load_exchanges([f"block_get_{HELLO_V1}"])
    huge = _with(get, body=b"x" * (3 * 1024 * 1024))
    store = KuboStore(transport=ReplayTransport([huge]), backoff_s=0)
    with pytest.raises(IntegrityError, match="more than"):
        store.get_bytes(HELLO_V1)


def test_read_limits_apply_to_kubo_too() -> None:
    store, transport = _store()
    with pytest.raises(ReadLimitError):
        store.get_bytes(KPLUS_V0, max_bytes=1000)
    assert len(transport.requests) == 1  # only the root was fetched


def test_has_uses_offline_block_stat() -> None:
    store, transport = _store()
    assert store.has(HELLO_V1)
    assert not store.has(MISSING)
    assert all(r.url.params["offline"] == "true" for r in transport.requests)


def test_missing_content_is_not_found() -> None:
    store, _ = _store()
    with pytest.raises(ContentNotFoundError) as caught:
        store.get_bytes(MISSING)
    assert caught.value.cid == MISSING
    with pytest.raises(ContentNotFoundError):
        store.pin(MISSING)


def test_pins() -> None:
    store, transport = _store()
    store.pin(HELLO_V1)
    assert transport.requests[-1].url.params["recursive"] == "true"
    assert store.stat(HELLO_V1).pinned
    assert not store.stat(KPLUS_V0).pinned
    assert store.pins() == sorted([HELLO_V1, KPLUS_V1])
    assert store.unpin(HELLO_V1)
    assert not store.unpin(KPLUS_V0)


def test_version() -> None:
    store, _ = _store()
    answer = store.version()
    assert {"Version", "Commit", "Repo", "System", "Golang"} <= answer.keys()
    assert answer["Version"] == "0.4.18-dev"  # the daemon the fixtures were recorded from


def test_cids_in_the_daemon_s_own_base_are_understood() -> None:
    # The recorded daemon writes CIDv1 in base58btc (zb2r..., zdj7...) in add, block/stat,
    # pin/add and pin/ls answers; the store compares parsed CIDs and answers canonically.
    (add,) = load_exchanges(["add_hello_cidv1"])
    assert json.loads(add.body)["Hash"].startswith("z")
    store, _ = _store("add_hello_cidv1")
    assert store.put_bytes(b"hello world") == HELLO_V1
    assert all(pin.startswith("baf") for pin in store.pins())


def test_errors_the_daemon_answers_carry_its_message() -> None:
    (not_found,) = load_exchanges(["unknown_endpoint"])
    store = KuboStore(transport=ReplayTransport([_with(not_found, path="/api/v0/version")]))
    with pytest.raises(BackendError, match="port 5001, not the gateway") as caught:
        store.version()
    assert caught.value.status == 404
    (error,) = load_exchanges(["pin_ls_not_pinned"])
    store = KuboStore(transport=ReplayTransport([_with(error, path="/api/v0/version", match={})]))
    with pytest.raises(BackendError, match="is not pinned") as caught:
        store.version()
    assert caught.value.status == 500


class _Flaky(httpx.BaseTransport):
    """Fails the first ``failures`` requests with ``error``, then answers from ``then``."""

    def __init__(self, failures: int, error: Exception | int, then: httpx.BaseTransport) -> None:
        self.failures = failures
        self.error = error
        self.then = then
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls <= self.failures:
            if isinstance(self.error, int):
                return httpx.Response(self.error, text="busy", request=request)
            raise self.error
        return self.then.handle_request(request)


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x"), 503],
    ids=["connect", "timeout", "protocol", "http-503"],
)
def test_reads_and_adds_are_retried(error: Exception | int) -> None:
    replay = ReplayTransport(load_exchanges(["add_hello_cidv1", *NOT_ADDS]))
    store = KuboStore(transport=_Flaky(2, error, replay), retries=2, backoff_s=0)
    assert store.get_bytes(HELLO_V1) == b"hello world"
    flaky = _Flaky(2, error, replay)
    store = KuboStore(transport=flaky, retries=2, backoff_s=0)
    assert store.put_bytes(b"hello world") == HELLO_V1
    assert flaky.calls == 3
    assert b"hello world" in replay.requests[-1].content  # the retried upload is whole


def test_a_daemon_that_is_down_is_a_clear_error() -> None:
    refusing = _Flaky(100, httpx.ConnectError("Connection refused"), ReplayTransport([]))
    store = KuboStore("http://127.0.0.1:5999", transport=refusing, retries=1, backoff_s=0)
    with pytest.raises(StoreUnavailableError, match="cannot be reached") as caught:
        store.get_bytes(HELLO_V1)
    assert "ipfs daemon" in str(caught.value)
    assert "127.0.0.1:5999" in str(caught.value)
    assert refusing.calls == 2


def test_a_real_closed_port_is_unavailable() -> None:
    with socket.socket() as sock:  # a free port, closed again: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = KuboStore(f"http://127.0.0.1:{port}", retries=0, timeout_s=2)
    with pytest.raises(StoreUnavailableError):
        store.has(HELLO_V1)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="http"):
        StoreSettings(backend="kubo", kubo_api="127.0.0.1:5001")
    with pytest.raises(ValueError, match="http"):
        KuboStore("localhost:5001")
    with pytest.raises(ValueError, match="256 KiB"):
        KuboStore(transport=ReplayTransport([]))._put(
            b"", ImportOptions(chunk_size=1024), pin=False
        )


# -- a real daemon ------------------------------------------------------------------------

KUBO_API = os.environ.get("WORLDGYM_KUBO_API")
real_kubo = pytest.mark.skipif(not KUBO_API, reason="set WORLDGYM_KUBO_API to test a real Kubo")


@pytest.fixture(scope="session")
def kubo_recorder() -> Iterator[RecordingTransport | None]:
    """One recorder for the whole run (``WORLDGYM_KUBO_RECORD``), saved at its end."""
    record = os.environ.get("WORLDGYM_KUBO_RECORD")
    transport = RecordingTransport() if record else None
    yield transport
    if record and transport is not None:
        transport.save(Path(record))


@pytest.fixture
def kubo(kubo_recorder: RecordingTransport | None) -> Iterator[KuboStore]:
    assert KUBO_API is not None
    with KuboStore(KUBO_API, transport=kubo_recorder) as store:
        yield store


@real_kubo
@pytest.mark.parametrize(
    "size", [0, 1, 256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1, 175 * 256 * 1024]
)
@pytest.mark.parametrize(("cid_version", "raw_leaves"), [(0, None), (1, None), (1, False)])
def test_real_kubo_gives_the_embedded_store_s_cid(
    kubo: KuboStore, size: int, cid_version: int, raw_leaves: bool | None
) -> None:
    data = pattern(size)
    cid = kubo.put_bytes(data, cid_version=cid_version, raw_leaves=raw_leaves)
    assert cid == compute_cid(data, cid_version=cid_version, raw_leaves=raw_leaves)
    assert kubo.get_bytes(cid) == data
    assert kubo.has(cid)


@real_kubo
def test_real_kubo_pin_stat_and_local_parity(kubo: KuboStore, tmp_path: Path) -> None:
    data = os.urandom(3 * 256 * 1024 + 11)
    cid = kubo.put_bytes(data)
    assert LocalStore(tmp_path).put_bytes(data) == cid
    kubo.pin(cid)
    info = kubo.stat(cid)
    assert info.pinned
    assert info.size == len(data)
    assert cid in kubo.pins()
    assert kubo.unpin(cid)
    assert json.dumps(kubo.version())
