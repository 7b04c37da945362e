// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IEnvironmentRegistry} from "./interfaces/IEnvironmentRegistry.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {IWorldGym} from "./interfaces/IWorldGym.sol";
import {IWorldGymToken} from "./interfaces/IWorldGymToken.sol";

/// @title WorldGymBase
/// @notice The protocol's storage, parameters and clock, shared by the
/// finalization logic ({EpochFinalization}) and the entry points ({WorldGym}).
abstract contract WorldGymBase is IWorldGym {
    /// @dev One slot per batch. Its CID and model id live in the BatchSubmitted event.
    struct Batch {
        address miner;
        uint32 envId;
        uint32 envVersion;
        uint32 traceCount;
    }

    /// @dev A validator's commitment for one epoch: two slots. `envWords` is the number of words of
    /// environment weights it revealed (at most RevealCodec.MAX_ENV_WEIGHT_WORDS).
    struct Commitment {
        bytes32 hash;
        uint128 stake;
        uint96 agreement;
        bool revealed;
        uint8 envWords;
    }

    /// @dev An environment's tally for one epoch, one slot: its median weight (fixed when finalization
    /// meets its first batch) and the total weight of its batches. 2**224 > SCORE_SCALE * 2**32 * 2**32.
    struct EnvTally {
        uint16 weight;
        bool weighed;
        uint224 batchWeight;
    }

    /// @dev A miner's batch count in the latest epoch it submitted in: one slot reused across epochs,
    /// so a returning miner's first batch of an epoch rewrites a warm slot instead of a fresh one.
    struct MinerEpoch {
        uint64 epoch;
        uint32 count;
    }

    /// @dev Slot 0 (seed, batch and reveal counts) is what submissions and reveals touch; the first
    /// submission of an epoch pays for one fresh slot, not three. The seed keeps 192 bits of entropy.
    struct EpochData {
        bytes24 seed;
        uint32 batchCount;
        uint32 revealCount;
        Stage stage;
        uint32 cursor;
        uint256 totalEnvWeight;
        uint256 totalValidatorWeight;
        uint256 minerPot;
        uint256 validatorPot;
        uint256 environmentPot;
        uint256 remaining;
    }

    uint256 internal constant _BPS = 10_000;
    /// @dev A batch of epoch e is finalizable from epoch e + 2 at the latest; a miner that asks to unbond
    /// in e must still be slashable then, and for at least one whole epoch after.
    uint256 internal constant _MIN_MINER_UNBONDING_EPOCHS = 3;
    /// @dev Epoch numbers stay far below overflow: (2**64) * epochLength (< 2**64) + genesis < 2**256.
    uint256 internal constant _MAX_EPOCH = type(uint64).max;

    // ─── storage ──────────────────────────────────────────────────────────────

    IWorldGymToken internal immutable _token;
    IEnvironmentRegistry internal immutable _registry;
    IStaking internal immutable _staking;
    IModelRegistry internal immutable _models;
    uint256 internal immutable _genesisBlock;
    uint256 internal immutable _minStake;

    uint64 internal immutable _epochLength;
    uint64 internal immutable _commitBlocks;
    uint64 internal immutable _revealBlocks;
    uint32 internal immutable _maxBatchesPerEpoch;
    uint32 internal immutable _maxBatchesPerMiner;
    uint32 internal immutable _maxTracesPerBatch;
    uint32 internal immutable _maxValidatorsPerEpoch;
    uint16 internal immutable _minerBps;
    uint16 internal immutable _validatorBps;
    uint16 internal immutable _environmentBps;
    uint16 internal immutable _slashBps;
    uint16 internal immutable _minerSlashBps;
    uint32 internal immutable _maxModelLag;
    uint256 internal immutable _minerStake;

    mapping(uint256 epoch => EpochData) internal _epochs;
    mapping(uint256 epoch => mapping(uint256 index => Batch)) internal _batches;
    mapping(address miner => MinerEpoch) internal _minerEpochs;
    mapping(uint256 epoch => address[]) internal _validators;
    mapping(uint256 epoch => mapping(address validator => Commitment)) internal _commitments;
    /// @dev Revealed lanes by word (12 lanes each); a mapping, not an array, so reads skip the length.
    mapping(uint256 epoch => mapping(address validator => mapping(uint256 word => uint256))) internal _lanes;
    /// @dev Revealed environment weights by word (5 entries each); Commitment.envWords says how many.
    mapping(uint256 epoch => mapping(address validator => mapping(uint256 word => uint256))) internal _envWeights;
    mapping(uint256 epoch => mapping(uint256 word => uint256)) internal _consensus;
    mapping(uint256 epoch => mapping(uint256 envId => EnvTally)) internal _envTallies;
    mapping(address account => uint256) internal _rewards;
    mapping(address account => uint256) internal _claimed;
    uint256 internal _totalClaimable;
    uint256 internal _carry;
    uint256 internal _unallocated;

    /// @param token_ The token (this contract must be made its minter).
    /// @param registry_ The environment registry.
    /// @param staking_ The staking contract (this contract must be made its protocol).
    /// @param models_ The model registry.
    /// @param p The parameters; see {IWorldGym-Params}.
    constructor(
        IWorldGymToken token_,
        IEnvironmentRegistry registry_,
        IStaking staking_,
        IModelRegistry models_,
        Params memory p
    ) {
        if (
            uint256(p.minerBps) + p.validatorBps + p.environmentBps != _BPS || p.slashBps > _BPS
                || p.minerSlashBps > _BPS
        ) {
            revert WorldGymInvalidSplit(p.minerBps, p.validatorBps, p.environmentBps, p.slashBps, p.minerSlashBps);
        }
        if (p.commitBlocks == 0 || p.revealBlocks == 0 || uint256(p.commitBlocks) + p.revealBlocks > p.epochLength) {
            revert WorldGymInvalidWindows(p.epochLength, p.commitBlocks, p.revealBlocks);
        }
        if (
            p.maxBatchesPerEpoch == 0 || p.maxBatchesPerMiner == 0 || p.maxTracesPerBatch == 0
                || p.maxValidatorsPerEpoch == 0 || p.maxValidatorsPerEpoch > 256
        ) {
            revert WorldGymInvalidCaps(
                p.maxBatchesPerEpoch, p.maxBatchesPerMiner, p.maxTracesPerBatch, p.maxValidatorsPerEpoch
            );
        }
        if (p.minerStake > 0) {
            uint256 unbonding = staking_.unbondingEpochs();
            if (unbonding < _MIN_MINER_UNBONDING_EPOCHS) {
                revert WorldGymUnbondingTooShort(unbonding, _MIN_MINER_UNBONDING_EPOCHS);
            }
        }
        _token = token_;
        _registry = registry_;
        _staking = staking_;
        _models = models_;
        _minStake = staking_.minStake();
        _genesisBlock = block.number;
        _epochLength = p.epochLength;
        _commitBlocks = p.commitBlocks;
        _revealBlocks = p.revealBlocks;
        _maxBatchesPerEpoch = p.maxBatchesPerEpoch;
        _maxBatchesPerMiner = p.maxBatchesPerMiner;
        _maxTracesPerBatch = p.maxTracesPerBatch;
        _maxValidatorsPerEpoch = p.maxValidatorsPerEpoch;
        _minerBps = p.minerBps;
        _validatorBps = p.validatorBps;
        _environmentBps = p.environmentBps;
        _slashBps = p.slashBps;
        _minerSlashBps = p.minerSlashBps;
        _maxModelLag = p.maxModelLag;
        _minerStake = p.minerStake;
    }

    // ─── views: clock ─────────────────────────────────────────────────────────

    /// @inheritdoc IWorldGym
    function genesisBlock() external view returns (uint256) {
        return _genesisBlock;
    }

    /// @inheritdoc IWorldGym
    function currentEpoch() public view returns (uint256) {
        return (block.number - _genesisBlock) / _epochLength;
    }

    /// @inheritdoc IWorldGym
    function epochStart(uint256 epoch) public view returns (uint256) {
        if (epoch > _MAX_EPOCH) revert WorldGymEpochOutOfRange(epoch, _MAX_EPOCH);
        return _genesisBlock + epoch * _epochLength;
    }

    /// @inheritdoc IWorldGym
    function windowOf(uint256 epoch, Window window) public view returns (uint256 opensAt, uint256 closesAt) {
        if (epoch >= _MAX_EPOCH) revert WorldGymEpochOutOfRange(epoch, _MAX_EPOCH - 1);
        uint256 next = epochStart(epoch + 1);
        if (window == Window.Submit) return (epochStart(epoch), next);
        if (window == Window.Commit) return (next, next + _commitBlocks);
        if (window == Window.Reveal) return (next + _commitBlocks, next + _commitBlocks + _revealBlocks);
        return (next + _commitBlocks + _revealBlocks, type(uint256).max);
    }

    // ─── internal: clock ──────────────────────────────────────────────────────

    function _requireWindow(uint256 epoch, Window window) internal view {
        (uint256 opensAt, uint256 closesAt) = windowOf(epoch, window);
        if (block.number < opensAt || block.number >= closesAt) {
            revert WorldGymOutsideWindow(epoch, window, block.number, opensAt, closesAt);
        }
    }

    // ─── internal: credits ────────────────────────────────────────────────────

    /// @dev The one place rewards are credited. Returns `amount` for the caller's running total.
    function _credit(uint256 epoch, address account, Role role, uint256 subject, uint256 amount)
        internal
        returns (uint256)
    {
        if (amount == 0) return 0;
        _rewards[account] += amount;
        _totalClaimable += amount;
        emit RewardCredited(epoch, account, role, subject, amount);
        return amount;
    }
}
