// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {WorldGymBase} from "./WorldGymBase.sol";
import {RevealCodec} from "./libraries/RevealCodec.sol";
import {WeightedMedian} from "./libraries/WeightedMedian.sol";

/// @title EpochFinalization
/// @notice The stages of `finalize`: score batches (stake-weighted median lanes, environment weights,
/// validators' exact-match credits, miner slashes for FRAUD), settle (mint and split into pots), pay
/// batches (miners and environment owners by environment weight and batch weight), pay validators (by
/// stake x credit; slash committers that never revealed). Each stage advances a cursor in caller-sized
/// chunks, so no transaction loops over more than it was asked to.
abstract contract EpochFinalization is WorldGymBase {
    /// @dev The revealers of an epoch and the scratch space one scoring call works in.
    struct Revealers {
        address[] accounts;
        uint256[] stakes;
        uint256[] envWords;
        uint256 count;
        uint256 totalStake;
    }

    // ─── stage 1: scoring ─────────────────────────────────────────────────────

    /// @dev Stage Scoring: consensus of batches [cursor, cursor + steps). Per-validator credits are
    /// accumulated in memory and written once per call; miners of FRAUD batches are slashed last.
    function _scoreBatches(uint256 epoch, EpochData storage ep, uint256 steps) internal returns (uint256) {
        uint256 n = ep.batchCount;
        uint256 cursor = ep.cursor;
        if (ep.revealCount == 0 || cursor >= n) {
            ep.stage = Stage.Settling;
            ep.cursor = 0;
            return steps;
        }
        uint256 end = cursor + Math.min(steps, n - cursor); // cursor <= n here; no overflow for any steps

        Revealers memory r = _revealed(epoch);
        uint256[] memory words = new uint256[](r.count);
        uint256[] memory lanes = new uint256[](r.count);
        uint256[] memory credit = new uint256[](r.count);
        uint256[] memory entries = new uint256[](r.count);
        uint256[] memory frauds = new uint256[](end - cursor);
        uint256 fraudCount;
        uint256 consensusWord =
            cursor % RevealCodec.LANES_PER_WORD == 0 ? 0 : _consensus[epoch][cursor / RevealCodec.LANES_PER_WORD];
        uint256 totalEnvWeight = ep.totalEnvWeight;
        mapping(uint256 => Batch) storage batches = _batches[epoch];

        for (uint256 b = cursor; b < end; ++b) {
            uint256 shift = RevealCodec.laneShift(b);
            if (b == cursor || b % RevealCodec.LANES_PER_WORD == 0) {
                for (uint256 i; i < r.count; ++i) {
                    words[i] = _lanes[epoch][r.accounts[i]][b / RevealCodec.LANES_PER_WORD];
                }
            }
            for (uint256 i; i < r.count; ++i) {
                uint256 lane = (words[i] >> shift) & RevealCodec.LANE_MASK;
                lanes[i] = lane;
                entries[i] = WeightedMedian.pack(lane, r.stakes[i]);
            }
            uint256 consensus = WeightedMedian.lowerMedian(entries, r.count, r.totalStake);
            Batch memory bt = batches[b];
            uint256 score = consensus >> RevealCodec.DIGEST_BITS;
            uint256 weight;
            uint256 earned;
            // score <= SCORE_SCALE unless FRAUD (checked at reveal) and traceCount < 2**32, so a batch's
            // weight stays below 2**46 and a validator's credit, summed over < 2**32 batches, below 2**78.
            unchecked {
                if (score == RevealCodec.FRAUD) {
                    earned = uint256(bt.traceCount) * RevealCodec.SCORE_SCALE;
                    frauds[fraudCount++] = b;
                } else {
                    weight = score * bt.traceCount;
                    earned = weight;
                }
                if (earned > 0) {
                    for (uint256 i; i < r.count; ++i) {
                        if (lanes[i] == consensus) credit[i] += earned;
                    }
                }
            }
            EnvTally storage tally = _envTallies[epoch][bt.envId];
            if (!tally.weighed) _weighEnvironment(epoch, bt.envId, tally, r, entries);
            if (weight > 0) {
                // An environment counts towards the total once it has weight to share.
                if (tally.batchWeight == 0) totalEnvWeight += tally.weight;
                tally.batchWeight += SafeCast.toUint224(weight);
            }
            consensusWord |= consensus << shift;
            if (b % RevealCodec.LANES_PER_WORD == RevealCodec.LANES_PER_WORD - 1 || b + 1 == end) {
                _consensus[epoch][b / RevealCodec.LANES_PER_WORD] = consensusWord;
                consensusWord = 0;
            }
            emit BatchScored(epoch, b, score, consensus & RevealCodec.DIGEST_MASK, weight);
        }

        uint256 validatorWeight = ep.totalValidatorWeight;
        for (uint256 i; i < r.count; ++i) {
            Commitment storage rec = _commitments[epoch][r.accounts[i]];
            rec.agreement += SafeCast.toUint96(credit[i]);
            validatorWeight += r.stakes[i] * credit[i];
        }
        ep.totalValidatorWeight = validatorWeight;
        ep.totalEnvWeight = totalEnvWeight;
        if (end == n) {
            ep.stage = Stage.Settling;
            ep.cursor = 0;
        } else {
            ep.cursor = SafeCast.toUint32(end);
        }
        // Interactions last: every write of this chunk is done before the staking contract is called.
        if (_minerSlashBps > 0) {
            for (uint256 f; f < fraudCount; ++f) {
                _slashMiner(epoch, frauds[f], batches[frauds[f]].miner);
            }
        }
        return steps - (end - cursor);
    }

    /// @dev Fixes an environment's weight for the epoch: the lower stake-weighted median of the
    /// revealers' weights for it (0 from those that do not list it). `entries` is scratch space.
    function _weighEnvironment(
        uint256 epoch,
        uint256 envId,
        EnvTally storage tally,
        Revealers memory r,
        uint256[] memory entries
    ) private {
        for (uint256 i; i < r.count; ++i) {
            entries[i] = WeightedMedian.pack(_envWeightOf(epoch, r.accounts[i], envId, r.envWords[i]), r.stakes[i]);
        }
        uint256 weight = WeightedMedian.lowerMedian(entries, r.count, r.totalStake);
        // forge-lint: disable-next-line(unsafe-typecast) a median of weights checked <= SCORE_SCALE at reveal
        tally.weight = uint16(weight);
        tally.weighed = true;
        emit EnvironmentWeighted(epoch, envId, weight);
    }

    /// @dev A FRAUD consensus takes `minerSlashBps` of the miner's active and unbonding stake into the carry.
    function _slashMiner(uint256 epoch, uint256 index, address miner) private {
        uint256 slashed = _staking.slash(miner, _minerSlashBps, address(this));
        _carry += slashed;
        emit MinerSlashed(epoch, index, miner, slashed);
    }

    /// @dev `validator`'s revealed weight for `envId`: a binary search over its entries, which are sorted
    /// by id and end with zero entries (read as past every id), so at most ~6 words are read.
    function _envWeightOf(uint256 epoch, address validator, uint256 envId, uint256 envWords)
        internal
        view
        returns (uint256)
    {
        mapping(uint256 => uint256) storage stored = _envWeights[epoch][validator];
        // entries [lo, hi) may still hold envId; hi <= MAX_ENV_WEIGHTS, so nothing overflows
        unchecked {
            uint256 lo;
            uint256 hi = envWords * RevealCodec.ENTRIES_PER_WORD;
            while (lo < hi) {
                uint256 mid = (lo + hi) >> 1;
                uint256 e =
                    RevealCodec.entry(stored[mid / RevealCodec.ENTRIES_PER_WORD], mid % RevealCodec.ENTRIES_PER_WORD);
                uint256 id = e >> 16;
                if (id == envId) return e & 0xFFFF;
                if (id == 0 || id > envId) hi = mid;
                else lo = mid + 1;
            }
        }
        return 0;
    }

    /// @dev The validators of `epoch` that revealed, with their stakes fixed at commit.
    function _revealed(uint256 epoch) private view returns (Revealers memory r) {
        address[] storage validators = _validators[epoch];
        uint256 vn = validators.length;
        r.accounts = new address[](vn);
        r.stakes = new uint256[](vn);
        r.envWords = new uint256[](vn);
        for (uint256 i; i < vn; ++i) {
            Commitment storage rec = _commitments[epoch][validators[i]];
            if (rec.revealed) {
                uint256 c = r.count;
                r.accounts[c] = validators[i];
                r.stakes[c] = rec.stake;
                r.envWords[c] = rec.envWords;
                r.totalStake += rec.stake;
                r.count = c + 1;
            }
        }
    }

    // ─── stage 2: settling ────────────────────────────────────────────────────

    /// @dev Stage Settling: mint the epoch's emission for the roles that earned something and split it into pots.
    /// A role with zero total weight gets no pot and its share is not minted; an epoch without reveals mints nothing.
    function _settle(uint256 epoch, EpochData storage ep) internal {
        bool minersEarned = ep.totalEnvWeight > 0;
        bool validatorsEarned = ep.totalValidatorWeight > 0;
        uint256 activeBps =
            (minersEarned ? uint256(_minerBps) + _environmentBps : 0) + (validatorsEarned ? _validatorBps : 0);
        uint256 minted;
        uint256 carriedIn;
        if (activeBps > 0) {
            uint256 requested = (_token.emissionOf(epoch) * activeBps) / _BPS;
            minted = _token.mintEmission(epoch, address(this), requested);
            carriedIn = _carry;
            _carry = 0;
            uint256 pot = minted + carriedIn;
            if (minersEarned) {
                ep.minerPot = (pot * _minerBps) / activeBps;
                ep.environmentPot = (pot * _environmentBps) / activeBps;
            }
            if (validatorsEarned) ep.validatorPot = (pot * _validatorBps) / activeBps;
            ep.remaining = pot;
            _unallocated += pot;
        }
        ep.stage = Stage.PayingBatches;
        emit EpochSettled(epoch, minted, carriedIn, ep.minerPot, ep.validatorPot, ep.environmentPot);
    }

    // ─── stage 3: paying batches ──────────────────────────────────────────────

    /// @dev Stage PayingBatches: a batch of weight w in an environment of weight W whose batches weigh B
    /// in total earns `pot * W * w / (sumW * B)` of the miner pot (to its miner) and of the environment
    /// pot (to the environment's owner).
    function _payBatches(uint256 epoch, EpochData storage ep, uint256 steps) internal returns (uint256) {
        uint256 n = ep.batchCount;
        uint256 cursor = ep.cursor;
        uint256 totalEnvWeight = ep.totalEnvWeight;
        if (totalEnvWeight == 0 || cursor >= n) {
            ep.stage = Stage.PayingValidators;
            ep.cursor = 0;
            return steps;
        }
        uint256 end = cursor + Math.min(steps, n - cursor); // cursor <= n here; no overflow for any steps
        uint256 minerPot = ep.minerPot;
        uint256 environmentPot = ep.environmentPot;
        uint256 credited;
        uint256 word;
        mapping(uint256 => Batch) storage batches = _batches[epoch];
        for (uint256 b = cursor; b < end; ++b) {
            if (b == cursor || b % RevealCodec.LANES_PER_WORD == 0) {
                word = _consensus[epoch][b / RevealCodec.LANES_PER_WORD];
            }
            uint256 score = RevealCodec.lane(word, b) >> RevealCodec.DIGEST_BITS;
            if (score == 0 || score == RevealCodec.FRAUD) continue;
            Batch memory bt = batches[b];
            EnvTally memory tally = _envTallies[epoch][bt.envId];
            if (tally.weight == 0) continue;
            // W <= SCORE_SCALE and w < 2**46; sumW < 2**46 and B < 2**78: no product overflows.
            uint256 numerator = uint256(tally.weight) * score * bt.traceCount;
            uint256 denominator = totalEnvWeight * tally.batchWeight;
            credited += _credit(epoch, bt.miner, Role.Miner, b, Math.mulDiv(minerPot, numerator, denominator));
            credited += _credit(
                epoch,
                _registry.ownerOf(bt.envId),
                Role.Environment,
                bt.envId,
                Math.mulDiv(environmentPot, numerator, denominator)
            );
        }
        // Per environment X the credits are at most pot * W_X / sumW, and sumW adds up the W_X of every
        // environment with batches of positive weight: the credits never exceed the pots.
        ep.remaining -= credited;
        _unallocated -= credited;
        if (end == n) {
            ep.stage = Stage.PayingValidators;
            ep.cursor = 0;
        } else {
            ep.cursor = SafeCast.toUint32(end);
        }
        return steps - (end - cursor);
    }

    // ─── stage 4: paying validators ───────────────────────────────────────────

    /// @dev Stage PayingValidators: credit revealers by stake x credit, slash committers that did not
    /// reveal, and release every validator's pending commitment. The last step moves the epoch's
    /// rounding dust to the carry.
    function _payValidators(uint256 epoch, EpochData storage ep, uint256 steps) internal {
        address[] storage validators = _validators[epoch];
        uint256 n = validators.length;
        uint256 cursor = ep.cursor;
        uint256 end = cursor + Math.min(steps, n - cursor); // cursor <= n here; no overflow for any steps
        uint256 totalValidatorWeight = ep.totalValidatorWeight;
        uint256 validatorPot = ep.validatorPot;
        uint256 credited;
        for (uint256 i = cursor; i < end; ++i) {
            address validator = validators[i];
            Commitment storage rec = _commitments[epoch][validator];
            if (rec.revealed) {
                if (totalValidatorWeight > 0) {
                    uint256 amount = Math.mulDiv(validatorPot, uint256(rec.stake) * rec.agreement, totalValidatorWeight);
                    credited += _credit(epoch, validator, Role.Validator, 0, amount);
                }
            } else {
                uint256 slashed = _staking.slash(validator, _slashBps, address(this));
                _carry += slashed;
                emit ValidatorSlashed(epoch, validator, slashed);
            }
            _staking.unlock(validator);
        }
        uint256 remaining = ep.remaining - credited; // validator credits sum to at most the validator pot
        _unallocated -= credited;
        if (end == n) {
            _unallocated -= remaining;
            _carry += remaining;
            ep.remaining = 0;
            ep.stage = Stage.Finalized;
            ep.cursor = 0;
            emit EpochFinalized(epoch, _carry);
        } else {
            ep.remaining = remaining;
            ep.cursor = SafeCast.toUint32(end);
        }
    }
}
