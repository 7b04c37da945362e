// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IWorldGymEvents} from "./IWorldGymEvents.sol";

/// @title IWorldGym
/// @notice The protocol's clock, batch book and consensus (protocol v2, docs/protocol-v2.md).
/// Epoch `e` spans `epochLength` blocks from `epochStart(e)`. During `e` bonded miners submit
/// batches of traces generated with a recent registered model. During `e + 1` staked validators
/// commit to a verdict on every batch of `e` and to a weight per environment (commit window), then
/// reveal them (reveal window). After that, anyone finalizes `e` in caller-sized chunks and the
/// epoch's emission is credited to miners, validators and environment owners, who pull it with
/// `claim()`.
/// @dev **Lanes.** A validator's verdict on a batch is a 21-bit lane `score << 7 | digest`: `score` is
/// the batch's learning signal in basis points (0..SCORE_SCALE) or FRAUD (0x3FFF), `digest` (0..127)
/// the top 7 bits of the validator's hash of its per-trace verdicts and canaries. Lanes are packed
/// twelve to a word, lane 0 in the top bits: the lane of batch `i` is bits `[4 + (11 - i % 12) * 21,
/// +21)` of word `i / 12`; the low 4 bits of every word and every lane past the last batch are zero.
/// **Environment weights.** Each validator also reveals a weight in 0..SCORE_SCALE for the
/// environments it lists: 48-bit entries `envId << 16 | weight`, five to a word from the top (entry
/// `k` is bits `[16 + (4 - k % 5) * 48, +48)` of word `k / 5`; the low 16 bits of every word are
/// zero), env ids strictly increasing from 1, at most MAX_ENV_WEIGHTS entries, zero entries only
/// at the end of the last word and no empty word. An environment a validator does not list gets
/// weight 0 from it. The commitment is `keccak256(abi.encode(epoch, validator, packedLanes,
/// envWeights, salt))`.
/// **Finalization.** A batch's consensus lane is the lower stake-weighted median of the revealed
/// lanes (as integers); its weight is `w = score * traceCount` (0 for FRAUD). An environment's
/// weight `W` is the lower stake-weighted median of the validators' weights for it; environments
/// whose batches weigh `B > 0` in total share the miner and environment pots by `W`, and within
/// one the pot is shared by batch weight: a batch earns `pot * W * w / (sumW * B)`. A validator's
/// credit `A` sums, over the batches whose consensus lane it revealed exactly, `w` (or
/// `traceCount * SCORE_SCALE` for a FRAUD batch); validators share their pot by `stake * A`. A FRAUD
/// consensus slashes `minerSlashBps` of the miner's stake into the carry; a committed validator
/// that did not reveal loses `slashBps` of its stake.
interface IWorldGym is IWorldGymEvents {
    // ─── types ────────────────────────────────────────────────────────────────

    /// @notice Deployment parameters (see the README for devnet and public-network defaults).
    /// @param epochLength Blocks per epoch.
    /// @param commitBlocks Length of the commit window at the start of epoch e + 1.
    /// @param revealBlocks Length of the reveal window right after it; commit + reveal <= epochLength.
    /// @param maxBatchesPerEpoch Cap on batches in one epoch (bounds reveals and finalization).
    /// @param maxBatchesPerMiner Cap on one miner's batches in one epoch.
    /// @param maxTracesPerBatch Cap on a batch's trace count.
    /// @param maxValidatorsPerEpoch Cap on commitments in one epoch (bounds finalization).
    /// @param minerBps Share of the emission for miners, in basis points.
    /// @param validatorBps Share for validators.
    /// @param environmentBps Share for environment owners; the three sum to 10,000.
    /// @param slashBps Fraction of a validator's stake slashed for a commitment never revealed.
    /// @param minerSlashBps Fraction of a miner's stake (active and unbonding) slashed for each of its
    /// batches whose consensus is FRAUD.
    /// @param maxModelLag How many models older than the latest registered one a batch may declare.
    /// @param minerStake Active stake (in {IStaking}) a miner needs to submit; 0 disables the bond.
    /// While it is not 0, the staking contract's `unbondingEpochs` must be at least
    /// MIN_MINER_UNBONDING_EPOCHS, so that a miner cannot withdraw before its batches can be finalized.
    struct Params {
        uint64 epochLength;
        uint64 commitBlocks;
        uint64 revealBlocks;
        uint32 maxBatchesPerEpoch;
        uint32 maxBatchesPerMiner;
        uint32 maxTracesPerBatch;
        uint32 maxValidatorsPerEpoch;
        uint16 minerBps;
        uint16 validatorBps;
        uint16 environmentBps;
        uint16 slashBps;
        uint16 minerSlashBps;
        uint32 maxModelLag;
        uint256 minerStake;
    }

    /// @notice The windows of an epoch's life.
    enum Window {
        Submit,
        Commit,
        Reveal,
        Finalize
    }

    /// @notice How far finalization of an epoch has gone.
    enum Stage {
        Scoring,
        Settling,
        PayingBatches,
        PayingValidators,
        Finalized
    }

    // ─── errors ───────────────────────────────────────────────────────────────

    /// @notice The call belongs to `window` of `epoch`, which spans blocks [opensAt, closesAt); it is `blockNumber`.
    /// @param epoch The epoch concerned.
    /// @param window The window the call needs.
    /// @param blockNumber The current block.
    /// @param opensAt The first block of the window.
    /// @param closesAt The first block after the window (type(uint256).max if it never closes).
    error WorldGymOutsideWindow(uint256 epoch, Window window, uint256 blockNumber, uint256 opensAt, uint256 closesAt);

    /// @notice The seed of `epoch` comes from the hash of block `sourceBlock` (the last block before the
    /// epoch), which is not mined yet.
    /// @param epoch The epoch.
    /// @param sourceBlock The block whose hash makes the seed.
    error WorldGymSeedNotYetAvailable(uint256 epoch, uint256 sourceBlock);

    /// @notice Nobody fixed the seed of `epoch` while the hash of `sourceBlock` was available (the EVM
    /// keeps the last 256 block hashes), so the epoch is void for submissions: no other block may stand
    /// in, since whoever pokes could choose it.
    /// @param epoch The epoch.
    /// @param sourceBlock The block whose hash would have made the seed.
    error WorldGymSeedExpired(uint256 epoch, uint256 sourceBlock);

    /// @notice `cid` is not a binary CIDv0/CIDv1 with a sha2-256 multihash.
    /// @param cid The bytes given.
    error WorldGymInvalidBatchCid(bytes cid);

    /// @notice A batch must have between 1 and `max` traces.
    /// @param traceCount The count given.
    /// @param max The cap.
    error WorldGymTraceCountOutOfRange(uint256 traceCount, uint256 max);

    /// @notice `epoch` already holds the most batches allowed.
    /// @param epoch The epoch.
    /// @param cap The cap.
    error WorldGymEpochFull(uint256 epoch, uint256 cap);

    /// @notice `miner` already submitted the most batches allowed in `epoch`.
    /// @param epoch The epoch.
    /// @param miner The miner.
    /// @param cap The cap.
    error WorldGymMinerCapReached(uint256 epoch, address miner, uint256 cap);

    /// @notice No model has id `modelId`: ids run from 1 to the latest registered, `latestModelId`.
    /// @param modelId The id given.
    /// @param latestModelId The latest registered model (0 if none).
    error WorldGymUnknownModel(uint256 modelId, uint256 latestModelId);

    /// @notice Model `modelId` is more than `maxModelLag` models older than the latest, `latestModelId`.
    /// @param modelId The id given.
    /// @param latestModelId The latest registered model.
    /// @param maxModelLag How many models before the latest are still accepted.
    error WorldGymStaleModel(uint256 modelId, uint256 latestModelId, uint256 maxModelLag);

    /// @notice `miner` has `stake` staked but at least `required` is needed to submit batches.
    /// @param miner The miner.
    /// @param stake Its active stake.
    /// @param required The miners' bond.
    error WorldGymMinerNotBonded(address miner, uint256 stake, uint256 required);

    /// @notice `validator` has `stake` staked but at least `required` is needed to commit.
    /// @param validator The validator.
    /// @param stake Its active stake.
    /// @param required The minimum stake.
    error WorldGymInsufficientStake(address validator, uint256 stake, uint256 required);

    /// @notice `validator` already committed for `epoch`.
    /// @param epoch The epoch.
    /// @param validator The validator.
    error WorldGymAlreadyCommitted(uint256 epoch, address validator);

    /// @notice `epoch` already holds the most commitments allowed.
    /// @param epoch The epoch.
    /// @param cap The cap.
    error WorldGymValidatorCapReached(uint256 epoch, uint256 cap);

    /// @notice `validator` did not commit for `epoch`.
    /// @param epoch The epoch.
    /// @param validator The validator.
    error WorldGymNotCommitted(uint256 epoch, address validator);

    /// @notice `validator` already revealed for `epoch`.
    /// @param epoch The epoch.
    /// @param validator The validator.
    error WorldGymAlreadyRevealed(uint256 epoch, address validator);

    /// @notice The revealed lanes, weights and salt hash to `revealed`, not the `committed` commitment.
    /// @param epoch The epoch.
    /// @param validator The validator.
    /// @param committed The commitment on chain.
    /// @param revealed The hash of what was revealed.
    error WorldGymRevealMismatch(uint256 epoch, address validator, bytes32 committed, bytes32 revealed);

    /// @notice `epoch` has `batchCount` batches, so a reveal needs `expectedWords` words of lanes; `words` were given.
    /// @param epoch The epoch.
    /// @param batchCount The batches in the epoch.
    /// @param words The words given.
    /// @param expectedWords The words needed, ceil(batchCount / 12).
    error WorldGymLaneCountMismatch(uint256 epoch, uint256 batchCount, uint256 words, uint256 expectedWords);

    /// @notice The lane of batch `index` has score `score`, which is neither in [0, SCORE_SCALE] nor FRAUD.
    /// @param index The batch index.
    /// @param score The score given (the lane's top 14 bits).
    /// @param digest The lane's digest (its low 7 bits).
    error WorldGymInvalidLane(uint256 index, uint256 score, uint256 digest);

    /// @notice Word `word` of the lanes has non-zero bits outside the lanes of real batches (its low 4
    /// bits, or lanes past the last batch).
    /// @param word The word's position.
    /// @param bits The offending bits (the word masked to its padding).
    error WorldGymNonZeroPadding(uint256 word, uint256 bits);

    /// @notice Environment weights take at most `maxWords` words (MAX_ENV_WEIGHTS entries); `words` were given.
    /// @param words The words given.
    /// @param maxWords The cap.
    error WorldGymTooManyEnvWeights(uint256 words, uint256 maxWords);

    /// @notice Entry `position` of the environment weights, `envId << 16 | weight`, breaks the encoding:
    /// env ids must increase strictly from 1 (after `previousEnvId`), weights must be at most
    /// SCORE_SCALE, a zero entry may only be followed by zero entries of the last word, no word may
    /// be empty, and every word keeps its low 16 bits zero (for a word that does not, `envId` is its
    /// first entry's id and `weight` its low 16 bits).
    /// @param position The entry's position (word * 5 + slot).
    /// @param envId The entry's environment id.
    /// @param weight The entry's weight.
    /// @param previousEnvId The previous entry's environment id (0 for the first).
    error WorldGymInvalidEnvWeight(uint256 position, uint256 envId, uint256 weight, uint256 previousEnvId);

    /// @notice `epoch` is already finalized.
    /// @param epoch The epoch.
    error WorldGymAlreadyFinalized(uint256 epoch);

    /// @notice Epoch `epoch` has `count` batches; there is no batch `index`.
    /// @param epoch The epoch.
    /// @param index The index asked for.
    /// @param count The number of batches.
    error WorldGymUnknownBatch(uint256 epoch, uint256 index, uint256 count);

    /// @notice finalize was called with maxSteps = 0.
    error WorldGymZeroSteps();

    /// @notice `epoch` is beyond the last epoch the clock can express (`maxEpoch`, far past any chain's life).
    /// @param epoch The epoch given.
    /// @param maxEpoch The largest valid epoch.
    error WorldGymEpochOutOfRange(uint256 epoch, uint256 maxEpoch);

    /// @notice A commitment of zero is not allowed (it marks "no commitment").
    error WorldGymZeroCommitment();

    /// @notice `account` has no credited rewards to claim.
    /// @param account The account.
    error WorldGymNothingToClaim(address account);

    /// @notice The shares do not sum to 10,000 basis points, or a slash fraction is above it.
    /// @param minerBps Miner share.
    /// @param validatorBps Validator share.
    /// @param environmentBps Environment share.
    /// @param slashBps Validators' slash fraction.
    /// @param minerSlashBps Miners' slash fraction.
    error WorldGymInvalidSplit(
        uint256 minerBps, uint256 validatorBps, uint256 environmentBps, uint256 slashBps, uint256 minerSlashBps
    );

    /// @notice The epoch cannot hold its windows (commit and reveal must be non-empty and fit in one epoch).
    /// @param epochLength Blocks per epoch.
    /// @param commitBlocks Commit window.
    /// @param revealBlocks Reveal window.
    error WorldGymInvalidWindows(uint256 epochLength, uint256 commitBlocks, uint256 revealBlocks);

    /// @notice A cap is zero, or above what finalization can process.
    /// @param maxBatchesPerEpoch Batches per epoch.
    /// @param maxBatchesPerMiner Batches per miner per epoch.
    /// @param maxTracesPerBatch Traces per batch.
    /// @param maxValidatorsPerEpoch Commitments per epoch.
    error WorldGymInvalidCaps(
        uint256 maxBatchesPerEpoch, uint256 maxBatchesPerMiner, uint256 maxTracesPerBatch, uint256 maxValidatorsPerEpoch
    );

    /// @notice Miners are bonded (`minerStake` > 0) but stake is released `unbondingEpochs` after a
    /// request, fewer than `minEpochs`: a miner could withdraw before its batches are finalized.
    /// @param unbondingEpochs The staking contract's delay.
    /// @param minEpochs MIN_MINER_UNBONDING_EPOCHS.
    error WorldGymUnbondingTooShort(uint256 unbondingEpochs, uint256 minEpochs);

    // ─── external ─────────────────────────────────────────────────────────────

    /// @notice Fixes the seed of `epoch` (no-op if already set). Anyone may call once its source block
    /// is mined, and must within 256 blocks of it (after that the epoch is void: WorldGymSeedExpired).
    /// @param epoch The epoch.
    /// @return seed The seed.
    function pokeSeed(uint256 epoch) external returns (bytes32 seed);

    /// @notice Submits a batch for the current epoch (pokes its seed if unset). The caller needs
    /// `minerStake` staked, and the model must be the latest registered or one of the `maxModelLag`
    /// before it.
    /// @param envId The environment.
    /// @param envVersion The environment version the tasks come from.
    /// @param cid The batch document's binary CID.
    /// @param traceCount The number of traces in the batch.
    /// @param modelId The model registry id of the model that generated it.
    /// @return epoch The epoch.
    /// @return index The batch's index in the epoch.
    /// @return sequence The batch's index among the caller's batches of the epoch.
    function submitBatch(uint256 envId, uint256 envVersion, bytes calldata cid, uint256 traceCount, uint256 modelId)
        external
        returns (uint256 epoch, uint256 index, uint256 sequence);

    /// @notice Commits to lanes for every batch of `epoch` and to environment weights, during its commit
    /// window. Also fixes the seed of `epoch + 1` if nobody has and its source block hash is still
    /// available (never reverting because of it).
    /// @param epoch The epoch scored (the previous epoch).
    /// @param commitment keccak256(abi.encode(epoch, msg.sender, packedLanes, envWeights, salt)).
    function commit(uint256 epoch, bytes32 commitment) external;

    /// @notice Reveals the committed lanes and environment weights, during the reveal window.
    /// @param epoch The epoch scored.
    /// @param packedLanes The lanes, twelve 21-bit lanes per word (see the encoding above).
    /// @param envWeights The environment weights, five 48-bit entries per word (see the encoding above).
    /// @param salt The salt used in the commitment.
    function reveal(uint256 epoch, uint256[] calldata packedLanes, uint256[] calldata envWeights, bytes32 salt)
        external;

    /// @notice Advances finalization of `epoch` by at most `maxSteps` units of work (a batch, a validator, settling).
    /// @param epoch The epoch.
    /// @param maxSteps The most units of work to do.
    /// @return done Whether the epoch is now finalized.
    function finalize(uint256 epoch, uint256 maxSteps) external returns (bool done);

    /// @notice Pays the caller all its credited rewards.
    /// @return amount The amount paid.
    function claim() external returns (uint256 amount);

    // ─── views ────────────────────────────────────────────────────────────────

    /// @notice The largest score (a batch whose every trace carries full learning signal).
    /// @return 10,000.
    function SCORE_SCALE() external view returns (uint256);

    /// @notice The score that flags a batch as fraud.
    /// @return 0x3FFF.
    function FRAUD() external view returns (uint256);

    /// @notice The most environment weights one reveal may list.
    /// @return 60 (twelve words).
    function MAX_ENV_WEIGHTS() external view returns (uint256);

    /// @notice The shortest unbonding delay (in epochs) the staking contract may have while miners are bonded.
    /// @return 3: a batch of epoch e can be finalized from epoch e + 2 at the latest.
    function MIN_MINER_UNBONDING_EPOCHS() external view returns (uint256);

    /// @notice The deployment parameters.
    /// @return The parameters.
    function params() external view returns (Params memory);

    /// @notice The block at which epoch 0 starts.
    /// @return The block number.
    function genesisBlock() external view returns (uint256);

    /// @notice The current epoch.
    /// @return The epoch.
    function currentEpoch() external view returns (uint256);

    /// @notice The first block of `epoch`.
    /// @param epoch The epoch.
    /// @return The block number.
    function epochStart(uint256 epoch) external view returns (uint256);

    /// @notice The block range of a window of `epoch`.
    /// @param epoch The epoch.
    /// @param window The window.
    /// @return opensAt The first block.
    /// @return closesAt The first block after it (type(uint256).max if it never closes).
    function windowOf(uint256 epoch, Window window) external view returns (uint256 opensAt, uint256 closesAt);

    /// @notice The seed of `epoch` (zero until someone pokes it; submitBatch and commit poke too).
    /// @dev 192 bits of entropy: the first 24 bytes of keccak256(abi.encode(blockhash(epochStart(epoch) - 1),
    /// epoch, chainid, this)); the last 8 bytes are zero.
    /// @param epoch The epoch.
    /// @return The seed.
    function seedOf(uint256 epoch) external view returns (bytes32);

    /// @notice The seed a task is derived from: keccak256(abi.encode(seed, envId, envVersion, miner, index)).
    /// @param seed The epoch seed.
    /// @param envId The environment.
    /// @param envVersion The version.
    /// @param miner The miner.
    /// @param index The task index.
    /// @return The task seed.
    function taskSeed(bytes32 seed, uint256 envId, uint256 envVersion, address miner, uint256 index)
        external
        pure
        returns (bytes32);

    /// @notice The commitment a validator must send for these lanes, weights and salt.
    /// @param epoch The epoch scored.
    /// @param validator The validator.
    /// @param packedLanes The packed lanes.
    /// @param envWeights The packed environment weights.
    /// @param salt The salt.
    /// @return The commitment.
    function commitmentOf(
        uint256 epoch,
        address validator,
        uint256[] calldata packedLanes,
        uint256[] calldata envWeights,
        bytes32 salt
    ) external pure returns (bytes32);

    /// @notice The number of batches submitted in `epoch`.
    /// @param epoch The epoch.
    /// @return The count.
    function batchCount(uint256 epoch) external view returns (uint256);

    /// @notice A batch's on-chain record (its CID and model are in its BatchSubmitted event).
    /// @param epoch The epoch.
    /// @param index The batch index.
    /// @return miner The miner.
    /// @return envId The environment.
    /// @return envVersion The version.
    /// @return traceCount The trace count.
    function batch(uint256 epoch, uint256 index)
        external
        view
        returns (address miner, uint256 envId, uint256 envVersion, uint256 traceCount);

    /// @notice The number of batches `miner` submitted in `epoch`, if that is the latest epoch it
    /// submitted in (0 otherwise: BatchSubmitted events keep the history).
    /// @param epoch The epoch (normally the current one).
    /// @param miner The miner.
    /// @return The count (the next batch's sequence number in the current epoch).
    function minerBatchCount(uint256 epoch, address miner) external view returns (uint256);

    /// @notice A batch's consensus lane, `score << 7 | digest` (valid once the batch is scored in finalization).
    /// @param epoch The epoch.
    /// @param index The batch index.
    /// @return The consensus lane.
    function consensusOf(uint256 epoch, uint256 index) external view returns (uint256);

    /// @notice An environment's weight in `epoch` and the total weight of its batches (valid once
    /// finalization has scored the epoch's batches).
    /// @param epoch The epoch.
    /// @param envId The environment.
    /// @return weight The stake-weighted median of the validators' weights for it.
    /// @return batchWeight The sum of score * traceCount over its batches that are not FRAUD.
    /// @return weighed Whether finalization has met a batch of it yet.
    function environmentWeightOf(uint256 epoch, uint256 envId)
        external
        view
        returns (uint256 weight, uint256 batchWeight, bool weighed);

    /// @notice The validators that committed for `epoch`, in commit order.
    /// @param epoch The epoch.
    /// @return The validators.
    function validatorsOf(uint256 epoch) external view returns (address[] memory);

    /// @notice A validator's commitment for `epoch`.
    /// @param epoch The epoch.
    /// @param validator The validator.
    /// @return commitment The commitment (zero if none).
    /// @return stake The stake fixed at commit.
    /// @return revealed Whether it revealed.
    /// @return agreement Its credit so far: the sum, over batches whose consensus lane it revealed exactly,
    /// of score * traceCount (traceCount * SCORE_SCALE for FRAUD).
    function commitmentRecord(uint256 epoch, address validator)
        external
        view
        returns (bytes32 commitment, uint256 stake, bool revealed, uint256 agreement);

    /// @notice A validator's revealed lane for a batch.
    /// @param epoch The epoch.
    /// @param validator The validator.
    /// @param index The batch.
    /// @return The lane (0 if not revealed).
    function revealedLane(uint256 epoch, address validator, uint256 index) external view returns (uint256);

    /// @notice A validator's revealed weight for an environment.
    /// @param epoch The epoch.
    /// @param validator The validator.
    /// @param envId The environment.
    /// @return The weight (0 if not revealed or not listed).
    function revealedEnvWeight(uint256 epoch, address validator, uint256 envId) external view returns (uint256);

    /// @notice Finalization progress of `epoch`.
    /// @param epoch The epoch.
    /// @return stage The stage reached.
    /// @return cursor The position within the stage.
    /// @return revealCount How many validators revealed.
    function finalization(uint256 epoch) external view returns (Stage stage, uint256 cursor, uint256 revealCount);

    /// @notice Credited, unclaimed rewards of `account`.
    /// @param account The account.
    /// @return The amount.
    function claimable(address account) external view returns (uint256);

    /// @notice Total credited and not yet claimed, over all accounts.
    /// @return The amount.
    function totalClaimable() external view returns (uint256);

    /// @notice Total ever claimed by `account`.
    /// @param account The account.
    /// @return The amount.
    function claimedBy(address account) external view returns (uint256);

    /// @notice Tokens held for future settlements (slashes and rounding dust).
    /// @return The amount.
    function carry() external view returns (uint256);

    /// @notice Tokens of settled epochs not yet credited (finalization in progress).
    /// @return The amount.
    function unallocated() external view returns (uint256);

    /// @notice An epoch's settlement: its pots and totals (zero before settling).
    /// @param epoch The epoch.
    /// @return totalEnvWeight Sum of the weights of the environments whose batches have positive weight.
    /// @return totalValidatorWeight Sum of stake * agreement over revealed validators.
    /// @return minerPot The miners' pot.
    /// @return validatorPot The validators' pot.
    /// @return environmentPot The environment owners' pot.
    function settlement(uint256 epoch)
        external
        view
        returns (
            uint256 totalEnvWeight,
            uint256 totalValidatorWeight,
            uint256 minerPot,
            uint256 validatorPot,
            uint256 environmentPot
        );
}
