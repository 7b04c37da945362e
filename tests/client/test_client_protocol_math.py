"""worldgym.chain.protocol_math on its own: the reveal encodings bit for bit, the median, and the
hand-computed epochs of the forge suites (``contracts/test/WorldGym.finalize.t.sol`` and
``WorldGym.rewards.t.sol``) reproduced to the wei. The contract comparison is in
``tests/contracts``."""

from __future__ import annotations

from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worldgym.chain.protocol_math import (
    FRAUD,
    MAX_ENV_WEIGHTS,
    BatchInput,
    Credit,
    ValidatorReveal,
    default_env_weights,
    lane_digest,
    lane_score,
    make_lane,
    pack_env_weights,
    pack_lanes,
    predict_epoch,
    slash,
    unpack_env_weights,
    unpack_lanes,
    weighted_median,
)
from worldgym.core.amounts import WAD

lanes_st = st.builds(
    make_lane, st.one_of(st.integers(0, 10_000), st.just(FRAUD)), st.integers(0, 127)
)


def test_lanes_sit_where_the_contract_reads_them() -> None:
    lanes = [make_lane(10_000, 127), make_lane(FRAUD, 0)] + [make_lane(i, i) for i in range(11)]
    words = pack_lanes(lanes)
    assert len(words) == 2
    assert words[0] >> (256 - 21) == lanes[0], "lane 0 in the top bits"
    assert (words[0] >> (4 + 10 * 21)) & 0x1FFFFF == lanes[1]
    assert words[0] & 0xF == 0, "the low 4 bits are zero"
    assert words[1] & 0xF == 0
    assert words[1] >> (256 - 21) == lanes[12]
    assert words[1] & ((1 << (4 + 11 * 21)) - 1) == 0, "lanes past the last batch are zero"
    assert (lane_score(lanes[1]), lane_digest(lanes[1])) == (FRAUD, 0)


@given(st.lists(lanes_st, max_size=40))
def test_unpack_inverts_pack(lanes: list[int]) -> None:
    words = pack_lanes(lanes)
    assert len(words) == (len(lanes) + 11) // 12
    assert unpack_lanes(words, len(lanes)) == lanes


@pytest.mark.parametrize(("score", "digest"), [(10_001, 0), (FRAUD - 1, 0), (-1, 0), (5, 128)])
def test_a_lane_outside_the_encoding_is_refused(score: int, digest: int) -> None:
    with pytest.raises(ValueError, match=r"outside|neither"):
        make_lane(score, digest)


def test_env_weights_sit_where_the_contract_reads_them() -> None:
    words = pack_env_weights({7: 9_000, 2: 10_000, 3: 0, 11: 1, 12: 2, 40: 5})
    assert len(words) == 2
    assert words[0] >> (256 - 48) == 2 << 16 | 10_000, "sorted by id, entry 0 on top"
    assert (words[0] >> 16) & 0xFFFFFFFFFFFF == 12 << 16 | 2, "entry 4 above the low 16 bits"
    assert words[0] & 0xFFFF == 0
    assert words[1] == (40 << 16 | 5) << (16 + 4 * 48)
    assert unpack_env_weights(words) == {2: 10_000, 3: 0, 7: 9_000, 11: 1, 12: 2, 40: 5}
    assert default_env_weights([3, 1, 3]) == {1: 10_000, 3: 10_000}
    assert pack_env_weights({}) == []


@given(st.dictionaries(st.integers(1, 2**32 - 1), st.integers(0, 10_000), max_size=60))
def test_env_weights_round_trip(weights: dict[int, int]) -> None:
    words = pack_env_weights(weights)
    assert len(words) == (len(weights) + 4) // 5
    assert unpack_env_weights(words) == weights


def test_env_weights_outside_the_encoding_are_refused() -> None:
    with pytest.raises(ValueError, match="environment id 0"):
        pack_env_weights({0: 1})
    with pytest.raises(ValueError, match="weight 10001"):
        pack_env_weights({1: 10_001})
    with pytest.raises(ValueError, match="at most 60"):
        pack_env_weights(dict.fromkeys(range(1, MAX_ENV_WEIGHTS + 2), 1))


@given(st.lists(st.tuples(st.integers(0, 2**21), st.integers(1, 10**24)), min_size=1, max_size=9))
def test_the_median_is_the_smallest_value_with_half_the_weight_below(
    pairs: list[tuple[int, int]],
) -> None:
    values, weights = zip(*pairs, strict=True)
    median = weighted_median(values, weights)
    below = sum(w for v, w in pairs if v <= median)
    assert 2 * below >= sum(weights)
    assert all(2 * sum(w for v, w in pairs if v <= x) < sum(weights) for x in values if x < median)


def test_slash_takes_the_fraction_of_each_part_rounded_down() -> None:
    assert slash(1_000, 333, 5_000) == (500 + 166, 500, 167)


def _reference_batches() -> list[BatchInput]:
    return [
        BatchInput("m1", 1, "owner", 10),
        BatchInput("m2", 1, "owner", 20),
        BatchInput("m1", 1, "owner", 5),
    ]


# The split of the forge suites' devnet parameters.
_predict = partial(predict_epoch, miner_bps=6_000, validator_bps=2_500, environment_bps=1_500)


def test_the_forge_reference_epoch_to_the_wei() -> None:
    full = {1: 10_000}
    v1 = [make_lane(8_000, 5), make_lane(5_000, 9), make_lane(10_000, 1)]
    v2 = [make_lane(8_000, 5), make_lane(6_000, 9), make_lane(9_000, 1)]
    out = _predict(
        batches=_reference_batches(),
        validators=[
            ValidatorReveal("v1", 3_000 * WAD, v1, full),
            ValidatorReveal("v2", 1_000 * WAD, v2, full),
        ],
        emission=1_000 * WAD,
    )
    assert out.consensus == v1
    assert out.agreement == {"v1": 230_000, "v2": 80_000}
    assert (out.total_env_weight, out.env_batch_weights) == (10_000, {1: 230_000})
    assert out.credits == {
        "m1": 208_695_652_173_913_043_478 + 130_434_782_608_695_652_173,
        "m2": 260_869_565_217_391_304_347,
        "owner": 149_999_999_999_999_999_998,
        "v1": 224_025_974_025_974_025_974,
        "v2": 25_974_025_974_025_974_025,
    }
    assert out.carry_out == 5
    assert out.rewards[:2] == [
        Credit("m1", 0, 0, 208_695_652_173_913_043_478),
        Credit("owner", 2, 1, 52_173_913_043_478_260_869),
    ]


def test_the_forge_fraud_epoch_to_the_wei() -> None:
    full = {1: 10_000}
    v1 = [make_lane(8_000, 5), make_lane(FRAUD, 0), make_lane(10_000, 1)]
    v2 = [make_lane(8_000, 5), make_lane(FRAUD, 0), make_lane(9_000, 1)]
    out = _predict(
        batches=_reference_batches(),
        validators=[
            ValidatorReveal("v1", 3_000 * WAD, v1, full),
            ValidatorReveal("v2", 1_000 * WAD, v2, full),
        ],
        emission=1_000 * WAD,
        miner_slash_bps=5_000,
        stakes={"m2": (100 * WAD, 0)},
    )
    assert out.scores == [8_000, FRAUD, 10_000]
    assert out.miner_slashes == {1: 50 * WAD}
    assert (out.minted, out.carried_in) == (1_000 * WAD, 50 * WAD)
    assert (out.miner_pot, out.validator_pot, out.environment_pot) == (
        630 * WAD,
        262_500_000_000_000_000_000,
        157_500_000_000_000_000_000,
    )
    assert "m2" not in out.credits
    assert out.credits["v1"] == 204_625_984_251_968_503_937
    assert out.credits["v2"] == 57_874_015_748_031_496_062
    assert out.carry_out == 3


def test_a_non_revealer_is_slashed_after_paying_and_carried() -> None:
    lanes = [make_lane(8_000, 5)]
    out = _predict(
        batches=[BatchInput("m", 1, "o", 4)],
        validators=[
            ValidatorReveal("v", 1_000, lanes, {1: 10_000}),
            ValidatorReveal("lazy", 2_000, None),
        ],
        emission=10_000,
        slash_bps=1_000,
    )
    assert out.validator_slashes == {"lazy": 200}
    assert out.carried_in == 0
    assert out.carry_out == 200 + 10_000 - sum(out.credits.values())


def test_an_epoch_without_weight_mints_nothing_and_keeps_the_carry() -> None:
    out = _predict(
        batches=[BatchInput("m", 1, "o", 4)],
        validators=[ValidatorReveal("v", 1_000, [make_lane(0, 1)], {1: 10_000})],
        emission=10_000,
        carry_in=7,
    )
    assert (out.minted, out.credits, out.carry_out) == (0, {}, 7)
