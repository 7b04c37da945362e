// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IWorldGym} from "../interfaces/IWorldGym.sol";

/// @title RevealCodec
/// @notice The two packed encodings of a reveal (see {IWorldGym}): 21-bit lanes `score << 7 | digest`,
/// twelve to a word from the top with the low 4 bits zero, and 48-bit environment weights
/// `envId << 16 | weight`, five to a word from the top with the low 16 bits zero.
library RevealCodec {
    uint256 internal constant SCORE_SCALE = 10_000;
    uint256 internal constant FRAUD = 0x3FFF;
    uint256 internal constant DIGEST_BITS = 7;
    uint256 internal constant DIGEST_MASK = 0x7F;
    uint256 internal constant LANE_BITS = 21;
    uint256 internal constant LANE_MASK = 0x1FFFFF;
    uint256 internal constant LANES_PER_WORD = 12;
    /// @dev Bits below lane 11 of a word: 256 - 12 * 21.
    uint256 internal constant LANE_PAD_BITS = 4;

    uint256 internal constant ENTRY_BITS = 48;
    uint256 internal constant ENTRY_MASK = 0xFFFFFFFFFFFF;
    uint256 internal constant ENTRIES_PER_WORD = 5;
    /// @dev Bits below entry 4 of a word: 256 - 5 * 48.
    uint256 internal constant ENTRY_PAD_BITS = 16;
    uint256 internal constant MAX_ENV_WEIGHT_WORDS = 12;
    uint256 internal constant MAX_ENV_WEIGHTS = MAX_ENV_WEIGHT_WORDS * ENTRIES_PER_WORD;

    /// @notice The number of words `batchCount` lanes take.
    function laneWords(uint256 batchCount) internal pure returns (uint256) {
        unchecked {
            return (batchCount + LANES_PER_WORD - 1) / LANES_PER_WORD; // batchCount < 2**32
        }
    }

    /// @notice The bit offset of the lane of batch `index` within its word.
    function laneShift(uint256 index) internal pure returns (uint256) {
        unchecked {
            return LANE_PAD_BITS + (LANES_PER_WORD - 1 - (index % LANES_PER_WORD)) * LANE_BITS; // < 256
        }
    }

    /// @notice The lane of batch `index` in `word` (the word that holds it, `index / 12`).
    function lane(uint256 word, uint256 index) internal pure returns (uint256) {
        return (word >> laneShift(index)) & LANE_MASK;
    }

    /// @notice Reverts unless every lane of the `batchCount` batches has a score in [0, SCORE_SCALE] or
    /// FRAUD, and every other bit (the low 4 bits of each word, lanes past the last batch) is zero.
    /// The caller checks that there are exactly `laneWords(batchCount)` words.
    function checkLanes(uint256[] calldata words, uint256 batchCount) internal pure {
        uint256 n = words.length;
        for (uint256 w; w < n; ++w) {
            uint256 word = words[w];
            // lanes of real batches in this word: w * 12 < batchCount because n = laneWords(batchCount)
            uint256 used = batchCount - w * LANES_PER_WORD;
            if (used > LANES_PER_WORD) used = LANES_PER_WORD;
            uint256 pad;
            // used in [1, 12], so the padding spans 4..235 bits and the shifts stay below 256
            unchecked {
                // forge-lint: disable-next-line(incorrect-shift) the mask of the low padding bits
                pad = word & ((1 << (LANE_PAD_BITS + (LANES_PER_WORD - used) * LANE_BITS)) - 1);
            }
            if (pad != 0) revert IWorldGym.WorldGymNonZeroPadding(w, pad);
            // A score is the top 14 bits of a lane: bits [shift + 7, shift + 21).
            unchecked {
                uint256 shift = 256 - LANE_BITS + DIGEST_BITS; // lane 0's score
                for (uint256 k; k < used; ++k) {
                    uint256 score = (word >> shift) & FRAUD;
                    if (score > SCORE_SCALE && score != FRAUD) {
                        uint256 digest = (word >> (shift - DIGEST_BITS)) & DIGEST_MASK;
                        revert IWorldGym.WorldGymInvalidLane(w * LANES_PER_WORD + k, score, digest);
                    }
                    shift -= LANE_BITS; // 11 steps at most from 242: never below 11
                }
            }
        }
    }

    /// @notice The entry in slot `slot` (0..4) of an environment-weights word.
    function entry(uint256 word, uint256 slot) internal pure returns (uint256) {
        unchecked {
            return (word >> (ENTRY_PAD_BITS + (ENTRIES_PER_WORD - 1 - slot) * ENTRY_BITS)) & ENTRY_MASK; // slot < 5
        }
    }

    /// @notice Reverts unless `words` are well-formed environment weights (see {IWorldGym}).
    function checkEnvWeights(uint256[] calldata words) internal pure {
        uint256 n = words.length;
        if (n > MAX_ENV_WEIGHT_WORDS) revert IWorldGym.WorldGymTooManyEnvWeights(n, MAX_ENV_WEIGHT_WORDS);
        uint256 previous;
        bool ended;
        for (uint256 w; w < n; ++w) {
            uint256 word = words[w];
            if (word & 0xFFFF != 0) {
                revert IWorldGym.WorldGymInvalidEnvWeight(
                    w * ENTRIES_PER_WORD, entry(word, 0) >> 16, word & 0xFFFF, previous
                );
            }
            for (uint256 k; k < ENTRIES_PER_WORD; ++k) {
                uint256 e = entry(word, k);
                uint256 envId = e >> 16;
                uint256 weight = e & 0xFFFF;
                bool bad;
                if (ended || e == 0) {
                    // After the end only zero entries, only in the last word, and no empty word.
                    bad = e != 0 || w + 1 != n || k == 0;
                    ended = true;
                } else {
                    bad = envId <= previous || weight > SCORE_SCALE;
                }
                if (bad) revert IWorldGym.WorldGymInvalidEnvWeight(w * ENTRIES_PER_WORD + k, envId, weight, previous);
                if (!ended) previous = envId;
            }
        }
    }
}
