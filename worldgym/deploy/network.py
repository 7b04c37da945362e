"""Deploy to any EVM network by RPC URL: checks before sending, then the deployment itself.

Before a single transaction is signed, :func:`plan_deployment` checks that the
chain runs the Cancun opcodes the contracts are compiled for and that the
deployer can pay an upper bound of the gas at current fees; :func:`manifest_target`
finds where the manifest belongs and :func:`refuse_existing` will not replace one
unless told to.
Sending goes through :class:`worldgym.chain.tx.TxSender` (local signing, nonce
management, receipt polling, decoded reverts).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import Web3Exception

from worldgym.chain.artifacts import CONTRACT_NAMES, load_artifact
from worldgym.chain.contracts import Sender
from worldgym.chain.manifest import Deployment, ProtocolParams, manifest_path
from worldgym.chain.tx import TxSender
from worldgym.client.config import Settings
from worldgym.client.wallet import password_from, unlock_keyfile
from worldgym.core.amounts import format_wgt
from worldgym.core.errors import UsageError
from worldgym.deploy.errors import (
    InsufficientFundsError,
    ManifestExistsError,
    UnsupportedChainError,
)
from worldgym.deploy.protocol import (
    DEPLOY_STEPS,
    StepHook,
    constructor_args,
    deploy_protocol,
    encode_constructor,
)
from worldgym.deploy.verify import REFINERY_ROLE

__all__ = [
    "DeployPlan",
    "check_evm",
    "deploy_to_network",
    "deployment_gas_bound",
    "manifest_target",
    "open_keystore_file",
    "plan_deployment",
    "refuse_existing",
    "set_aside",
    "step_labels",
]

# PUSH0 PUSH0 PUSH0 MCOPY; PUSH0 TLOAD; PUSH0 MSTORE; RETURN(0, 32): runs only on Cancun or later.
_CANCUN_PROBE = "0x5f5f5f5e5f5c5f5260205ff3"
# Gas bounds per step beyond what the code size fixes (measured: 24k-95k per constructor,
# ~45k per wiring call, ~50k per role grant on anvil), with headroom.
_CONSTRUCTOR_GAS = 150_000
_CALL_GAS = 80_000
_TX_GAS, _CREATE_GAS, _DEPOSIT_PER_BYTE, _INITCODE_PER_WORD = 21_000, 32_000, 200, 2


def check_evm(w3: Web3) -> None:
    """Raise :class:`UnsupportedChainError` unless the chain executes Cancun opcodes."""
    try:
        result = bytes(w3.eth.call({"data": _CANCUN_PROBE}))  # type: ignore[typeddict-item]
    except (Web3Exception, ValueError) as exc:
        reason = str(exc).splitlines()[0][:160]
        raise UnsupportedChainError(
            f"chain {w3.eth.chain_id} does not run the Cancun EVM (PUSH0, MCOPY, TLOAD): the "
            f"contracts are compiled for evm_version cancun ({reason}); pick a chain or L2 "
            "upgraded to Cancun (Dencun)"
        ) from None
    if result != bytes(32):
        raise UnsupportedChainError(
            f"chain {w3.eth.chain_id} answered the Cancun opcode probe with {result.hex()!r} "
            "instead of 32 zero bytes: its EVM is not compatible"
        )


def step_labels(refiners: tuple[str, ...] = ()) -> list[str]:
    """Every transaction :func:`deploy_to_network` sends, in order."""
    grants = [f"ModelRegistry.grantRole(REFINERY_ROLE, {r})" for r in refiners]
    return [*DEPLOY_STEPS, *grants]


def deployment_gas_bound(params: ProtocolParams, deployer: str, refiners: int = 0) -> int:
    """An upper bound of the gas every step uses, from code sizes (no node needed)."""
    placeholder = to_checksum_address(deployer)
    deployed = dict.fromkeys(CONTRACT_NAMES, placeholder)
    total = 0
    for name in CONTRACT_NAMES:
        args = constructor_args(
            name, params, deployer=placeholder, recipient=placeholder, deployed=deployed
        )
        initcode = encode_constructor(name, args)
        calldata = sum(16 if byte else 4 for byte in initcode)
        words = (len(initcode) + 31) // 32
        deposit = _DEPOSIT_PER_BYTE * len(load_artifact(name).deployed_bytecode)
        total += _TX_GAS + _CREATE_GAS + calldata + _INITCODE_PER_WORD * words + deposit
        total += _CONSTRUCTOR_GAS
    calls = len(DEPLOY_STEPS) - len(CONTRACT_NAMES) + refiners
    return total + calls * _CALL_GAS


@dataclass(frozen=True)
class DeployPlan:
    """What a deployment will cost and who pays, known before anything is sent."""

    chain_id: int
    deployer: str
    balance_wei: int
    gas_bound: int
    fee_per_gas_wei: int
    block_time_s: float | None
    steps: tuple[str, ...]

    @property
    def cost_bound_wei(self) -> int:
        """The most the deployment can cost (the node also wants the gas margin up front)."""
        return int(self.gas_bound * self.fee_per_gas_wei * 1.2)

    def require_funds(self) -> None:
        """Raise :class:`InsufficientFundsError` unless the balance covers the bound."""
        if self.balance_wei < self.cost_bound_wei:
            raise InsufficientFundsError(
                f"the deployer {self.deployer} has {_eth(self.balance_wei)} on chain "
                f"{self.chain_id}; deploying needs up to {_eth(self.cost_bound_wei)} "
                f"({self.gas_bound:,} gas at {self.fee_per_gas_wei / 1e9:g} gwei, plus the L1 "
                "data fee on a rollup): fund it (a faucet on a testnet), or wait for lower fees"
            )

    def as_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "chain_id": self.chain_id,
            "deployer": self.deployer,
            "balance_wei": self.balance_wei,
            "gas_bound": self.gas_bound,
            "fee_per_gas_wei": self.fee_per_gas_wei,
            "cost_bound_wei": self.cost_bound_wei,
            "block_time_s": self.block_time_s,
            "steps": list(self.steps),
        }


def plan_deployment(
    w3: Web3, sender: TxSender, params: ProtocolParams, refiners: tuple[str, ...] = ()
) -> DeployPlan:
    """Check the chain and price the deployment; nothing is sent."""
    check_evm(w3)
    fees = sender.current_fees()
    fee = int(fees.get("maxFeePerGas", fees.get("gasPrice", 0)))
    return DeployPlan(
        chain_id=sender.chain_id,
        deployer=sender.address,
        balance_wei=int(w3.eth.get_balance(sender.address)),
        gas_bound=deployment_gas_bound(params, sender.address, len(refiners)),
        fee_per_gas_wei=fee,
        block_time_s=_block_time(w3),
        steps=tuple(step_labels(refiners)),
    )


def deploy_to_network(
    w3: Web3,
    sender: Sender,
    params: ProtocolParams,
    *,
    genesis_recipient: str | None = None,
    refiners: tuple[str, ...] = (),
    on_step: StepHook | None = None,
) -> Deployment:
    """Deploy and wire the contracts, then grant ``refiners`` the refinery role."""
    deployment = deploy_protocol(
        w3, sender, params, genesis_recipient=genesis_recipient, on_step=on_step
    )
    models = w3.eth.contract(
        address=to_checksum_address(deployment.addresses.model_registry),
        abi=load_artifact("ModelRegistry").abi,
    )
    for label, refiner in zip(step_labels(refiners)[len(DEPLOY_STEPS) :], refiners, strict=True):
        data = models.encode_abi("grantRole", args=[REFINERY_ROLE, to_checksum_address(refiner)])
        receipt = sender.send({"to": models.address, "data": data})
        if on_step is not None:
            on_step(label, receipt)
    return deployment


def manifest_target(settings: Settings, chain_id: int, profile: str | None = None) -> Path:
    """Where the manifest of ``chain_id`` goes: the profile's ``manifest`` if it sets one."""
    if profile is not None and profile in settings.networks:
        configured = settings.networks[profile]
        if configured.chain_id != chain_id:
            raise UsageError(
                f"profile {profile!r} is chain {configured.chain_id}, but the RPC serves chain "
                f"{chain_id}: pick another --profile name or fix the profile"
            )
        return settings.manifest_path(profile)
    return manifest_path(settings.data_dir, chain_id)


def refuse_existing(target: Path, *, force: bool) -> None:
    """Raise :class:`ManifestExistsError` if ``target`` holds a manifest and not ``force``.

    A chain normally has one deployment: replacing it is asked for explicitly.
    """
    if force or not target.exists():
        return
    old = Deployment.load(target)
    raise ManifestExistsError(
        f"chain {old.chain_id} already has a deployment (WorldGym {old.addresses.worldgym}, "
        f"block {old.deploy_block}) in {target}: use it, check it with "
        "`worldgym deploy --verify-only`, or pass --force to deploy a new set"
    )


def set_aside(target: Path) -> Path | None:
    """Rename the manifest at ``target`` (if any) to ``<chain>.replaced-<block>.json``; return
    the new path."""
    if not target.exists():
        return None
    old = Deployment.load(target)
    kept = target.with_name(f"{target.stem}.replaced-{old.deploy_block}.json")
    os.replace(target, kept)
    return kept


def open_keystore_file(
    path: Path, password_file: Path | None, prompt: Callable[[str], str] | None
) -> LocalAccount:
    """Unlock a v3 keystore file (geth, foundry, ``worldgym wallet``) with a password from
    ``password_file``, ``$WORLDGYM_PASSWORD`` or ``prompt`` (asked with a question)."""
    password = password_from(password_file)
    if password is None:
        if prompt is None:
            raise UsageError(
                f"no password for keystore {path}: pass --password-file or set WORLDGYM_PASSWORD"
            )
        password = prompt(f"Password for keystore {path.name}")
    return unlock_keyfile(path.expanduser(), password)


def _block_time(w3: Web3, span: int = 100) -> float | None:
    """Mean seconds per block over the last ``span`` blocks (None on a young or idle chain)."""
    head = w3.eth.get_block("latest")
    number = int(head["number"])
    if number < 10:
        return None
    old = w3.eth.get_block(max(number - span, 0))
    elapsed = int(head["timestamp"]) - int(old["timestamp"])
    blocks = number - int(old["number"])
    return elapsed / blocks if elapsed > 0 else None


def _eth(wei: int) -> str:
    return format_wgt(wei, places=6, unit="ETH")
