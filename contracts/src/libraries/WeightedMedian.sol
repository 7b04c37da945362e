// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title WeightedMedian
/// @notice The lower stake-weighted median of a small set of scores.
/// @dev Entries are packed as `score << 128 | weight` so that a plain sort of
/// the words orders them by score. Insertion sort: the set is bounded by the
/// protocol's validator cap, honest validators mostly agree (nearly sorted
/// input is linear), and for such small sets it beats any other sort in gas.
library WeightedMedian {
    /// @notice Thrown when asked for the median of `n` entries of an array of `length`.
    /// @param n The entries to use.
    /// @param length The array's length.
    error WeightedMedianBadLength(uint256 n, uint256 length);

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
    /// @param n The number of entries; at least 1 and at most `entries.length`.
    /// @param totalWeight The sum of the entries' weights; at least 1.
    /// @return median The weighted median score.
    function lowerMedian(uint256[] memory entries, uint256 n, uint256 totalWeight)
        internal
        pure
        returns (uint256 median)
    {
        if (n == 0 || n > entries.length) revert WeightedMedianBadLength(n, entries.length);
        // Insertion sort without bounds checks: every index used is below n <= entries.length.
        assembly ("memory-safe") {
            let data := add(entries, 0x20)
            for { let i := 1 } lt(i, n) { i := add(i, 1) } {
                let key := mload(add(data, shl(5, i)))
                let j := i
                for {} gt(j, 0) {} {
                    let prev := mload(add(data, shl(5, sub(j, 1))))
                    if iszero(gt(prev, key)) { break }
                    mstore(add(data, shl(5, j)), prev)
                    j := sub(j, 1)
                }
                mstore(add(data, shl(5, j)), key)
            }
        }
        uint256 half = (totalWeight + 1) / 2;
        uint256 cumulative;
        for (uint256 i; i < n; ++i) {
            uint256 entry = entries[i];
            // forge-lint: disable-next-line(unsafe-typecast)
            cumulative += uint128(entry); // intended truncation: the low 128 bits are the weight
            if (cumulative >= half) return entry >> 128;
        }
        return entries[n - 1] >> 128; // reached only if totalWeight exceeds the true sum
    }
}
