// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title MedianReference
/// @notice A deliberately naive stake-weighted lower median to check the protocol against:
/// the smallest score s such that twice the weight of all scores <= s reaches the total weight.
library MedianReference {
    function lowerMedian(uint256[] memory scores, uint256[] memory weights) internal pure returns (uint256 best) {
        uint256 total;
        for (uint256 i; i < weights.length; ++i) {
            total += weights[i];
        }
        best = type(uint256).max;
        for (uint256 i; i < scores.length; ++i) {
            uint256 below;
            for (uint256 j; j < scores.length; ++j) {
                if (scores[j] <= scores[i]) below += weights[j];
            }
            if (below * 2 >= total && scores[i] < best) best = scores[i];
        }
    }

    /// @notice The smallest and largest of `values`.
    function range(uint256[] memory values) internal pure returns (uint256 lo, uint256 hi) {
        lo = type(uint256).max;
        for (uint256 i; i < values.length; ++i) {
            if (values[i] < lo) lo = values[i];
            if (values[i] > hi) hi = values[i];
        }
    }
}
