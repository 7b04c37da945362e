"""Checking what a user typed before anything is sent: addresses, token amounts, paths.

Every command parses its arguments with these before it signs or sends, so a
typo is one line that says what was expected, never a traceback and never a
transaction that reverts (or, worse, half of a multi-step action).
"""

from __future__ import annotations

import re
from pathlib import Path

from eth_typing import ChecksumAddress
from eth_utils import is_checksum_address, to_checksum_address

from worldgym.core.errors import UsageError

__all__ = ["parse_address", "parse_existing_path"]

_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def parse_address(text: str, what: str = "address") -> ChecksumAddress:
    """``text`` as a checksummed address.

    All-lowercase or all-uppercase hex is accepted as written; mixed case must be
    a valid EIP-55 checksum (a mistyped letter then shows up instead of sending
    to an address nobody holds the key of).
    """
    value = text.strip()
    if not _HEX_ADDRESS.fullmatch(value):
        shown = value if len(value) <= 50 else value[:47] + "..."
        raise UsageError(
            f"{what} {shown!r} is not an address: expected 0x followed by 40 hex digits"
        )
    digits = value[2:]
    mixed = digits != digits.lower() and digits != digits.upper()
    if mixed and not is_checksum_address(value):
        raise UsageError(
            f"{what} {value} has a wrong EIP-55 checksum (a letter's case is off): "
            f"check it, or write it in lowercase; the checksummed form of these digits is "
            f"{to_checksum_address(value)}"
        )
    return to_checksum_address(value)


def parse_existing_path(path: Path, what: str, *, directory: bool | None = None) -> Path:
    """``path`` if it exists (and is a directory / a file when ``directory`` says so)."""
    expanded = path.expanduser()
    if not expanded.exists():
        raise UsageError(f"{what} {path} does not exist")
    if directory is True and not expanded.is_dir():
        raise UsageError(f"{what} {path} is not a directory")
    if directory is False and not expanded.is_file():
        raise UsageError(f"{what} {path} is not a file")
    return expanded
