// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./harness/Test.sol";

import {WeightedMedian} from "../src/libraries/WeightedMedian.sol";
import {MedianReference} from "./utils/MedianReference.sol";

/// @dev Exposes the internal library over (score, weight) pairs.
contract WeightedMedianHarness {
    function lowerMedian(uint256[] memory scores, uint256[] memory weights, uint256 totalWeight)
        external
        pure
        returns (uint256)
    {
        uint256[] memory entries = new uint256[](scores.length);
        for (uint256 i; i < scores.length; ++i) {
            entries[i] = WeightedMedian.pack(scores[i], weights[i]);
        }
        return WeightedMedian.lowerMedian(entries, scores.length, totalWeight);
    }

    function lowerMedianOf(uint256[] memory entries, uint256 n, uint256 totalWeight) external pure returns (uint256) {
        return WeightedMedian.lowerMedian(entries, n, totalWeight);
    }
}

contract WeightedMedianTest is Test {
    WeightedMedianHarness internal harness;

    function setUp() public {
        harness = new WeightedMedianHarness();
    }

    function _median(uint256[] memory scores, uint256[] memory weights) internal view returns (uint256) {
        uint256 total;
        for (uint256 i; i < weights.length; ++i) {
            total += weights[i];
        }
        return harness.lowerMedian(scores, weights, total);
    }

    function _arr(uint256 a, uint256 b) internal pure returns (uint256[] memory r) {
        r = new uint256[](2);
        (r[0], r[1]) = (a, b);
    }

    function _arr(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory r) {
        r = new uint256[](3);
        (r[0], r[1], r[2]) = (a, b, c);
    }

    // ─── known vectors ────────────────────────────────────────────────────────

    function test_lowerMedian_singleEntryIsItsOwnMedian() public view {
        uint256[] memory s = new uint256[](1);
        uint256[] memory w = new uint256[](1);
        (s[0], w[0]) = (4_321, 7);
        assertEq(_median(s, w), 4_321);
    }

    function test_lowerMedian_evenSplitPicksLowerScore() public view {
        assertEq(_median(_arr(6_000, 3_000), _arr(2, 2)), 3_000);
        assertEq(_median(_arr(3_000, 6_000), _arr(5e18, 5e18)), 3_000);
    }

    function test_lowerMedian_cumulativeWeightExactlyHalfStopsThere() public view {
        // Weights 2,1,1 (total 4): the lowest score alone reaches half.
        assertEq(_median(_arr(30, 10, 20), _arr(1, 2, 1)), 10);
    }

    function test_lowerMedian_majorityStakeWins() public view {
        assertEq(_median(_arr(1_000, 9_000, 2_000), _arr(1, 3, 1)), 9_000);
        assertEq(_median(_arr(1_000, 9_000, 2_000), _arr(3, 1, 1)), 1_000);
        // 51% against 49%, in either order.
        assertEq(_median(_arr(10_000, 0), _arr(51, 49)), 10_000);
        assertEq(_median(_arr(0, 10_000), _arr(49, 51)), 10_000);
    }

    function test_lowerMedian_equalWeightsGiveMiddleScore() public view {
        assertEq(_median(_arr(7_000, 2_000, 9_000), _arr(1, 1, 1)), 7_000);
    }

    function test_lowerMedian_tiedScoresCountTogether() public view {
        // Two validators tie at 5,000 with 2/5 of the stake each: together they pass half.
        assertEq(_median(_arr(5_000, 9_000, 5_000), _arr(2, 1, 2)), 5_000);
        // All agree.
        assertEq(_median(_arr(42, 42, 42), _arr(1, 5, 9)), 42);
    }

    function test_lowerMedian_oddTotalWeightRoundsHalfUp() public view {
        // Total 3, half = 2: the first entry (weight 1) is not enough.
        assertEq(_median(_arr(100, 200), _arr(1, 2)), 200);
    }

    function test_lowerMedian_failsIfNoEntries() public {
        uint256[] memory entries = new uint256[](2);
        vm.expectRevert(abi.encodeWithSelector(WeightedMedian.WeightedMedianBadLength.selector, 0, 2));
        harness.lowerMedianOf(entries, 0, 1);
    }

    function test_lowerMedian_failsIfMoreEntriesThanArray() public {
        uint256[] memory entries = new uint256[](2);
        vm.expectRevert(abi.encodeWithSelector(WeightedMedian.WeightedMedianBadLength.selector, 3, 2));
        harness.lowerMedianOf(entries, 3, 1);
    }

    function test_lowerMedian_usesOnlyFirstNEntries() public view {
        uint256[] memory entries = new uint256[](3);
        entries[0] = WeightedMedian.pack(900, 1);
        entries[1] = WeightedMedian.pack(100, 1);
        entries[2] = WeightedMedian.pack(0, 100); // ignored: n = 2
        assertEq(harness.lowerMedianOf(entries, 2, 2), 100);
    }

    // ─── fuzz ─────────────────────────────────────────────────────────────────

    function _randomSet(uint256 n, uint256 seed) internal pure returns (uint256[] memory s, uint256[] memory w) {
        s = new uint256[](n);
        w = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            // Draw scores from a small range half the time so that ties are common.
            s[i] = seed % 2 == 0 ? r % 10_001 : (r % 4) * 2_500;
            w[i] = 1 + ((r >> 128) % (seed % 3 == 0 ? 4 : 1e24));
        }
    }

    function testFuzz_lowerMedian_matchesReferenceAndLiesWithinRange(uint256 n, uint256 seed) public view {
        n = bound(n, 1, 32);
        (uint256[] memory s, uint256[] memory w) = _randomSet(n, seed);
        uint256 median = _median(s, w);
        assertEq(median, MedianReference.lowerMedian(s, w));
        (uint256 lo, uint256 hi) = MedianReference.range(s);
        assertGe(median, lo);
        assertLe(median, hi);
    }

    function testFuzz_lowerMedian_majorityHolderDecides(uint256 n, uint256 seed, uint256 who, uint256 extra)
        public
        view
    {
        n = bound(n, 1, 32);
        who = bound(who, 0, n - 1);
        (uint256[] memory s, uint256[] memory w) = _randomSet(n, seed);
        uint256 others;
        for (uint256 i; i < n; ++i) {
            if (i != who) others += w[i];
        }
        // Strictly more than half of the total: more than everyone else together.
        w[who] = others + bound(extra, 1, 1e24);
        assertEq(_median(s, w), s[who]);
    }
}
