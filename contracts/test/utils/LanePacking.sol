// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title LanePacking
/// @notice The reveal encodings of IWorldGym, written independently of the contract. A lane is
/// `score << 7 | digest` (21 bits); the lane of batch `i` is bits `[4 + (11 - i % 12) * 21, +21)` of
/// word `i / 12`. An environment weight is `envId << 16 | weight` (48 bits); entry `k` is bits
/// `[16 + (4 - k % 5) * 48, +48)` of word `k / 5`.
library LanePacking {
    uint256 internal constant LANES = 12;
    uint256 internal constant ENTRIES = 5;
    uint256 internal constant FRAUD = 0x3FFF;

    /// @notice The lane of a verdict.
    function lane(uint256 score, uint256 digest) internal pure returns (uint256) {
        require(score <= FRAUD && digest < 128, "LanePacking: score or digest out of range");
        return (score << 7) | digest;
    }

    /// @notice Packs one lane per batch into ceil(n / 12) words.
    function pack(uint256[] memory lanes) internal pure returns (uint256[] memory words) {
        words = new uint256[]((lanes.length + LANES - 1) / LANES);
        for (uint256 i; i < lanes.length; ++i) {
            require(lanes[i] < 1 << 21, "LanePacking: lane over 21 bits");
            words[i / LANES] |= lanes[i] << (4 + (LANES - 1 - (i % LANES)) * 21);
        }
    }

    /// @notice The lane of batch `index` in packed words.
    function laneAt(uint256[] memory words, uint256 index) internal pure returns (uint256) {
        return (words[index / LANES] >> (4 + (LANES - 1 - (index % LANES)) * 21)) & 0x1FFFFF;
    }

    /// @notice Packs (envId, weight) pairs, ids increasing, five entries to a word.
    function packWeights(uint256[] memory envIds, uint256[] memory weights)
        internal
        pure
        returns (uint256[] memory words)
    {
        require(envIds.length == weights.length, "LanePacking: ids and weights differ in length");
        words = new uint256[]((envIds.length + ENTRIES - 1) / ENTRIES);
        for (uint256 k; k < envIds.length; ++k) {
            words[k / ENTRIES] |= ((envIds[k] << 16) | weights[k]) << (16 + (ENTRIES - 1 - (k % ENTRIES)) * 48);
        }
    }
}
