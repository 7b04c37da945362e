// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title WeightedMedian
/// @notice The lower stake-weighted median of a small set of scores.
/// @dev Entries are packed as `score << 128 | weight` so that a plain sort of
/// the words orders them by score. Insertion sort: the set is bounded by the
/// protocol's validator cap, and for the small sets involved it is cheaper in
/// gas than any asymptotically better sort.
library WeightedMedian {
    /// @notice Packs a (score, weight) pair; `weight` must fit in 128 bits.
    /// @param score The score (16 bits in practice).
    /// @param weight The weight.
    /// @return The packed entry.
    function pack(uint256 score, uint256 weight) internal pure returns (uint256) {
        return (score << 128) | weight;
    }

    /// @notice The smallest score whose cumulative weight reaches half the total weight.
    /// @dev Sorts `entries[0:n]` in place. With total weight W, returns the first score s (in
    /// ascending order) such that the weight of entries with score <= s is at least ceil(W / 2).
    /// The result always lies between the minimum and maximum score present.
    /// @param entries Packed entries (see `pack`); only the first `n` are used.
    /// @param n The number of entries; must be at least 1.
    /// @param totalWeight The sum of the entries' weights; must be at least 1.
    /// @return The weighted median score.
    function lowerMedian(uint256[] memory entries, uint256 n, uint256 totalWeight) internal pure returns (uint256) {
        for (uint256 i = 1; i < n; ++i) {
            uint256 key = entries[i];
            uint256 j = i;
            while (j > 0 && entries[j - 1] > key) {
                entries[j] = entries[j - 1];
                unchecked {
                    --j; // j > 0 is checked by the loop condition
                }
            }
            entries[j] = key;
        }
        uint256 half = (totalWeight + 1) / 2;
        uint256 cumulative;
        for (uint256 i; i < n; ++i) {
            uint256 entry = entries[i];
            // forge-lint: disable-next-line(unsafe-typecast)
            cumulative += uint128(entry); // intended truncation: the low 128 bits are the weight
            if (cumulative >= half) return entry >> 128;
        }
        return entries[n - 1] >> 128; // unreachable when totalWeight is the true sum
    }
}
