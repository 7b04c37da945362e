"""Deploy the WorldGym contracts from the shipped artifacts and wire them together.

Order: token, environment registry, staking, model registry, WorldGym; then the
token's minter and the staking contract's protocol are set to WorldGym (both
one-shot, deployer-only). The deployer keeps only the model registry's admin
and refinery roles.
"""

from __future__ import annotations

from typing import Any

from eth_abi import encode
from eth_utils import to_checksum_address
from web3 import Web3

from client.artifacts import load_artifact
from client.contracts import Sender
from client.errors import WorldGymError
from client.manifest import ContractAddresses, Deployment, ProtocolParams

__all__ = ["DeployError", "deploy_protocol", "encode_constructor"]


class DeployError(WorldGymError, RuntimeError):
    """A deployment transaction failed or produced no contract."""


def encode_constructor(name: str, args: tuple[Any, ...]) -> bytes:
    """Creation code of contract ``name`` followed by its ABI-encoded constructor arguments."""
    art = load_artifact(name)
    ctor = next((e for e in art.abi if e["type"] == "constructor"), None)
    types = [_abi_type(i) for i in ctor["inputs"]] if ctor else []
    return art.bytecode + encode(types, list(args))


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){param['type'][len('tuple') :]}"
    return str(param["type"])


def deploy_protocol(
    w3: Web3,
    sender: Sender,
    params: ProtocolParams,
    *,
    genesis_recipient: str | None = None,
) -> Deployment:
    """Deploy and wire every contract; return the manifest (not yet saved)."""
    deployer = to_checksum_address(sender.address)
    recipient = to_checksum_address(genesis_recipient or deployer)
    first_block: int | None = None

    def create(name: str, *args: Any) -> str:
        nonlocal first_block
        receipt = sender.send({"data": "0x" + encode_constructor(name, args).hex()})
        address = receipt.get("contractAddress")
        if not address:
            raise DeployError(
                f"deploying {name} produced no contract (tx {receipt['transactionHash'].hex()})"
            )
        if first_block is None:
            first_block = int(receipt["blockNumber"])
        return to_checksum_address(address)

    def call(name: str, address: str, fn: str, *args: Any) -> None:
        contract = w3.eth.contract(
            address=to_checksum_address(address), abi=load_artifact(name).abi
        )
        sender.send({"to": address, "data": contract.encode_abi(fn, args=list(args))})

    token = create(
        "WorldGymToken",
        params.token_name,
        params.token_symbol,
        params.cap,
        params.initial_epoch_emission,
        params.halving_interval,
        recipient,
        params.genesis_supply,
    )
    registry = create(
        "EnvironmentRegistry", token, params.registration_bond, params.bond_release_delay
    )
    staking = create("Staking", token, params.min_stake, params.unbonding_epochs)
    models = create("ModelRegistry", deployer)
    worldgym = create("WorldGym", token, registry, staking, models, params.constructor_tuple())
    call("WorldGymToken", token, "setMinter", worldgym)
    call("Staking", staking, "setProtocol", worldgym)

    digest = load_artifact("WorldGym").source_digest
    return Deployment(
        chain_id=int(w3.eth.chain_id),
        deploy_block=int(first_block or 0),
        deployer=deployer,
        addresses=ContractAddresses(
            token=token,
            environment_registry=registry,
            staking=staking,
            model_registry=models,
            worldgym=worldgym,
        ),
        params=params,
        source_digest=digest,
    )
