"""Token amounts stay exact whatever the thread's decimal context was left at.

reasoning-gym's ``decimal_arithmetic`` sets ``getcontext().prec`` (to 6 here);
a validator that scored such a task used to fail ``worldgym stake 1500`` with
InvalidOperation and would have rounded large amounts.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.inputs import parse_wgt as _wei
from client.revert import _fixed
from deploy.params_file import _amount

_WAD = 10**18


@pytest.fixture(autouse=True)
def low_precision() -> Iterator[None]:
    saved = decimal.getcontext().copy()
    decimal.getcontext().prec = 6
    yield
    decimal.setcontext(saved)


def test_cli_amounts_are_exact() -> None:
    assert _wei("1500") == 1_500 * _WAD
    assert _wei("123456789012.123456789012345678") == 123456789012123456789012345678
    assert decimal.getcontext().prec == 6  # the caller's context is left as it was


def test_params_amounts_are_exact() -> None:
    big = "98765432109876.000000000000000001 WGT"
    assert _amount(Path("p.toml"), "min_stake", big) == 98765432109876 * _WAD + 1


def test_revert_messages_print_amounts_exactly() -> None:
    assert _fixed(123456789012123456789012345678, 18) == "123456789012.123456789012345678"
    assert _fixed(5 * _WAD, 18) == "5.0"
