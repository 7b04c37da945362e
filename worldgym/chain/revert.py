"""Turn revert data into a sentence: which contract, which error, which values.

A :class:`RevertDecoder` is built from contract ABIs (plain lists, keyed by
contract name) and an optional table of message templates. Decoding tries, in
order: the standard ``Error(string)`` and ``Panic(uint256)``; the custom errors
of the given ABIs (preferring the contract the call went to); OpenZeppelin's
standard errors (ERC-6093 token errors, ERC-2612, ownership, access control,
reentrancy, SafeERC20, ECDSA, nonces, SafeCast). Anything else is reported as
an unknown selector with its raw data.

Templates are ``str.format`` strings keyed by ``"Contract.Error"`` or just
``"Error"`` (any contract); they name the error's arguments. Besides the usual
format specs, ``{x:wad}`` prints an 18-decimal amount (``5.0``), ``{x:wad WGT}``
adds a unit (``5.0 WGT``), ``{x:gwei}`` prints wei as gwei and ``{x:role}`` prints an
AccessControl role id by name (``REFINERY_ROLE``, see :data:`ROLE_NAMES`)::

    RevertDecoder(
        {"Staking": staking_abi},
        {"StakingInsufficientStake": "{validator} has {staked:wad WGT} staked, "
                                     "needs {requested:wad WGT}"},
    )

renders ``Staking: 0xAb… has 5.0 WGT staked, needs 10.0 WGT``. Without a
template the generic form is ``Staking.StakingInsufficientStake(validator=0xAb…,
staked=5000000000000000000, requested=10000000000000000000)``.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address
from eth_utils.abi import abi_to_signature, collapse_if_tuple

from worldgym.core.amounts import exact_decimals
from worldgym.core.errors import UsageError

__all__ = [
    "ERROR_SELECTOR",
    "PANIC_CODES",
    "PANIC_SELECTOR",
    "ROLE_NAMES",
    "STANDARD_ERRORS",
    "STANDARD_TEMPLATES",
    "DecodedRevert",
    "RevertArg",
    "RevertDecoder",
    "error_selector",
    "revert_data_of",
]

AbiEntry = Mapping[str, Any]

ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)

PANIC_CODES: Mapping[int, str] = {
    0x00: "generic compiler panic",
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid value for an enum",
    0x22: "incorrectly encoded storage byte array",
    0x31: "pop() on an empty array",
    0x32: "array index out of bounds",
    0x41: "too much memory allocated",
    0x51: "call to an uninitialized internal function",
}


def _error(name: str, *inputs: str) -> dict[str, Any]:
    """A custom-error ABI entry from ``"type name"`` pairs."""
    args = [dict(zip(("type", "name"), item.split(), strict=True)) for item in inputs]
    return {"type": "error", "name": name, "inputs": args}


# OpenZeppelin 5's standard errors, grouped under the label shown when no
# contract ABI claims them (interfaces/draft-IERC6093.sol and friends).
STANDARD_ERRORS: Mapping[str, Sequence[AbiEntry]] = {
    "ERC20": [
        _error("ERC20InsufficientBalance", "address sender", "uint256 balance", "uint256 needed"),
        _error("ERC20InvalidSender", "address sender"),
        _error("ERC20InvalidReceiver", "address receiver"),
        _error(
            "ERC20InsufficientAllowance", "address spender", "uint256 allowance", "uint256 needed"
        ),
        _error("ERC20InvalidApprover", "address approver"),
        _error("ERC20InvalidSpender", "address spender"),
        _error("ERC20ExceededCap", "uint256 increasedSupply", "uint256 cap"),
        _error("ERC20InvalidCap", "uint256 cap"),
    ],
    "ERC2612": [
        _error("ERC2612ExpiredSignature", "uint256 deadline"),
        _error("ERC2612InvalidSigner", "address signer", "address owner"),
    ],
    "Ownable": [
        _error("OwnableUnauthorizedAccount", "address account"),
        _error("OwnableInvalidOwner", "address owner"),
    ],
    "AccessControl": [
        _error("AccessControlUnauthorizedAccount", "address account", "bytes32 neededRole"),
        _error("AccessControlBadConfirmation"),
    ],
    "ReentrancyGuard": [_error("ReentrancyGuardReentrantCall")],
    "SafeERC20": [_error("SafeERC20FailedOperation", "address token")],
    "ECDSA": [
        _error("ECDSAInvalidSignature"),
        _error("ECDSAInvalidSignatureLength", "uint256 length"),
        _error("ECDSAInvalidSignatureS", "bytes32 s"),
    ],
    "Nonces": [_error("InvalidAccountNonce", "address account", "uint256 currentNonce")],
    "SafeCast": [_error("SafeCastOverflowedUintDowncast", "uint8 bits", "uint256 value")],
}

STANDARD_TEMPLATES: Mapping[str, str] = {
    "ERC20InsufficientBalance": "insufficient balance of {sender}: has {balance:wad}, "
    "needs {needed:wad}",
    "ERC20InsufficientAllowance": "insufficient allowance for spender {spender}: "
    "allowance {allowance:wad}, needs {needed:wad}",
    "ERC20InvalidSender": "invalid sender {sender}",
    "ERC20InvalidReceiver": "invalid receiver {receiver}",
    "ERC20InvalidApprover": "invalid approver {approver}",
    "ERC20InvalidSpender": "invalid spender {spender}",
    "ERC20ExceededCap": "minting would raise the supply to {increasedSupply:wad}, "
    "above the cap of {cap:wad}",
    "ERC2612ExpiredSignature": "permit signature expired at {deadline}",
    "ERC2612InvalidSigner": "permit signed by {signer}, not by the owner {owner}",
    "OwnableUnauthorizedAccount": "{account} is not the owner",
    "AccessControlUnauthorizedAccount": "{account} lacks role {neededRole:role}",
    "ReentrancyGuardReentrantCall": "reentrant call",
    "SafeERC20FailedOperation": "token {token} refused the transfer",
    "InvalidAccountNonce": "invalid nonce for {account} (current nonce {currentNonce})",
}


@dataclass(frozen=True)
class RevertArg:
    """One decoded argument of a custom error."""

    name: str
    type: str
    value: Any


@dataclass(frozen=True)
class DecodedRevert:
    """Revert data, decoded as far as the known ABIs allow.

    ``error`` is None for an unknown selector or empty data; ``contract`` is the
    contract (or standard group, e.g. ``ERC20``) whose ABI declares the error.
    """

    data: bytes
    message: str
    error: str | None = None
    contract: str | None = None
    args: tuple[RevertArg, ...] = ()

    @property
    def selector(self) -> bytes | None:
        """The first four bytes of the data, if there are four."""
        return self.data[:4] if len(self.data) >= 4 else None

    @property
    def values(self) -> dict[str, Any]:
        """Arguments by name."""
        return {arg.name: arg.value for arg in self.args}

    def __str__(self) -> str:
        return self.message


def error_selector(entry: AbiEntry) -> bytes:
    """The 4-byte selector of a custom-error ABI entry."""
    return keccak(text=abi_to_signature(dict(entry)))[:4]  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Known:
    contract: str
    entry: AbiEntry

    @property
    def name(self) -> str:
        return str(self.entry["name"])

    @property
    def types(self) -> list[str]:
        return [collapse_if_tuple(dict(i)) for i in self.entry.get("inputs", [])]


class RevertDecoder:
    """Decodes revert data against a set of contract ABIs and message templates."""

    def __init__(
        self,
        abis: Mapping[str, Iterable[AbiEntry]] | None = None,
        templates: Mapping[str, str] | None = None,
        *,
        standard: bool = True,
    ) -> None:
        """``abis`` maps contract names to ABIs (only ``"error"`` entries are used).

        ``templates`` maps ``"Contract.Error"`` or ``"Error"`` to a message
        template; a template that names an unknown error or argument raises
        :class:`UsageError` here rather than hiding a revert later. With
        ``standard``, OpenZeppelin's errors and templates are known too.
        """
        self._by_selector: dict[bytes, list[_Known]] = {}
        for contract, abi in (abis or {}).items():
            self._add(contract, abi)
        self._templates: dict[str, str] = {}
        if standard:
            for group, entries in STANDARD_ERRORS.items():
                self._add(group, entries)
            self._templates.update(STANDARD_TEMPLATES)
        self._templates.update(templates or {})
        self._check_templates(templates or {})

    @classmethod
    def from_artifacts(cls, templates: Mapping[str, str] | None = None) -> RevertDecoder:
        """A decoder for every contract shipped in ``worldgym/chain/artifacts``."""
        from worldgym.chain.artifacts import all_abis

        return cls(all_abis(), templates)

    def _add(self, contract: str, abi: Iterable[AbiEntry]) -> None:
        for entry in abi:
            if entry.get("type") == "error":
                known = self._by_selector.setdefault(error_selector(entry), [])
                if not any(k.contract == contract for k in known):
                    known.append(_Known(contract, entry))

    def _check_templates(self, templates: Mapping[str, str]) -> None:
        for key, template in templates.items():
            contract, _, name = key.rpartition(".")
            matches = [
                k
                for known in self._by_selector.values()
                for k in known
                if k.name == name and (not contract or k.contract == contract)
            ]
            if not matches:
                raise UsageError(f"revert template {key!r} names no known error")
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
            for known in matches:
                names = {str(i["name"]) for i in known.entry.get("inputs", [])}
                unknown = {f.split(".")[0].split("[")[0] for f in fields} - names
                if unknown:
                    raise UsageError(
                        f"revert template {key!r} uses {sorted(unknown)}, but "
                        f"{known.contract}.{name} has only {sorted(names)}"
                    )

    def decode(self, data: bytes | str | None, *, contract: str | None = None) -> DecodedRevert:
        """Decode ``data`` (bytes or 0x hex); ``contract`` names the callee, if known."""
        raw = _as_bytes(data)
        if not raw:
            return DecodedRevert(raw, "reverted without a reason")
        selector = raw[:4]
        if selector == ERROR_SELECTOR:
            decoded = _try_decode(["string"], raw[4:])
            if decoded is not None:
                reason = str(decoded[0])
                return DecodedRevert(
                    raw,
                    f"reverted: {reason}",
                    "Error",
                    None,
                    (RevertArg("reason", "string", reason),),
                )
        if selector == PANIC_SELECTOR:
            decoded = _try_decode(["uint256"], raw[4:])
            if decoded is not None:
                code = int(decoded[0])
                what = PANIC_CODES.get(code, "unknown panic code")
                return DecodedRevert(
                    raw, f"panic 0x{code:02x}: {what}", "Panic", None,
                    (RevertArg("code", "uint256", code),),
                )  # fmt: skip
        candidates = sorted(
            self._by_selector.get(selector, []), key=lambda k: k.contract != contract
        )
        for known in candidates:
            decoded = _try_decode(known.types, raw[4:])
            if decoded is not None:
                args = tuple(
                    RevertArg(str(i["name"]), typ, _normalize(typ, value))
                    for i, typ, value in zip(
                        known.entry.get("inputs", []), known.types, decoded, strict=True
                    )
                )
                return DecodedRevert(
                    raw, self._render(known, args), known.name, known.contract, args
                )
        return DecodedRevert(
            raw, f"reverted with unknown error 0x{selector.hex()} (data {_short_hex(raw)})"
        )

    def _render(self, known: _Known, args: tuple[RevertArg, ...]) -> str:
        template = self._templates.get(f"{known.contract}.{known.name}") or self._templates.get(
            known.name
        )
        if template is not None:
            try:
                text = _Formatter().vformat(template, (), {a.name: a.value for a in args})
                return f"{known.contract}: {text}"
            except (KeyError, IndexError, ValueError, TypeError, AttributeError):
                pass  # a template that does not fit these values: fall back to the generic form
        inner = ", ".join(f"{a.name}={_display(a.value, a.type)}" for a in args)
        return f"{known.contract}.{known.name}({inner})"


def revert_data_of(exc: BaseException) -> bytes | None:
    """The revert data carried by a web3.py exception (ContractLogicError, Web3RPCError), if any."""
    data: Any = getattr(exc, "data", None)
    if data is None:
        response = getattr(exc, "rpc_response", None)
        if isinstance(response, Mapping):
            error = response.get("error")
            if isinstance(error, Mapping):
                data = error.get("data")
    if isinstance(data, Mapping):  # some nodes nest it: {"data": "0x..."}
        data = data.get("data")
    if isinstance(data, bytes):
        return data
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return None


ROLE_NAMES: Mapping[bytes, str] = {
    bytes(32): "DEFAULT_ADMIN_ROLE",
    **{
        keccak(text=name): name
        for name in ("REFINERY_ROLE", "MINTER_ROLE", "PAUSER_ROLE", "UPGRADER_ROLE", "ADMIN_ROLE")
    },
}
"""Role ids a ``{x:role}`` field prints by name (OpenZeppelin's ``keccak256("NAME")``)."""


class _Formatter(string.Formatter):
    """``str.format`` plus ``wad``, ``wad UNIT``, ``gwei`` and ``role`` specs; plain fields
    print nicely."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if not format_spec:
            return _display(value)
        if format_spec == "role":
            return ROLE_NAMES.get(bytes(value), _display(value))
        kind, _, unit = format_spec.partition(" ")
        if kind in ("wad", "gwei"):
            decimals = 18 if kind == "wad" else 9
            amount = _fixed(int(value), decimals)
            suffix = unit or ("gwei" if kind == "gwei" else "")
            return f"{amount} {suffix}".rstrip()
        return str(super().format_field(value, format_spec))


def _fixed(amount: int, decimals: int) -> str:
    """``amount / 10**decimals`` exactly, with at least one decimal (``5.0``, ``0.125``)."""
    with exact_decimals():
        text = format(Decimal(amount).scaleb(-decimals).normalize(), "f")
    return text if "." in text else f"{text}.0"


def _try_decode(types: list[str], payload: bytes) -> tuple[Any, ...] | None:
    try:
        return tuple(abi_decode(types, payload, strict=False))
    except (DecodingError, OverflowError, ValueError, TypeError):
        return None


def _normalize(typ: str, value: Any) -> Any:
    """Checksum addresses (also inside arrays); leave everything else as eth-abi gives it."""
    if typ == "address":
        return to_checksum_address(value)
    if typ.startswith("address[") and isinstance(value, (list, tuple)):
        return tuple(to_checksum_address(v) for v in value)
    return value


def _display(value: Any, typ: str = "") -> str:
    """A value as the generic form shows it: hex bytes, quoted strings, full addresses."""
    if isinstance(value, bytes):
        return _short_hex(value)
    if typ == "string":
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_display(v) for v in value) + "]"
    return str(value)


def _short_hex(data: bytes, keep: int = 68) -> str:
    text = "0x" + data.hex()
    return text if len(text) <= keep + 2 else f"{text[: keep + 2]}…({len(data)} bytes)"


def _as_bytes(data: bytes | str | None) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    text = data.removeprefix("0x")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise UsageError(f"revert data is not hex: {data[:20]!r}") from None
