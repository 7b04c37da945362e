// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IStaking
/// @notice Validators and miners lock tokens here. A validator's stake counts towards
/// consensus weight while it is at least `minStake`; a miner's stake is the bond
/// the protocol requires to submit batches. Unbonding stake is released
/// `unbondingEpochs` epochs after the request, and stays slashable until then.
/// A validator with commitments the protocol has not yet settled cannot
/// withdraw, so a validator cannot leave before a missed reveal is punished; a
/// miner is covered by the delay itself, which the protocol requires to be longer
/// than the time until its batches can be finalized (see IWorldGym.Params).
interface IStaking {
    // ─── errors ───────────────────────────────────────────────────────────────

    /// @notice `caller` is not the protocol contract.
    /// @param caller The account that called.
    /// @param protocol The protocol contract (zero before it is set).
    error StakingNotProtocol(address caller, address protocol);

    /// @notice `caller` tried to set the protocol but did not deploy this contract.
    /// @param caller The account that called.
    /// @param deployer The deployer.
    error StakingNotDeployer(address caller, address deployer);

    /// @notice The protocol can be set once; it already is.
    /// @param protocol The protocol already set.
    error StakingProtocolAlreadySet(address protocol);

    /// @notice The protocol is not set yet, so epochs cannot be read.
    error StakingProtocolNotSet();

    /// @notice A zero amount or address was given.
    error StakingZeroAmount();

    /// @notice `validator` asked to unbond more than it has staked.
    /// @param validator The validator.
    /// @param staked Its active stake.
    /// @param requested The amount asked for.
    error StakingInsufficientStake(address validator, uint256 staked, uint256 requested);

    /// @notice `validator` has nothing unbonding.
    /// @param validator The validator.
    error StakingNothingToWithdraw(address validator);

    /// @notice The unbonding stake of `validator` is released at epoch `releaseEpoch`; it is `epoch`.
    /// @param validator The validator.
    /// @param epoch The current epoch.
    /// @param releaseEpoch The first epoch at which it can withdraw.
    error StakingStillUnbonding(address validator, uint256 epoch, uint256 releaseEpoch);

    /// @notice `validator` has `pending` commitments the protocol has not settled yet.
    /// @param validator The validator.
    /// @param pending The number of unsettled epochs it committed to.
    error StakingPendingCommitments(address validator, uint256 pending);

    /// @notice A slash fraction above 100%.
    /// @param bps The fraction in basis points.
    error StakingInvalidSlash(uint256 bps);

    // ─── events ───────────────────────────────────────────────────────────────

    /// @notice The protocol contract was set (once).
    /// @param protocol The protocol contract.
    event ProtocolSet(address indexed protocol);

    /// @notice `validator` staked `amount`.
    /// @param validator The validator.
    /// @param amount The amount added.
    /// @param staked Its active stake after.
    event Staked(address indexed validator, uint256 amount, uint256 staked);

    /// @notice `validator` moved `amount` from active stake to unbonding.
    /// @param validator The validator.
    /// @param amount The amount moved.
    /// @param releaseEpoch The first epoch at which the whole unbonding amount can be withdrawn.
    event UnbondRequested(address indexed validator, uint256 amount, uint256 releaseEpoch);

    /// @notice `validator` withdrew its released unbonding stake.
    /// @param validator The validator.
    /// @param amount The amount paid out.
    event Withdrawn(address indexed validator, uint256 amount);

    /// @notice `validator` (a validator or a miner) was slashed by the protocol.
    /// @param validator The account slashed.
    /// @param amount The amount taken: `bps` of its active stake plus `bps` of its unbonding stake, each
    /// rounded down.
    /// @param recipient Where the slashed tokens went.
    /// @param bps The fraction taken, in basis points.
    event Slashed(address indexed validator, uint256 amount, address indexed recipient, uint256 bps);

    // ─── functions ────────────────────────────────────────────────────────────

    /// @notice Sets the protocol contract. Callable once, by the deployer.
    /// @param protocol_ The protocol contract.
    function setProtocol(address protocol_) external;

    /// @notice Stakes `amount` tokens (pulled from the caller; approve or permit first).
    /// @param amount The amount.
    function stake(uint256 amount) external;

    /// @notice Moves `amount` of active stake to unbonding; the release epoch restarts for the whole amount.
    /// @param amount The amount.
    function requestUnbond(uint256 amount) external;

    /// @notice Pays out the caller's unbonding stake once released and no commitment is pending.
    function withdraw() external;

    /// @notice Takes `bps` basis points of `validator`'s stake and unbonding to `recipient`. Protocol only.
    /// @param validator The validator or miner.
    /// @param bps The fraction in basis points.
    /// @param recipient Where the slashed tokens go.
    /// @return amount The amount taken.
    function slash(address validator, uint256 bps, address recipient) external returns (uint256 amount);

    /// @notice Records a commitment the protocol has yet to settle (blocks withdrawal). Protocol only.
    /// @param validator The validator.
    function lock(address validator) external;

    /// @notice Releases one pending commitment. Protocol only.
    /// @param validator The validator.
    function unlock(address validator) external;

    /// @notice A validator's active stake.
    /// @param validator The validator.
    /// @return The active stake.
    function stakeOf(address validator) external view returns (uint256);

    /// @notice A validator's unbonding stake and when it is released.
    /// @param validator The validator.
    /// @return amount The unbonding amount.
    /// @return releaseEpoch The first epoch at which it can be withdrawn.
    /// @return pending The number of unsettled commitments.
    function unbondingOf(address validator)
        external
        view
        returns (uint256 amount, uint256 releaseEpoch, uint256 pending);

    /// @notice The sum of all active stakes.
    /// @return The total.
    function totalStaked() external view returns (uint256);

    /// @notice The sum of all unbonding stakes.
    /// @return The total.
    function totalUnbonding() external view returns (uint256);

    /// @notice The minimum active stake for a validator's commitments to count.
    /// @return The minimum.
    function minStake() external view returns (uint256);

    /// @notice Epochs between an unbonding request and withdrawal.
    /// @return The delay.
    function unbondingEpochs() external view returns (uint256);

    /// @notice The protocol contract.
    /// @return The protocol (zero before it is set).
    function protocol() external view returns (address);
}
