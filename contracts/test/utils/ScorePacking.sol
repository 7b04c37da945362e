// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title ScorePacking
/// @notice The reveal encoding of IWorldGym, written independently of the contract: the score of
/// batch `i` is bits `[(15 - i % 16) * 16, +16)` of word `i / 16` (big-endian lanes), and lanes
/// past the last batch are zero.
library ScorePacking {
    uint256 internal constant LANES = 16;

    /// @notice Packs one score per batch into ceil(n / 16) words. Scores must fit in 16 bits.
    function pack(uint256[] memory scores) internal pure returns (uint256[] memory words) {
        words = new uint256[]((scores.length + LANES - 1) / LANES);
        for (uint256 i; i < scores.length; ++i) {
            require(scores[i] <= 0xffff, "ScorePacking: score over 16 bits");
            words[i / LANES] |= scores[i] << ((LANES - 1 - (i % LANES)) * 16);
        }
    }

    /// @notice The score of batch `index` in packed words.
    function lane(uint256[] memory words, uint256 index) internal pure returns (uint256) {
        return (words[index / LANES] >> ((LANES - 1 - (index % LANES)) * 16)) & 0xffff;
    }
}
