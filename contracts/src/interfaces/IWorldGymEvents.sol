// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IWorldGymEvents
/// @notice Every event the protocol contract emits, in the order of an epoch's life: the seed,
/// submissions, commitments and reveals, finalization (scores, weights, slashes, settlement,
/// credits) and claims. Indexers (the ledger) follow exactly these. See {IWorldGym}.
interface IWorldGymEvents {
    /// @notice The role a reward was earned in.
    enum Role {
        Miner,
        Validator,
        Environment
    }

    /// @notice The seed of an epoch was fixed.
    /// @param epoch The epoch.
    /// @param seed The seed.
    /// @param sourceBlock The block whose hash it was taken from (always the last block before the epoch).
    event SeedSet(uint256 indexed epoch, bytes32 seed, uint256 sourceBlock);

    /// @notice A miner submitted a batch.
    /// @param epoch The epoch it belongs to.
    /// @param index Its position among the epoch's batches (the order of lanes in reveals).
    /// @param miner The miner.
    /// @param envId The environment.
    /// @param envVersion The environment version.
    /// @param sequence Its position among this miner's batches of the epoch (tasks are derived from it).
    /// @param traceCount The number of traces it declares.
    /// @param modelId The model that generated it.
    /// @param cid The batch document's binary CID.
    event BatchSubmitted(
        uint256 indexed epoch,
        uint256 index,
        address indexed miner,
        uint256 indexed envId,
        uint256 envVersion,
        uint256 sequence,
        uint256 traceCount,
        uint256 modelId,
        bytes cid
    );

    /// @notice A validator committed to its lanes and environment weights for an epoch.
    /// @param epoch The epoch scored.
    /// @param validator The validator.
    /// @param commitment keccak256(abi.encode(epoch, validator, packedLanes, envWeights, salt)).
    /// @param stake The validator's stake, fixed for this epoch's consensus and rewards.
    event Committed(uint256 indexed epoch, address indexed validator, bytes32 commitment, uint256 stake);

    /// @notice A validator revealed its lanes and environment weights.
    /// @param epoch The epoch scored.
    /// @param validator The validator.
    /// @param packedLanes The lanes, twelve 21-bit lanes per word.
    /// @param envWeights The environment weights, five 48-bit entries per word.
    event Revealed(uint256 indexed epoch, address indexed validator, uint256[] packedLanes, uint256[] envWeights);

    /// @notice A batch's consensus lane was computed.
    /// @param epoch The epoch.
    /// @param index The batch.
    /// @param score The consensus score (SCORE_SCALE at most, or FRAUD).
    /// @param digest The consensus lane's digest.
    /// @param weight score * traceCount (0 for FRAUD): the batch's share of its environment's part of the
    /// miner and environment pots.
    event BatchScored(uint256 indexed epoch, uint256 indexed index, uint256 score, uint256 digest, uint256 weight);

    /// @notice An environment's weight for an epoch was fixed (when finalization met its first batch).
    /// @param epoch The epoch.
    /// @param envId The environment.
    /// @param weight The stake-weighted median of the validators' weights for it (0..SCORE_SCALE).
    event EnvironmentWeighted(uint256 indexed epoch, uint256 indexed envId, uint256 weight);

    /// @notice A miner's batch reached a FRAUD consensus and the miner was slashed.
    /// @param epoch The epoch.
    /// @param index The batch.
    /// @param miner The miner.
    /// @param amount The amount slashed (carried into the pots of the next epoch to settle).
    event MinerSlashed(uint256 indexed epoch, uint256 indexed index, address indexed miner, uint256 amount);

    /// @notice An epoch's emission was minted and split into pots.
    /// @param epoch The epoch.
    /// @param minted Tokens minted for it.
    /// @param carriedIn Tokens carried in (slashes and rounding left over from earlier settlements).
    /// @param minerPot The miners' pot.
    /// @param validatorPot The validators' pot.
    /// @param environmentPot The environment owners' pot.
    event EpochSettled(
        uint256 indexed epoch,
        uint256 minted,
        uint256 carriedIn,
        uint256 minerPot,
        uint256 validatorPot,
        uint256 environmentPot
    );

    /// @notice A reward was credited; claim it with `claim()`.
    /// @param epoch The epoch it was earned in.
    /// @param account The account credited.
    /// @param role The role it was earned in.
    /// @param subject The batch index (miner), environment id (environment) or 0 (validator).
    /// @param amount The amount credited.
    event RewardCredited(
        uint256 indexed epoch, address indexed account, Role indexed role, uint256 subject, uint256 amount
    );

    /// @notice A validator that committed and did not reveal was slashed.
    /// @param epoch The epoch.
    /// @param validator The validator.
    /// @param amount The amount slashed (carried into the next settled epoch's pots).
    event ValidatorSlashed(uint256 indexed epoch, address indexed validator, uint256 amount);

    /// @notice An epoch is fully finalized.
    /// @param epoch The epoch.
    /// @param carryOut The protocol's carry after it (rounding dust and slashes).
    event EpochFinalized(uint256 indexed epoch, uint256 carryOut);

    /// @notice An account pulled its credited rewards.
    /// @param account The account.
    /// @param amount The amount paid.
    event RewardClaimed(address indexed account, uint256 amount);
}
