"""Deploy the WorldGym contracts from the shipped artifacts and wire them together.

Order: token, environment registry, staking, model registry, WorldGym; then the
token's minter and the staking contract's protocol are set to WorldGym (both
one-shot, deployer-only). The deployer keeps only the model registry's admin
and refinery roles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from eth_abi import encode
from eth_utils import to_checksum_address
from web3 import Web3
from web3.types import TxReceipt

from worldgym.chain.artifacts import CONTRACT_NAMES, load_artifact
from worldgym.chain.contracts import Sender
from worldgym.chain.manifest import ContractAddresses, Deployment, ProtocolParams
from worldgym.deploy.errors import DeployError

__all__ = [
    "DEPLOY_STEPS",
    "DeployError",
    "StepHook",
    "constructor_args",
    "deploy_protocol",
    "encode_constructor",
]

# What deploy_protocol sends, in order: one creation per contract, then the two wiring calls.
DEPLOY_STEPS = (
    *CONTRACT_NAMES,
    "WorldGymToken.setMinter(WorldGym)",
    "Staking.setProtocol(WorldGym)",
)

StepHook = Callable[[str, TxReceipt], None]
"""Called after each step of :data:`DEPLOY_STEPS` with its label and receipt."""


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


def constructor_args(
    name: str,
    params: ProtocolParams,
    *,
    deployer: str,
    recipient: str,
    deployed: Mapping[str, str],
) -> tuple[Any, ...]:
    """Constructor arguments of contract ``name``, given the contracts ``deployed`` before it."""
    if name == "WorldGymToken":
        return (
            params.token_name,
            params.token_symbol,
            params.cap,
            params.initial_epoch_emission,
            params.halving_interval,
            recipient,
            params.genesis_supply,
        )
    token = deployed["WorldGymToken"]
    if name == "EnvironmentRegistry":
        return (token, params.registration_bond, params.bond_release_delay)
    if name == "Staking":
        return (token, params.min_stake, params.unbonding_epochs)
    if name == "ModelRegistry":
        return (deployer,)
    if name == "WorldGym":
        return (
            token,
            deployed["EnvironmentRegistry"],
            deployed["Staking"],
            deployed["ModelRegistry"],
            params.constructor_tuple(),
        )
    raise DeployError(f"unknown contract {name!r}: expected one of {', '.join(CONTRACT_NAMES)}")


def deploy_protocol(
    w3: Web3,
    sender: Sender,
    params: ProtocolParams,
    *,
    genesis_recipient: str | None = None,
    on_step: StepHook | None = None,
) -> Deployment:
    """Deploy and wire every contract; return the manifest (not yet saved).

    ``on_step`` is called after each of :data:`DEPLOY_STEPS` (progress display).
    """
    deployer = to_checksum_address(sender.address)
    recipient = to_checksum_address(genesis_recipient or deployer)
    deployed: dict[str, str] = {}
    first_block: int | None = None

    def step(label: str, tx: dict[str, Any]) -> TxReceipt:
        receipt = sender.send(tx)
        if on_step is not None:
            on_step(label, receipt)
        return receipt

    for name in CONTRACT_NAMES:
        args = constructor_args(
            name, params, deployer=deployer, recipient=recipient, deployed=deployed
        )
        receipt = step(name, {"data": "0x" + encode_constructor(name, args).hex()})
        address = receipt.get("contractAddress")
        if not address:
            raise DeployError(
                f"deploying {name} produced no contract (tx {receipt['transactionHash'].hex()})"
            )
        if first_block is None:
            first_block = int(receipt["blockNumber"])
        deployed[name] = to_checksum_address(address)

    worldgym = deployed["WorldGym"]
    for label, (name, fn) in zip(
        DEPLOY_STEPS[len(CONTRACT_NAMES) :],
        (("WorldGymToken", "setMinter"), ("Staking", "setProtocol")),
        strict=True,
    ):
        target = to_checksum_address(deployed[name])
        contract = w3.eth.contract(address=target, abi=load_artifact(name).abi)
        step(label, {"to": target, "data": contract.encode_abi(fn, args=[worldgym])})

    return Deployment(
        chain_id=int(w3.eth.chain_id),
        deploy_block=int(first_block or 0),
        deployer=deployer,
        addresses=ContractAddresses(
            token=deployed["WorldGymToken"],
            environment_registry=deployed["EnvironmentRegistry"],
            staking=deployed["Staking"],
            model_registry=deployed["ModelRegistry"],
            worldgym=worldgym,
        ),
        params=params,
        source_digest=load_artifact("WorldGym").source_digest,
    )
