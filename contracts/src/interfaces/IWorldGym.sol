// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IWorldGym
/// @notice The protocol's clock, batch book and consensus. Epoch `e` spans
/// `epochLength` blocks from `epochStart(e)`. During `e` miners submit batches
/// of traces. During `e + 1` staked validators commit to their scores for every
/// batch of `e` (commit window), then reveal them (reveal window). After that,
/// anyone finalizes `e` in caller-sized chunks: the consensus score of a batch
/// is the stake-weighted median of the revealed scores, and the epoch's
/// emission is credited to miners, validators and environment owners, who pull
/// it with `claim()`.
/// @dev Scores are integers in [0, SCORE_SCALE] (the batch's mean trace score in
/// basis points). A validator reveals them packed sixteen to a word: the score
/// of batch `i` is bits `[(15 - i % 16) * 16, +16)` of word `i / 16` (big-endian
/// lanes), and lanes past the last batch are zero. The commitment is
/// `keccak256(abi.encode(epoch, validator, packedScores, salt))`.
/// A batch's weight is `consensus * traceCount`: miners and environment owners
/// share their pots by weight; validators share theirs by
/// `stake * sum over batches of traceCount * (SCORE_SCALE - |score - consensus|)`.
interface IWorldGym {
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
    /// @param slashBps Fraction of stake slashed for a commitment never revealed.
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
    }

    /// @notice The windows of an epoch's life.
    enum Window {
        Submit,
        Commit,
        Reveal,
        Finalize
    }

    /// @notice The role a reward was earned in.
    enum Role {
        Miner,
        Validator,
        Environment
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

    /// @notice No model has id `modelId` in the model registry.
    /// @param modelId The id given.
    error WorldGymUnknownModel(uint256 modelId);

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

    /// @notice The revealed scores and salt hash to `revealed`, not the `committed` commitment.
    /// @param epoch The epoch.
    /// @param validator The validator.
    /// @param committed The commitment on chain.
    /// @param revealed The hash of what was revealed.
    error WorldGymRevealMismatch(uint256 epoch, address validator, bytes32 committed, bytes32 revealed);

    /// @notice `epoch` has `batchCount` batches, so a reveal needs `expectedWords` words; `words` were given.
    /// @param epoch The epoch.
    /// @param batchCount The batches in the epoch.
    /// @param words The words given.
    /// @param expectedWords The words needed, ceil(batchCount / 16).
    error WorldGymScoreCountMismatch(uint256 epoch, uint256 batchCount, uint256 words, uint256 expectedWords);

    /// @notice The score for batch `index` is `score`, above `max` (or a padding lane is not zero).
    /// @param index The batch index (or lane index past the last batch).
    /// @param score The score given.
    /// @param max The largest valid score (0 for padding lanes).
    error WorldGymScoreOutOfRange(uint256 index, uint256 score, uint256 max);

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

    /// @notice The shares do not sum to 10,000 basis points, or the slash fraction is above it.
    /// @param minerBps Miner share.
    /// @param validatorBps Validator share.
    /// @param environmentBps Environment share.
    /// @param slashBps Slash fraction.
    error WorldGymInvalidSplit(uint256 minerBps, uint256 validatorBps, uint256 environmentBps, uint256 slashBps);

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

    // ─── events ───────────────────────────────────────────────────────────────

    /// @notice The seed of an epoch was fixed.
    /// @param epoch The epoch.
    /// @param seed The seed.
    /// @param sourceBlock The block whose hash it was taken from.
    event SeedSet(uint256 indexed epoch, bytes32 seed, uint256 sourceBlock);

    /// @notice A miner submitted a batch.
    /// @param epoch The epoch it belongs to.
    /// @param index Its position among the epoch's batches (the order of scores in reveals).
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

    /// @notice A validator committed to its scores for an epoch.
    /// @param epoch The epoch scored.
    /// @param validator The validator.
    /// @param commitment keccak256(abi.encode(epoch, validator, packedScores, salt)).
    /// @param stake The validator's stake, fixed for this epoch's consensus and rewards.
    event Committed(uint256 indexed epoch, address indexed validator, bytes32 commitment, uint256 stake);

    /// @notice A validator revealed its scores.
    /// @param epoch The epoch scored.
    /// @param validator The validator.
    /// @param packedScores The scores, sixteen 16-bit lanes per word.
    event Revealed(uint256 indexed epoch, address indexed validator, uint256[] packedScores);

    /// @notice A batch's consensus score was computed.
    /// @param epoch The epoch.
    /// @param index The batch.
    /// @param consensus The stake-weighted median of the revealed scores.
    /// @param weight consensus * traceCount, the batch's share of the miner and environment pots.
    event BatchScored(uint256 indexed epoch, uint256 indexed index, uint256 consensus, uint256 weight);

    /// @notice An epoch's emission was minted and split into pots.
    /// @param epoch The epoch.
    /// @param minted Tokens minted for it.
    /// @param carriedIn Tokens carried in (slashes and rounding left over from earlier epochs).
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

    // ─── external ─────────────────────────────────────────────────────────────

    /// @notice Fixes the seed of `epoch` (no-op if already set). Anyone may call once its source block is mined.
    /// @param epoch The epoch.
    /// @return seed The seed.
    function pokeSeed(uint256 epoch) external returns (bytes32 seed);

    /// @notice Submits a batch for the current epoch.
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

    /// @notice Commits to scores for every batch of `epoch`, during its commit window.
    /// @param epoch The epoch scored (the previous epoch).
    /// @param commitment keccak256(abi.encode(epoch, msg.sender, packedScores, salt)).
    function commit(uint256 epoch, bytes32 commitment) external;

    /// @notice Reveals the committed scores, during the reveal window.
    /// @param epoch The epoch scored.
    /// @param packedScores The scores, sixteen 16-bit lanes per word.
    /// @param salt The salt used in the commitment.
    function reveal(uint256 epoch, uint256[] calldata packedScores, bytes32 salt) external;

    /// @notice Advances finalization of `epoch` by at most `maxSteps` units of work (a batch, a validator, settling).
    /// @param epoch The epoch.
    /// @param maxSteps The most units of work to do.
    /// @return done Whether the epoch is now finalized.
    function finalize(uint256 epoch, uint256 maxSteps) external returns (bool done);

    /// @notice Pays the caller all its credited rewards.
    /// @return amount The amount paid.
    function claim() external returns (uint256 amount);

    // ─── views ────────────────────────────────────────────────────────────────

    /// @notice The largest score (a batch whose every trace scored 1).
    /// @return 10,000.
    function SCORE_SCALE() external view returns (uint256);

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

    /// @notice The seed of `epoch` (zero until someone pokes it; submitBatch pokes it too).
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

    /// @notice The commitment a validator must send for these scores and salt.
    /// @param epoch The epoch scored.
    /// @param validator The validator.
    /// @param packedScores The packed scores.
    /// @param salt The salt.
    /// @return The commitment.
    function commitmentOf(uint256 epoch, address validator, uint256[] calldata packedScores, bytes32 salt)
        external
        pure
        returns (bytes32);

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

    /// @notice A batch's consensus score (valid once the batch is scored in finalization).
    /// @param epoch The epoch.
    /// @param index The batch index.
    /// @return The consensus score.
    function consensusOf(uint256 epoch, uint256 index) external view returns (uint256);

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
    /// @return agreement Its trace-weighted agreement with consensus so far.
    function commitmentRecord(uint256 epoch, address validator)
        external
        view
        returns (bytes32 commitment, uint256 stake, bool revealed, uint256 agreement);

    /// @notice A validator's revealed score for a batch.
    /// @param epoch The epoch.
    /// @param validator The validator.
    /// @param index The batch.
    /// @return The score (0 if not revealed).
    function revealedScore(uint256 epoch, address validator, uint256 index) external view returns (uint256);

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

    /// @notice Tokens held for future epochs (slashes and rounding dust).
    /// @return The amount.
    function carry() external view returns (uint256);

    /// @notice Tokens of settled epochs not yet credited (finalization in progress).
    /// @return The amount.
    function unallocated() external view returns (uint256);

    /// @notice An epoch's settlement: its pots and totals (zero before settling).
    /// @param epoch The epoch.
    /// @return totalWeight Sum of consensus * traceCount over its batches.
    /// @return totalValidatorWeight Sum of stake * agreement over revealed validators.
    /// @return minerPot The miners' pot.
    /// @return validatorPot The validators' pot.
    /// @return environmentPot The environment owners' pot.
    function settlement(uint256 epoch)
        external
        view
        returns (
            uint256 totalWeight,
            uint256 totalValidatorWeight,
            uint256 minerPot,
            uint256 validatorPot,
            uint256 environmentPot
        );
}
