// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {WorldGymBase} from "./WorldGymBase.sol";
import {WeightedMedian} from "./libraries/WeightedMedian.sol";

/// @title EpochFinalization
/// @notice The stages of `finalize`: score batches (stake-weighted median),
/// settle (mint and split into pots), pay batches (miners and environment
/// owners by weight), pay validators (by stake x agreement; slash committers
/// that never revealed). Each stage advances a cursor in caller-sized chunks,
/// so no transaction loops over more than it was asked to.
abstract contract EpochFinalization is WorldGymBase {
    /// @dev Stage Scoring: consensus of batches [cursor, cursor + steps). Per-validator agreement is
    /// accumulated in memory and written once per call.
    function _scoreBatches(uint256 epoch, EpochData storage ep, uint256 steps) internal returns (uint256) {
        uint256 n = ep.batchCount;
        uint256 cursor = ep.cursor;
        if (ep.revealCount == 0 || cursor >= n) {
            ep.stage = Stage.Settling;
            ep.cursor = 0;
            return steps;
        }
        uint256 end = cursor + Math.min(steps, n - cursor); // cursor <= n here; no overflow for any steps

        (address[] memory revealed, uint256[] memory stakes, uint256 count, uint256 totalStake) = _revealed(epoch);
        uint256[] memory words = new uint256[](count);
        uint256[] memory lanes = new uint256[](count);
        uint256[] memory agreement = new uint256[](count);
        uint256[] memory entries = new uint256[](count);
        uint256 consensusWord = cursor % _LANES == 0 ? 0 : _consensus[epoch][cursor / _LANES];
        uint256 totalWeight = ep.totalWeight;
        mapping(uint256 => Batch) storage batches = _batches[epoch];

        for (uint256 b = cursor; b < end; ++b) {
            uint256 shift = (_LANES - 1 - (b % _LANES)) * 16;
            if (b == cursor || b % _LANES == 0) {
                for (uint256 i; i < count; ++i) {
                    words[i] = _scores[epoch][revealed[i]][b / _LANES];
                }
            }
            for (uint256 i; i < count; ++i) {
                uint256 score = (words[i] >> shift) & _LANE_MASK;
                lanes[i] = score;
                entries[i] = WeightedMedian.pack(score, stakes[i]);
            }
            uint256 consensus = WeightedMedian.lowerMedian(entries, count, totalStake);
            uint256 traces = batches[b].traceCount;
            // Scores were checked <= SCORE_SCALE at reveal, so diff <= SCORE_SCALE; traces < 2**32 and
            // batches < 2**32, so an agreement stays below 2**78.
            unchecked {
                for (uint256 i; i < count; ++i) {
                    uint256 score = lanes[i];
                    uint256 diff = score > consensus ? score - consensus : consensus - score;
                    agreement[i] += traces * (_SCORE_SCALE - diff);
                }
            }
            uint256 weight = consensus * traces;
            totalWeight += weight;
            consensusWord |= consensus << shift;
            if (b % _LANES == _LANES - 1 || b + 1 == end) {
                _consensus[epoch][b / _LANES] = consensusWord;
                consensusWord = 0;
            }
            emit BatchScored(epoch, b, consensus, weight);
        }

        uint256 validatorWeight = ep.totalValidatorWeight;
        for (uint256 i; i < count; ++i) {
            Commitment storage rec = _commitments[epoch][revealed[i]];
            rec.agreement += SafeCast.toUint96(agreement[i]);
            validatorWeight += stakes[i] * agreement[i];
        }
        ep.totalValidatorWeight = validatorWeight;
        ep.totalWeight = totalWeight;
        if (end == n) {
            ep.stage = Stage.Settling;
            ep.cursor = 0;
        } else {
            ep.cursor = SafeCast.toUint32(end);
        }
        return steps - (end - cursor);
    }

    /// @dev The validators of `epoch` that revealed, with their stakes fixed at commit.
    function _revealed(uint256 epoch)
        private
        view
        returns (address[] memory revealed, uint256[] memory stakes, uint256 count, uint256 totalStake)
    {
        address[] storage validators = _validators[epoch];
        uint256 vn = validators.length;
        revealed = new address[](vn);
        stakes = new uint256[](vn);
        for (uint256 i; i < vn; ++i) {
            Commitment storage rec = _commitments[epoch][validators[i]];
            if (rec.revealed) {
                revealed[count] = validators[i];
                stakes[count] = rec.stake;
                totalStake += rec.stake;
                ++count;
            }
        }
    }

    /// @dev Stage Settling: mint the epoch's emission for the roles that earned something and split it into pots.
    /// A role with zero total weight gets no pot and its share is not minted; an epoch without reveals mints nothing.
    function _settle(uint256 epoch, EpochData storage ep) internal {
        bool minersEarned = ep.totalWeight > 0;
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

    /// @dev Stage PayingBatches: credit each scored batch's miner and environment owner by weight.
    function _payBatches(uint256 epoch, EpochData storage ep, uint256 steps) internal returns (uint256) {
        uint256 n = ep.batchCount;
        uint256 cursor = ep.cursor;
        uint256 totalWeight = ep.totalWeight;
        if (totalWeight == 0 || cursor >= n) {
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
            if (b == cursor || b % _LANES == 0) word = _consensus[epoch][b / _LANES];
            uint256 consensus = _lane(word, b);
            if (consensus == 0) continue;
            Batch memory bt = batches[b];
            uint256 weight = consensus * bt.traceCount;
            credited += _credit(epoch, bt.miner, Role.Miner, b, Math.mulDiv(minerPot, weight, totalWeight));
            credited += _credit(
                epoch,
                _registry.ownerOf(bt.envId),
                Role.Environment,
                bt.envId,
                Math.mulDiv(environmentPot, weight, totalWeight)
            );
        }
        ep.remaining -= credited; // sum of floor(pot * w / W) over batches never exceeds the pots
        _unallocated -= credited;
        if (end == n) {
            ep.stage = Stage.PayingValidators;
            ep.cursor = 0;
        } else {
            ep.cursor = SafeCast.toUint32(end);
        }
        return steps - (end - cursor);
    }

    /// @dev Stage PayingValidators: credit revealers by stake x agreement, slash committers that did not
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
