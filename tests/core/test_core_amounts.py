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

from worldgym.chain.revert import _fixed
from worldgym.core.amounts import WAD, format_wgt, wgt_cell
from worldgym.core.amounts import parse_wgt as _wei
from worldgym.deploy.params_file import _amount


@pytest.fixture(autouse=True)
def low_precision() -> Iterator[None]:
    saved = decimal.getcontext().copy()
    decimal.getcontext().prec = 6
    yield
    decimal.setcontext(saved)


def test_cli_amounts_are_exact() -> None:
    assert _wei("1500") == 1_500 * WAD
    assert _wei("123456789012.123456789012345678") == 123456789012123456789012345678
    assert decimal.getcontext().prec == 6  # the caller's context is left as it was


def test_params_amounts_are_exact() -> None:
    big = "98765432109876.000000000000000001 WGT"
    assert _amount(Path("p.toml"), "min_stake", big) == 98765432109876 * WAD + 1


def test_revert_messages_print_amounts_exactly() -> None:
    assert _fixed(123456789012123456789012345678, 18) == "123456789012.123456789012345678"
    assert _fixed(5 * WAD, 18) == "5.0"


@pytest.mark.parametrize(
    ("wei", "kwargs", "shown"),
    [
        (1_234_567 * WAD + 123_456_789 * 10**9, {}, "1,234,567.1234 WGT"),
        (999_999_999_999_999_999, {}, "0.9999 WGT"),  # cut, never rounded up to 1
        (10_000 * WAD, {}, "10,000 WGT"),
        (WAD // 4, {"places": None}, "0.25 WGT"),
        (WAD + 1, {"places": None}, "1.000000000000000001 WGT"),
        (WAD + 1, {}, "1 WGT"),
        (-(10**18), {"trim": False, "unit": None}, "-1.0000"),
        (-1, {}, "0 WGT"),  # no "-0"
        (0, {"trim": False, "unit": None}, "0.0000"),
        (5 * WAD, {"places": 0, "unit": "ETH"}, "5 ETH"),
        (2**255, {"places": None}, f"{2**255 // WAD:,}.{2**255 % WAD:018d} WGT"),
    ],
)
def test_amounts_print_exactly(wei: int, kwargs: dict[str, object], shown: str) -> None:
    assert format_wgt(wei, **kwargs) == shown  # type: ignore[arg-type]


def test_a_huge_amount_is_not_a_float() -> None:
    supply = 10**9 * WAD + 1  # 2**90: a float would lose the last wei
    assert format_wgt(supply, places=None) == "1,000,000,000.000000000000000001 WGT"
    with pytest.raises(ValueError, match="places"):
        format_wgt(1, places=19)


def test_a_table_cell_keeps_four_decimals_and_no_unit() -> None:
    assert [wgt_cell(x) for x in (50 * WAD, WAD // 3, 0)] == ["50.0000", "0.3333", "0.0000"]
