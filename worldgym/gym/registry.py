"""Environments on chain: pin a spec, register it, publish versions, and read them back.

A spec is pinned to content-addressed storage as its canonical bytes (CIDv1,
raw leaves: a spec is one raw block), and its binary CID goes on chain, but
only after the degenerate-answer audit (:mod:`worldgym.gym.audit`) passes: an
environment whose verifier ignores the reference or pays for junk is refused.
Reading an environment back fetches the spec by that CID, verifies the bytes
against it (the store does), bounds the size, and loads it with the same
checks as a local file, so a validator never runs a spec it cannot reproduce.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from worldgym.chain.contracts import EnvironmentRecord, Protocol
from worldgym.gym.audit import check_registrable
from worldgym.gym.environment import load_environment, load_spec
from worldgym.gym.errors import SpecError
from worldgym.gym.spec import EnvSpec
from worldgym.storage import ContentStore, StorageError, cid_from_bytes, cid_to_bytes

__all__ = [
    "MAX_SPEC_BYTES",
    "EnvironmentView",
    "fetch_spec",
    "pin_spec",
    "publish_version",
    "register",
    "resolve",
    "view",
]

MAX_SPEC_BYTES = 1024 * 1024


@dataclass(frozen=True)
class EnvironmentView:
    """An environment as a person sees it: the record, every version's CID, the latest spec."""

    record: EnvironmentRecord
    versions: list[str]
    spec: EnvSpec | None
    spec_error: str | None


def pin_spec(store: ContentStore, spec: EnvSpec) -> tuple[str, bytes]:
    """Pin the spec's canonical bytes; return its CID as text and in binary (for the chain)."""
    cid = store.put_bytes(spec.canonical_bytes(), cid_version=1, pin=True)
    return cid, cid_to_bytes(cid)


def fetch_spec(store: ContentStore, cid: bytes | str) -> EnvSpec:
    """Fetch, verify and load the spec at ``cid`` (binary from chain, or text)."""
    text = cid_from_bytes(cid) if isinstance(cid, bytes) else cid
    data = store.get_bytes(text, max_bytes=MAX_SPEC_BYTES)
    return load_spec(data, json_only=True)  # pinned specs are canonical JSON, never YAML


def register(protocol: Protocol, store: ContentStore, spec_path: Path) -> tuple[int, str]:
    """Validate, audit, pin and register the spec at ``spec_path``; return (environment id, CID).

    Raises:
        EnvironmentRefusedError: its verifier pays for degenerate answers (:mod:`gym.audit`).
    """
    spec = load_spec(spec_path)
    check_registrable(load_environment(spec))
    cid, binary = pin_spec(store, spec)
    return protocol.register_environment(binary), cid


def publish_version(
    protocol: Protocol, store: ContentStore, env_id: int, spec_path: Path
) -> tuple[int, str]:
    """Validate, audit, pin and publish the spec as a new version of ``env_id``; (version, CID).

    Raises:
        EnvironmentRefusedError: its verifier pays for degenerate answers (:mod:`gym.audit`).
    """
    spec = load_spec(spec_path)
    check_registrable(load_environment(spec))
    cid, binary = pin_spec(store, spec)
    return protocol.publish_version(env_id, binary), cid


def resolve(
    protocol: Protocol, store: ContentStore, env_id: int, version: int | None = None
) -> tuple[int, EnvSpec]:
    """The spec of ``env_id`` at ``version`` (default: the latest) and that version number."""
    record = protocol.environment(env_id)
    chosen = version if version is not None else record.version_count
    return chosen, fetch_spec(store, protocol.version_cid(env_id, chosen))


def view(protocol: Protocol, store: ContentStore, env_id: int) -> EnvironmentView:
    """Everything ``env show`` prints; a spec that cannot be fetched or loaded is reported."""
    record = protocol.environment(env_id)
    versions = [
        cid_from_bytes(protocol.version_cid(env_id, v)) for v in range(1, record.version_count + 1)
    ]
    spec: EnvSpec | None = None
    error: str | None = None
    try:
        spec = fetch_spec(store, versions[-1])
    except (StorageError, SpecError) as exc:
        error = str(exc)
    return EnvironmentView(record, versions, spec, error)
