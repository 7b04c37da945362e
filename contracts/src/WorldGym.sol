// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {EpochFinalization} from "./EpochFinalization.sol";
import {IEnvironmentRegistry} from "./interfaces/IEnvironmentRegistry.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {IWorldGym} from "./interfaces/IWorldGym.sol";
import {IWorldGymToken} from "./interfaces/IWorldGymToken.sol";
import {WorldGymBase} from "./WorldGymBase.sol";
import {CidLib} from "./libraries/CidLib.sol";
import {RevealCodec} from "./libraries/RevealCodec.sol";

/// @title WorldGym
/// @notice See {IWorldGym}. Token accounting: this contract's token balance is
/// `totalClaimable() + carry() + unallocated()` at all times.
contract WorldGym is EpochFinalization, ReentrancyGuard {
    using SafeERC20 for IERC20;

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
    ) WorldGymBase(token_, registry_, staking_, models_, p) {}

    // ─── external: miners ─────────────────────────────────────────────────────

    /// @inheritdoc IWorldGym
    function pokeSeed(uint256 epoch) external returns (bytes32 seed) {
        seed = bytes32(_epochs[epoch].seed);
        if (seed == 0) seed = _pokeSeed(epoch);
    }

    /// @inheritdoc IWorldGym
    function submitBatch(uint256 envId, uint256 envVersion, bytes calldata cid, uint256 traceCount, uint256 modelId)
        external
        returns (uint256 epoch, uint256 index, uint256 sequence)
    {
        epoch = currentEpoch();
        if (traceCount == 0 || traceCount > _maxTracesPerBatch) {
            revert WorldGymTraceCountOutOfRange(traceCount, _maxTracesPerBatch);
        }
        if (!CidLib.isValid(cid)) revert WorldGymInvalidBatchCid(cid);
        EpochData storage ep = _epochs[epoch];
        index = ep.batchCount;
        if (index >= _maxBatchesPerEpoch) revert WorldGymEpochFull(epoch, _maxBatchesPerEpoch);
        MinerEpoch memory mine = _minerEpochs[msg.sender];
        sequence = mine.epoch == epoch ? mine.count : 0;
        if (sequence >= _maxBatchesPerMiner) revert WorldGymMinerCapReached(epoch, msg.sender, _maxBatchesPerMiner);
        if (ep.seed == 0) _pokeSeed(epoch);
        _registry.checkSubmittable(envId, envVersion);
        uint256 latest = _models.latestModelId();
        if (modelId == 0 || modelId > latest) revert WorldGymUnknownModel(modelId, latest);
        // modelId <= latest here
        if (latest - modelId > _maxModelLag) revert WorldGymStaleModel(modelId, latest, _maxModelLag);
        if (_minerStake > 0) {
            uint256 stake = _staking.stakeOf(msg.sender);
            if (stake < _minerStake) revert WorldGymMinerNotBonded(msg.sender, stake, _minerStake);
        }

        _batches[epoch][index] = Batch({
            miner: msg.sender,
            envId: SafeCast.toUint32(envId),
            envVersion: SafeCast.toUint32(envVersion),
            traceCount: SafeCast.toUint32(traceCount)
        });
        ep.batchCount = SafeCast.toUint32(index + 1);
        _minerEpochs[msg.sender] = MinerEpoch({epoch: SafeCast.toUint64(epoch), count: SafeCast.toUint32(sequence + 1)});
        emit BatchSubmitted(epoch, index, msg.sender, envId, envVersion, sequence, traceCount, modelId, cid);
    }

    // ─── external: validators ─────────────────────────────────────────────────

    /// @inheritdoc IWorldGym
    function commit(uint256 epoch, bytes32 commitment) external {
        _requireWindow(epoch, Window.Commit);
        if (commitment == 0) revert WorldGymZeroCommitment();
        Commitment storage rec = _commitments[epoch][msg.sender];
        if (rec.hash != 0) revert WorldGymAlreadyCommitted(epoch, msg.sender);
        uint256 stake = _staking.stakeOf(msg.sender);
        if (stake < _minStake || stake == 0) revert WorldGymInsufficientStake(msg.sender, stake, _minStake);
        address[] storage validators = _validators[epoch];
        if (validators.length >= _maxValidatorsPerEpoch) {
            revert WorldGymValidatorCapReached(epoch, _maxValidatorsPerEpoch);
        }
        validators.push(msg.sender);
        rec.hash = commitment;
        rec.stake = SafeCast.toUint128(stake);
        emit Committed(epoch, msg.sender, commitment, stake);
        // Fix the next epoch's seed while its source hash is still there (the commit window lies in
        // epoch + 1, so its source block is mined; `epoch + 1` is in range, the window check passed).
        uint256 next = epoch + 1;
        if (_epochs[next].seed == 0) {
            uint256 source = epochStart(next) - 1;
            bytes32 hash = blockhash(source);
            if (hash != 0) _setSeed(next, hash, source);
        }
        // Interaction last: block withdrawal until this epoch is settled.
        _staking.lock(msg.sender);
    }

    /// @inheritdoc IWorldGym
    function reveal(uint256 epoch, uint256[] calldata packedLanes, uint256[] calldata envWeights, bytes32 salt)
        external
    {
        _requireWindow(epoch, Window.Reveal);
        Commitment storage rec = _commitments[epoch][msg.sender];
        if (rec.hash == 0) revert WorldGymNotCommitted(epoch, msg.sender);
        if (rec.revealed) revert WorldGymAlreadyRevealed(epoch, msg.sender);
        EpochData storage ep = _epochs[epoch];
        uint256 n = ep.batchCount;
        uint256 words = RevealCodec.laneWords(n);
        if (packedLanes.length != words) revert WorldGymLaneCountMismatch(epoch, n, packedLanes.length, words);
        bytes32 revealed = keccak256(abi.encode(epoch, msg.sender, packedLanes, envWeights, salt));
        if (revealed != rec.hash) revert WorldGymRevealMismatch(epoch, msg.sender, rec.hash, revealed);
        RevealCodec.checkLanes(packedLanes, n);
        RevealCodec.checkEnvWeights(envWeights);

        rec.revealed = true;
        rec.envWords = uint8(envWeights.length); // at most MAX_ENV_WEIGHT_WORDS (12), checked above
        ++ep.revealCount;
        mapping(uint256 => uint256) storage lanes = _lanes[epoch][msg.sender];
        for (uint256 w; w < words; ++w) {
            lanes[w] = packedLanes[w];
        }
        mapping(uint256 => uint256) storage weights = _envWeights[epoch][msg.sender];
        for (uint256 w; w < envWeights.length; ++w) {
            weights[w] = envWeights[w];
        }
        emit Revealed(epoch, msg.sender, packedLanes, envWeights);
    }

    // ─── external: anyone ─────────────────────────────────────────────────────

    /// @inheritdoc IWorldGym
    function finalize(uint256 epoch, uint256 maxSteps) external nonReentrant returns (bool done) {
        if (maxSteps == 0) revert WorldGymZeroSteps();
        _requireWindow(epoch, Window.Finalize);
        EpochData storage ep = _epochs[epoch];
        if (ep.stage == Stage.Finalized) revert WorldGymAlreadyFinalized(epoch);
        uint256 steps = maxSteps;
        if (ep.stage == Stage.Scoring) steps = _scoreBatches(epoch, ep, steps);
        if (steps > 0 && ep.stage == Stage.Settling) {
            _settle(epoch, ep);
            --steps;
        }
        if (steps > 0 && ep.stage == Stage.PayingBatches) steps = _payBatches(epoch, ep, steps);
        if (steps > 0 && ep.stage == Stage.PayingValidators) _payValidators(epoch, ep, steps);
        return ep.stage == Stage.Finalized;
    }

    /// @inheritdoc IWorldGym
    function claim() external nonReentrant returns (uint256 amount) {
        amount = _rewards[msg.sender];
        if (amount == 0) revert WorldGymNothingToClaim(msg.sender);
        _rewards[msg.sender] = 0;
        _totalClaimable -= amount;
        _claimed[msg.sender] += amount;
        emit RewardClaimed(msg.sender, amount);
        IERC20(address(_token)).safeTransfer(msg.sender, amount);
    }

    // ─── views ────────────────────────────────────────────────────────────────

    /// @inheritdoc IWorldGym
    function SCORE_SCALE() external pure returns (uint256) {
        return RevealCodec.SCORE_SCALE;
    }

    /// @inheritdoc IWorldGym
    function FRAUD() external pure returns (uint256) {
        return RevealCodec.FRAUD;
    }

    /// @inheritdoc IWorldGym
    function MAX_ENV_WEIGHTS() external pure returns (uint256) {
        return RevealCodec.MAX_ENV_WEIGHTS;
    }

    /// @inheritdoc IWorldGym
    function MIN_MINER_UNBONDING_EPOCHS() external pure returns (uint256) {
        return _MIN_MINER_UNBONDING_EPOCHS;
    }

    /// @inheritdoc IWorldGym
    function params() external view returns (Params memory) {
        return Params({
            epochLength: _epochLength,
            commitBlocks: _commitBlocks,
            revealBlocks: _revealBlocks,
            maxBatchesPerEpoch: _maxBatchesPerEpoch,
            maxBatchesPerMiner: _maxBatchesPerMiner,
            maxTracesPerBatch: _maxTracesPerBatch,
            maxValidatorsPerEpoch: _maxValidatorsPerEpoch,
            minerBps: _minerBps,
            validatorBps: _validatorBps,
            environmentBps: _environmentBps,
            slashBps: _slashBps,
            minerSlashBps: _minerSlashBps,
            maxModelLag: _maxModelLag,
            minerStake: _minerStake
        });
    }

    /// @inheritdoc IWorldGym
    function seedOf(uint256 epoch) external view returns (bytes32) {
        return bytes32(_epochs[epoch].seed);
    }

    /// @inheritdoc IWorldGym
    function taskSeed(bytes32 seed, uint256 envId, uint256 envVersion, address miner, uint256 index)
        external
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(seed, envId, envVersion, miner, index));
    }

    /// @inheritdoc IWorldGym
    function commitmentOf(
        uint256 epoch,
        address validator,
        uint256[] calldata packedLanes,
        uint256[] calldata envWeights,
        bytes32 salt
    ) external pure returns (bytes32) {
        return keccak256(abi.encode(epoch, validator, packedLanes, envWeights, salt));
    }

    /// @inheritdoc IWorldGym
    function batchCount(uint256 epoch) external view returns (uint256) {
        return _epochs[epoch].batchCount;
    }

    /// @inheritdoc IWorldGym
    function batch(uint256 epoch, uint256 index)
        external
        view
        returns (address miner, uint256 envId, uint256 envVersion, uint256 traceCount)
    {
        if (index >= _epochs[epoch].batchCount) {
            revert WorldGymUnknownBatch(epoch, index, _epochs[epoch].batchCount);
        }
        Batch memory b = _batches[epoch][index];
        return (b.miner, b.envId, b.envVersion, b.traceCount);
    }

    /// @inheritdoc IWorldGym
    function minerBatchCount(uint256 epoch, address miner) external view returns (uint256) {
        MinerEpoch memory mine = _minerEpochs[miner];
        return mine.epoch == epoch ? mine.count : 0;
    }

    /// @inheritdoc IWorldGym
    function consensusOf(uint256 epoch, uint256 index) external view returns (uint256) {
        return RevealCodec.lane(_consensus[epoch][index / RevealCodec.LANES_PER_WORD], index);
    }

    /// @inheritdoc IWorldGym
    function environmentWeightOf(uint256 epoch, uint256 envId)
        external
        view
        returns (uint256 weight, uint256 batchWeight, bool weighed)
    {
        EnvTally memory tally = _envTallies[epoch][envId];
        return (tally.weight, tally.batchWeight, tally.weighed);
    }

    /// @inheritdoc IWorldGym
    function validatorsOf(uint256 epoch) external view returns (address[] memory) {
        return _validators[epoch];
    }

    /// @inheritdoc IWorldGym
    function commitmentRecord(uint256 epoch, address validator)
        external
        view
        returns (bytes32 commitment, uint256 stake, bool revealed, uint256 agreement)
    {
        Commitment storage rec = _commitments[epoch][validator];
        return (rec.hash, rec.stake, rec.revealed, rec.agreement);
    }

    /// @inheritdoc IWorldGym
    function revealedLane(uint256 epoch, address validator, uint256 index) external view returns (uint256) {
        return RevealCodec.lane(_lanes[epoch][validator][index / RevealCodec.LANES_PER_WORD], index);
    }

    /// @inheritdoc IWorldGym
    function revealedEnvWeight(uint256 epoch, address validator, uint256 envId) external view returns (uint256) {
        Commitment storage rec = _commitments[epoch][validator];
        return rec.revealed ? _envWeightOf(epoch, validator, envId, rec.envWords) : 0;
    }

    /// @inheritdoc IWorldGym
    function finalization(uint256 epoch) external view returns (Stage stage, uint256 cursor, uint256 revealCount) {
        EpochData storage ep = _epochs[epoch];
        return (ep.stage, ep.cursor, ep.revealCount);
    }

    /// @inheritdoc IWorldGym
    function settlement(uint256 epoch)
        external
        view
        returns (
            uint256 totalEnvWeight,
            uint256 totalValidatorWeight,
            uint256 minerPot,
            uint256 validatorPot,
            uint256 environmentPot
        )
    {
        EpochData storage ep = _epochs[epoch];
        return (ep.totalEnvWeight, ep.totalValidatorWeight, ep.minerPot, ep.validatorPot, ep.environmentPot);
    }

    /// @inheritdoc IWorldGym
    function claimable(address account) external view returns (uint256) {
        return _rewards[account];
    }

    /// @inheritdoc IWorldGym
    function totalClaimable() external view returns (uint256) {
        return _totalClaimable;
    }

    /// @inheritdoc IWorldGym
    function claimedBy(address account) external view returns (uint256) {
        return _claimed[account];
    }

    /// @inheritdoc IWorldGym
    function carry() external view returns (uint256) {
        return _carry;
    }

    /// @inheritdoc IWorldGym
    function unallocated() external view returns (uint256) {
        return _unallocated;
    }

    // ─── internal ─────────────────────────────────────────────────────────────

    /// @dev seed(e) = keccak256(abi.encode(blockhash(epochStart(e) - 1), e, chainid, this)): the hash of
    /// the last block before the epoch, so the seed exists from the epoch's first block on and was unknown
    /// before the previous epoch ended. If nobody poked it within 256 blocks that hash is gone and the
    /// epoch is void: no other block stands in, since a poker could time which one.
    function _pokeSeed(uint256 epoch) private returns (bytes32 seed) {
        uint256 source = epochStart(epoch) - 1;
        if (block.number <= source) revert WorldGymSeedNotYetAvailable(epoch, source);
        bytes32 hash = blockhash(source);
        if (hash == 0) revert WorldGymSeedExpired(epoch, source);
        return _setSeed(epoch, hash, source);
    }

    function _setSeed(uint256 epoch, bytes32 hash, uint256 source) private returns (bytes32 seed) {
        bytes24 seed24 = bytes24(keccak256(abi.encode(hash, epoch, block.chainid, address(this))));
        _epochs[epoch].seed = seed24;
        seed = bytes32(seed24);
        emit SeedSet(epoch, seed, source);
    }
}
