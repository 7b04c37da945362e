"""Protocol parameters for a deployment: a preset, overridden by a TOML or JSON file.

A file holds any of :class:`~worldgym.chain.manifest.ProtocolParams`' fields at the top
level, plus optionally ``preset = "devnet" | "public"`` (the base the file
overrides). Token amounts are integers of wei or strings in whole tokens::

    preset = "public"
    epoch_length = 1800          # blocks: one hour at 2 s
    min_stake = "10000 WGT"      # = 10000 * 10**18 wei
    max_traces_per_batch = 256

Every mistake is one :class:`~worldgym.deploy.errors.ParamsFileError` naming the file,
the key and what is allowed (a misspelt key gets a suggestion).
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from worldgym.chain.manifest import ProtocolParams
from worldgym.core.amounts import WAD, exact_decimals, format_wgt
from worldgym.deploy.errors import ParamsFileError

__all__ = [
    "AMOUNT_FIELDS",
    "PRESETS",
    "load_params",
    "params_summary",
    "preset_params",
]

_MAX_FILE_BYTES = 64 * 1024
PRESETS: Final[Mapping[str, Callable[[], ProtocolParams]]] = {
    "devnet": ProtocolParams,
    "public": ProtocolParams.public,
}
# Fields that are token amounts (18 decimals): "<number> WGT" is accepted for them.
AMOUNT_FIELDS: Final = (
    "cap", "genesis_supply", "initial_epoch_emission", "registration_bond", "min_stake",
    "miner_stake",
)  # fmt: skip
_AMOUNT = re.compile(r"\s*([0-9][0-9_]*(?:\.[0-9_]+)?)\s*(WGT|wei)?\s*", re.IGNORECASE)


def preset_params(name: str) -> ProtocolParams:
    """The parameters of preset ``name`` (``devnet`` or ``public``)."""
    try:
        return PRESETS[name]()
    except KeyError:
        raise ParamsFileError(f"unknown preset {name!r}: use one of {', '.join(PRESETS)}") from None


def load_params(path: Path | None = None, *, preset: str | None = None) -> ProtocolParams:
    """The preset (``preset``, else the file's ``preset`` key, else ``public``) with the file's
    values on top; the result is validated as a whole (split sums to 10000, windows fit)."""
    if path is None:
        return preset_params(preset or "public")
    doc = _read(path)
    file_preset = doc.pop("preset", None)
    if file_preset is not None and not isinstance(file_preset, str):
        raise ParamsFileError(f"params file {path}: preset must be one of {', '.join(PRESETS)}")
    if preset is not None and file_preset is not None and preset != file_preset:
        raise ParamsFileError(
            f"--preset {preset} disagrees with preset = {file_preset!r} in {path}: drop one"
        )
    base = preset_params(preset or file_preset or "public")
    values = {**base.model_dump(), **{k: _amount(path, k, v) for k, v in doc.items()}}
    try:
        return ProtocolParams.model_validate(values)
    except ValidationError as exc:
        raise ParamsFileError(_explain(path, exc)) from None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.expanduser().open("rb") as file:
            raw = file.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ParamsFileError(f"cannot read params file {path}: {exc.strerror or exc}") from None
    if len(raw) > _MAX_FILE_BYTES:
        raise ParamsFileError(f"params file {path} is over {_MAX_FILE_BYTES // 1024} KiB")
    as_json = path.suffix.lower() == ".json"
    try:
        text = raw.decode("utf-8")
        doc: Any = json.loads(text) if as_json else tomllib.loads(text)
    except UnicodeDecodeError:
        raise ParamsFileError(f"params file {path} is not UTF-8 text") from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if as_json else "TOML (name it .json for JSON)"
        raise ParamsFileError(f"params file {path} is not valid {kind}: {exc}") from None
    if not isinstance(doc, dict):
        raise ParamsFileError(f"params file {path} must hold one object of parameters")
    return doc


def _amount(path: Path, key: str, value: Any) -> Any:
    """A token amount written as ``"1000 WGT"``, ``"1_000 wei"`` or an integer, in wei."""
    if key not in AMOUNT_FIELDS:
        return value
    if isinstance(value, bool | float):
        raise ParamsFileError(
            f"params file {path}: {key} = {value!r}: write an integer of wei or a string "
            f'such as "1000 WGT" (floats lose precision)'
        )
    if not isinstance(value, str):
        return value
    match = _AMOUNT.fullmatch(value)
    with exact_decimals():
        try:
            number = Decimal(match.group(1).replace("_", "")) if match else None
        except InvalidOperation:
            number = None
        if match is None or number is None:
            raise ParamsFileError(
                f'params file {path}: {key} = {value!r} is not an amount: write e.g. "1000 WGT" '
                "or an integer of wei"
            )
        unit = (match.group(2) or "wei").lower()
        wei = number * WAD if unit == "wgt" else number
        if wei != wei.to_integral_value():
            raise ParamsFileError(
                f"params file {path}: {key} = {value!r} is not a whole number of wei"
            )
        return int(wei)


def _explain(path: Path, exc: ValidationError) -> str:
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    error = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:  # a check across fields
        return f"params file {path}: {message}{more}"
    key = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(key, ProtocolParams.model_fields, n=1)
        fix = f"did you mean {close[0]!r}?" if close else "remove it or fix its spelling"
        known = ", ".join(["preset", *ProtocolParams.model_fields])
        return f"params file {path}: unknown key {key!r}{more}; {fix} (known keys: {known})"
    field = ProtocolParams.model_fields.get(key)
    what = f" ({field.description})" if field is not None and field.description else ""
    return f"params file {path}: {key}{what}: {message} (got {error.get('input')!r}){more}"


def _wgt(wei: int) -> str:
    return format_wgt(wei, places=None)  # every decimal a parameter has


def params_summary(params: ProtocolParams, *, block_time_s: float | None = None) -> list[str]:
    """The parameters a person checks before deploying, one line each."""

    def blocks(n: int) -> str:
        if block_time_s is None:
            return f"{n:,} blocks"
        return f"{n:,} blocks (~{_duration(n * block_time_s)} at {block_time_s:g} s)"

    epoch_s = params.epoch_length * block_time_s if block_time_s is not None else None
    unbond = f" (~{_duration(params.unbonding_epochs * epoch_s)})" if epoch_s else ""
    return [
        f"epoch {blocks(params.epoch_length)}: commit {params.commit_blocks:,} + "
        f"reveal {params.reveal_blocks:,} blocks of the next epoch",
        f"split miners {params.miner_bps / 100:g}% / validators {params.validator_bps / 100:g}% / "
        f"environment owners {params.environment_bps / 100:g}%, slash {params.slash_bps / 100:g}%",
        f"emission {_wgt(params.initial_epoch_emission)} per epoch, halving every "
        f"{params.halving_interval:,} epochs; genesis {_wgt(params.genesis_supply)}, "
        f"cap {_wgt(params.cap)}",
        f"min stake {_wgt(params.min_stake)}, unbonding {params.unbonding_epochs} epochs{unbond}",
        f"miner bond {_wgt(params.miner_stake)}, {params.miner_slash_bps / 100:g}% slashed "
        f"per FRAUD batch; batches use the latest model or the {params.max_model_lag} before it",
        f"environment bond {_wgt(params.registration_bond)}, released "
        f"{blocks(params.bond_release_delay)} after deactivation",
        f"caps: {params.max_batches_per_epoch} batches/epoch, {params.max_batches_per_miner} "
        f"per miner, {params.max_traces_per_batch} traces/batch, "
        f"{params.max_validators_per_epoch} validators/epoch",
    ]


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"
