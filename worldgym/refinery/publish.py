"""Publishing a model: the metrics document, pinning, and an idempotent registration.

The metrics document (:mod:`worldgym.policy.metrics`) records how the new
model and its parent did on the same held-out tasks, the training run and the
gate's decision; its keccak256 is the ``metricsDigest`` registered on chain.
It is pinned on its own here and also shipped inside the checkpoint.

Registration is the last step of a run and the only one that cannot be
undone, so :func:`register_once` first looks for a
``ModelRegistered`` event from this registrar with the same checkpoint CID (a
run that crashed after sending the transaction but before recording it) and
returns that model instead of registering a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3 import Web3

from worldgym.chain.contracts import Protocol
from worldgym.core.canonical import canonical_json
from worldgym.policy.metrics import METRICS_SCHEMA, metrics_digest
from worldgym.refinery.errors import RefineryError
from worldgym.storage import ContentStore, cid_to_bytes
from worldgym.storage.errors import StorageError

__all__ = ["Registration", "find_registration", "pin_metrics", "register_once"]

_MODEL_REGISTERED = "ModelRegistered(uint256,uint256,address,bytes,bytes,bytes32)"


@dataclass(frozen=True)
class Registration:
    """A model registered on chain: its id and the block it was registered in."""

    model_id: int
    block_number: int
    tx_hash: str


def pin_metrics(store: ContentStore, document: dict[str, Any]) -> tuple[str, bytes]:
    """Pin the metrics document; return (its CID, its digest)."""
    if document.get("schema") != METRICS_SCHEMA:
        raise RefineryError(f"a metrics document must have schema {METRICS_SCHEMA}")
    try:
        cid = store.put_bytes(canonical_json(document), pin=True)
    except StorageError as exc:
        raise RefineryError(f"cannot pin the metrics document: {exc}") from None
    return cid, metrics_digest(document)


def find_registration(
    protocol: Protocol, registrar: str, checkpoint_cid: str, *, from_block: int
) -> Registration | None:
    """The model ``registrar`` registered with ``checkpoint_cid`` since ``from_block``, if any."""
    binary = cid_to_bytes(checkpoint_cid)
    head = protocol.block_number()
    if from_block > head:
        return None
    registrar_topic = "0x" + bytes(12).hex() + to_checksum_address(registrar)[2:].lower()
    logs = protocol.w3.eth.get_logs(
        {
            "address": protocol.models.address,
            "topics": [Web3.to_hex(keccak(text=_MODEL_REGISTERED)), None, None, registrar_topic],
            "fromBlock": from_block,
            "toBlock": head,
        }
    )
    for log in logs:
        event = protocol.models.events.ModelRegistered().process_log(log)
        if bytes(event.args.checkpointCid) == binary:
            return Registration(
                int(event.args.modelId), int(log["blockNumber"]), log["transactionHash"].to_0x_hex()
            )
    return None


def register_once(
    protocol: Protocol,
    *,
    checkpoint_cid: str,
    parent_id: int,
    dataset_cid: str,
    digest: bytes,
    from_block: int,
) -> Registration:
    """Register the checkpoint unless this registrar already did since ``from_block``.

    ``from_block`` is the head recorded before the first attempt, so a
    retried run finds a registration its crashed predecessor sent.
    """
    registrar = protocol.sender.address if protocol.sender is not None else None
    if registrar is None:
        raise RefineryError("publishing needs the refinery's wallet: pass --wallet")
    found = find_registration(protocol, registrar, checkpoint_cid, from_block=from_block)
    if found is not None:
        return found
    model_id = protocol.register_model(
        cid_to_bytes(checkpoint_cid), parent_id, cid_to_bytes(dataset_cid), digest
    )
    found = find_registration(protocol, registrar, checkpoint_cid, from_block=from_block)
    if found is None or found.model_id != model_id:
        raise RefineryError(
            f"model {model_id} was registered but its ModelRegistered event was not found"
        )
    return found
