"""Check a deployment against the chain: the code at each address, then the wiring.

**Code.** ``eth_getCode`` at each address must equal the shipped artifact's
runtime bytecode except inside immutable slots: solc emits every immutable as a
``PUSH32`` of 32 zero bytes that the constructor fills in. The contracts are
compiled for Cancun, where the optimizer writes a zero constant as ``PUSH0``,
so a zero ``PUSH32`` is an immutable slot (a test checks these offsets against
solc's ``immutableReferences``). The artifacts carry no metadata hash
(``cbor_metadata = false``), so everything else must match byte for byte.

**Wiring.** The values the constructors wrote into those slots must include the
addresses the manifest names (WorldGym's token, registry, staking and model
registry; each contract's deployer), and view calls must return the
manifest's parameters, the token's minter and the staking contract's protocol
(both WorldGym), and the model registry's roles.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import is_hex_address, to_checksum_address
from web3 import Web3
from web3.exceptions import Web3Exception

from worldgym.chain.artifacts import load_artifact
from worldgym.chain.contracts import Protocol
from worldgym.chain.manifest import Deployment
from worldgym.deploy.errors import VerificationError

__all__ = [
    "ADMIN_ROLE",
    "REFINERY_ROLE",
    "Check",
    "CodeMatch",
    "VerificationReport",
    "immutable_offsets",
    "match_runtime",
    "verify_deployment",
]

ADMIN_ROLE = bytes(32)  # AccessControl's DEFAULT_ADMIN_ROLE
REFINERY_ROLE = bytes(Web3.keccak(text="REFINERY_ROLE"))  # ModelRegistry.REFINERY_ROLE
_PUSH1, _PUSH32 = 0x60, 0x7F
_WORD = 32


def immutable_offsets(runtime: bytes) -> list[int]:
    """Offsets of the 32-byte immutable slots in compiled runtime code (zero ``PUSH32`` data)."""
    offsets = []
    i = 0
    while i < len(runtime):
        op = runtime[i]
        if _PUSH1 <= op <= _PUSH32:
            size = op - _PUSH1 + 1
            if op == _PUSH32 and runtime[i + 1 : i + 1 + _WORD] == bytes(_WORD):
                offsets.append(i + 1)
            i += 1 + size
        else:
            i += 1
    return offsets


@dataclass(frozen=True)
class CodeMatch:
    """How on-chain code compares with an artifact: ``ok``, why not, and the immutables read."""

    ok: bool
    detail: str
    immutables: tuple[bytes, ...] = ()


def match_runtime(expected: bytes, actual: bytes) -> CodeMatch:
    """Compare ``actual`` (on chain) with ``expected`` (the artifact), immutable slots masked."""
    if not actual:
        return CodeMatch(False, "no contract there (empty code): wrong chain or wrong address?")
    if len(actual) != len(expected):
        return CodeMatch(
            False, f"the code is {len(actual):,} bytes, the artifact's is {len(expected):,}"
        )
    offsets = immutable_offsets(expected)
    masked = bytearray(actual)
    for at in offsets:
        masked[at : at + _WORD] = bytes(_WORD)
    if bytes(masked) != expected:
        first = next(i for i, (a, b) in enumerate(zip(masked, expected, strict=True)) if a != b)
        return CodeMatch(False, f"the code differs from the artifact at byte {first:,}")
    values = tuple(actual[at : at + _WORD] for at in offsets)
    return CodeMatch(True, f"{len(actual):,} bytes match ({len(offsets)} immutable slots)", values)


@dataclass(frozen=True)
class Check:
    """One verified property: which contract, what, whether it holds, and the evidence."""

    contract: str
    what: str
    ok: bool
    detail: str

    def sentence(self) -> str:
        """``Contract what: detail``."""
        return f"{self.contract} {self.what}: {self.detail}"


@dataclass(frozen=True)
class VerificationReport:
    """Every check made on one deployment."""

    deployment: Deployment
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        """The checks that failed."""
        return [c for c in self.checks if not c.ok]

    def raise_for_failures(self, *, note: str = "") -> None:
        """Raise :class:`VerificationError` listing every failed check (and ``note``), if any."""
        failed = self.failures
        if failed:
            sentences = [c.sentence() for c in failed]
            raise VerificationError(
                f"the deployment on chain {self.deployment.chain_id} does not verify "
                f"({len(failed)} of {len(self.checks)} checks failed): "
                + "; ".join(sentences)
                + (f" ({note})" if note else ""),
                sentences,
            )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``ok`` and every check."""
        return {
            "ok": self.ok,
            "checks": [
                {"contract": c.contract, "what": c.what, "ok": c.ok, "detail": c.detail}
                for c in self.checks
            ],
        }


def verify_deployment(
    w3: Web3, deployment: Deployment, *, refiners: Sequence[str] = ()
) -> VerificationReport:
    """Check code, immutables, parameters and roles of ``deployment`` on the chain of ``w3``.

    ``refiners`` are extra addresses that must hold the model registry's
    refinery role. Mismatches are collected, not raised (see
    :meth:`VerificationReport.raise_for_failures`); an unreachable node raises.
    """
    checks = [*_chain_checks(w3, deployment)]
    immutables: dict[str, set[bytes]] = {}
    for name, address in deployment.addresses.by_contract().items():
        code = bytes(w3.eth.get_code(to_checksum_address(address)))
        match = match_runtime(load_artifact(name).deployed_bytecode, code)
        checks.append(Check(name, "bytecode", match.ok, f"at {address}: {match.detail}"))
        immutables[name] = set(match.immutables)
    for name, label, address in _expected_immutables(deployment):
        found = _word(address) in immutables[name]
        detail = f"{address} is {'' if found else 'not '}among its immutables"
        checks.append(Check(name, f"immutable {label}", found, detail))
    protocol = Protocol(w3, deployment)
    for name, fn, args, expected in _expected_views(protocol, refiners):
        checks.append(_view_check(protocol, name, fn, args, expected))
    return VerificationReport(deployment, tuple(checks))


def _chain_checks(w3: Web3, deployment: Deployment) -> Iterator[Check]:
    chain_id = int(w3.eth.chain_id)
    yield Check(
        "chain", "chain id", chain_id == deployment.chain_id,
        f"the node serves chain {chain_id}, the manifest is for chain {deployment.chain_id}",
    )  # fmt: skip
    digest = load_artifact("WorldGym").source_digest
    same = deployment.source_digest == digest
    yield Check(
        "artifacts", "source digest", same,
        "the manifest and these artifacts come from the same sources" if same else
        f"the manifest was deployed from sources {deployment.source_digest[:12]}…, these "
        f"artifacts are {digest[:12]}…: use the worldgym version that deployed it",
    )  # fmt: skip


def _expected_immutables(deployment: Deployment) -> Iterator[tuple[str, str, str]]:
    """(contract, label, address) for each address a constructor stored as an immutable."""
    a, deployer = deployment.addresses, deployment.deployer
    yield "WorldGymToken", "deployer", deployer
    yield "EnvironmentRegistry", "token", a.token
    yield "Staking", "token", a.token
    yield "Staking", "deployer", deployer
    yield "WorldGym", "token", a.token
    yield "WorldGym", "environment registry", a.environment_registry
    yield "WorldGym", "staking", a.staking
    yield "WorldGym", "model registry", a.model_registry


def _expected_views(
    protocol: Protocol, refiners: Sequence[str]
) -> Iterator[tuple[str, str, tuple[Any, ...], Any]]:
    """(contract, view, args, expected result) for every parameter and role."""
    d = protocol.deployment
    p, worldgym = d.params, d.addresses.worldgym
    yield "WorldGymToken", "minter", (), worldgym
    yield "WorldGymToken", "name", (), p.token_name
    yield "WorldGymToken", "symbol", (), p.token_symbol
    yield "WorldGymToken", "cap", (), p.cap
    yield "WorldGymToken", "initialEpochEmission", (), p.initial_epoch_emission
    yield "WorldGymToken", "halvingInterval", (), p.halving_interval
    yield "EnvironmentRegistry", "registrationBond", (), p.registration_bond
    yield "EnvironmentRegistry", "bondReleaseDelay", (), p.bond_release_delay
    yield "Staking", "protocol", (), worldgym
    yield "Staking", "minStake", (), p.min_stake
    yield "Staking", "unbondingEpochs", (), p.unbonding_epochs
    yield "WorldGym", "params", (), p.constructor_tuple()
    yield "ModelRegistry", "REFINERY_ROLE", (), REFINERY_ROLE
    yield "ModelRegistry", "hasRole", (ADMIN_ROLE, d.deployer), True
    for account in (d.deployer, *refiners):
        yield "ModelRegistry", "hasRole", (REFINERY_ROLE, to_checksum_address(account)), True


def _view_check(
    protocol: Protocol, name: str, fn: str, args: tuple[Any, ...], expected: Any
) -> Check:
    what = fn if fn != "hasRole" else f"{'admin' if args[0] == ADMIN_ROLE else 'refinery'} role"
    subject = f" to {args[1]}" if fn == "hasRole" else ""
    actual = _read(protocol, name, fn, args)
    if isinstance(actual, _Unreadable):
        return Check(name, what, False, f"cannot read {fn}(): {actual.reason}")
    if isinstance(expected, str) and is_hex_address(expected) and isinstance(actual, str):
        actual = to_checksum_address(actual)
    if isinstance(expected, tuple) and isinstance(actual, list | tuple):
        actual = tuple(actual)
    ok = actual == expected
    detail = f"{_show(actual)}{subject}" if ok else f"{_show(actual)}{subject}, expected "
    return Check(name, what, ok, detail if ok else detail + _show(expected))


@dataclass(frozen=True)
class _Unreadable:
    reason: str


def _read(protocol: Protocol, name: str, fn: str, args: tuple[Any, ...]) -> Any:
    """The result of view ``fn`` on contract ``name``, or :class:`_Unreadable` with why."""
    try:
        return protocol.contract(name).functions[fn](*args).call()
    except Web3Exception as exc:  # reverted, or returned something that does not decode
        return _Unreadable(str(exc).splitlines()[0][:200] or type(exc).__name__)


def _word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(to_checksum_address(address)[2:])


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "granted" if value else "not granted"
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
