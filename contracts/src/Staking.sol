// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IStaking} from "./interfaces/IStaking.sol";
import {IWorldGym} from "./interfaces/IWorldGym.sol";

/// @title Staking
/// @notice See {IStaking}. Invariant: the token balance of this contract is at
/// least `totalStaked() + totalUnbonding()` (equal unless someone transfers
/// tokens in directly).
contract Staking is IStaking, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @dev Two slots per validator.
    struct Account {
        uint128 staked;
        uint128 unbonding;
        uint64 releaseEpoch;
        uint32 pending;
    }

    // ─── storage ──────────────────────────────────────────────────────────────

    IERC20 private immutable _token;
    address private immutable _deployer;
    uint256 private immutable _minStake;
    uint256 private immutable _unbondingEpochs;
    address private _protocol;
    uint256 private _totalStaked;
    uint256 private _totalUnbonding;
    mapping(address validator => Account) private _accounts;

    /// @param token_ The staked token.
    /// @param minStake_ Minimum active stake for a commitment to count.
    /// @param unbondingEpochs_ Epochs between an unbonding request and withdrawal.
    constructor(IERC20 token_, uint256 minStake_, uint256 unbondingEpochs_) {
        _token = token_;
        _deployer = msg.sender;
        _minStake = minStake_;
        _unbondingEpochs = unbondingEpochs_;
    }

    // ─── modifiers ────────────────────────────────────────────────────────────

    modifier onlyProtocol() {
        if (msg.sender != _protocol || msg.sender == address(0)) revert StakingNotProtocol(msg.sender, _protocol);
        _;
    }

    // ─── external ─────────────────────────────────────────────────────────────

    /// @inheritdoc IStaking
    function setProtocol(address protocol_) external {
        if (msg.sender != _deployer) revert StakingNotDeployer(msg.sender, _deployer);
        if (_protocol != address(0)) revert StakingProtocolAlreadySet(_protocol);
        if (protocol_ == address(0)) revert StakingZeroAmount();
        _protocol = protocol_;
        emit ProtocolSet(protocol_);
    }

    /// @inheritdoc IStaking
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert StakingZeroAmount();
        Account storage acct = _accounts[msg.sender];
        uint256 staked = acct.staked + amount;
        acct.staked = SafeCast.toUint128(staked);
        _totalStaked += amount;
        emit Staked(msg.sender, amount, staked);
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IStaking
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert StakingZeroAmount();
        if (_protocol == address(0)) revert StakingProtocolNotSet();
        Account storage acct = _accounts[msg.sender];
        if (amount > acct.staked) revert StakingInsufficientStake(msg.sender, acct.staked, amount);
        uint256 releaseEpoch = IWorldGym(_protocol).currentEpoch() + _unbondingEpochs;
        uint128 amount128 = SafeCast.toUint128(amount);
        unchecked {
            acct.staked -= amount128; // amount <= staked, checked above
        }
        acct.unbonding += amount128;
        acct.releaseEpoch = SafeCast.toUint64(releaseEpoch);
        _totalStaked -= amount;
        _totalUnbonding += amount;
        emit UnbondRequested(msg.sender, amount, releaseEpoch);
    }

    /// @inheritdoc IStaking
    function withdraw() external nonReentrant {
        Account storage acct = _accounts[msg.sender];
        uint256 amount = acct.unbonding;
        if (amount == 0) revert StakingNothingToWithdraw(msg.sender);
        if (acct.pending != 0) revert StakingPendingCommitments(msg.sender, acct.pending);
        if (_protocol == address(0)) revert StakingProtocolNotSet();
        uint256 epoch = IWorldGym(_protocol).currentEpoch();
        if (epoch < acct.releaseEpoch) revert StakingStillUnbonding(msg.sender, epoch, acct.releaseEpoch);
        acct.unbonding = 0;
        _totalUnbonding -= amount;
        emit Withdrawn(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IStaking
    function slash(address validator, uint256 bps, address recipient)
        external
        onlyProtocol
        nonReentrant
        returns (uint256 amount)
    {
        if (bps > 10_000) revert StakingInvalidSlash(bps);
        Account storage acct = _accounts[validator];
        uint256 fromStake = (uint256(acct.staked) * bps) / 10_000;
        uint256 fromUnbonding = (uint256(acct.unbonding) * bps) / 10_000;
        // Each part is at most the balance it is taken from (bps <= 10,000), so the casts are exact.
        acct.staked -= SafeCast.toUint128(fromStake);
        acct.unbonding -= SafeCast.toUint128(fromUnbonding);
        amount = fromStake + fromUnbonding;
        _totalStaked -= fromStake;
        _totalUnbonding -= fromUnbonding;
        emit Slashed(validator, amount, recipient, bps);
        if (amount > 0) _token.safeTransfer(recipient, amount);
    }

    /// @inheritdoc IStaking
    function lock(address validator) external onlyProtocol {
        ++_accounts[validator].pending;
    }

    /// @inheritdoc IStaking
    function unlock(address validator) external onlyProtocol {
        --_accounts[validator].pending; // reverts on underflow: unlock without lock is a protocol bug
    }

    // ─── views ────────────────────────────────────────────────────────────────

    /// @inheritdoc IStaking
    function stakeOf(address validator) external view returns (uint256) {
        return _accounts[validator].staked;
    }

    /// @inheritdoc IStaking
    function unbondingOf(address validator)
        external
        view
        returns (uint256 amount, uint256 releaseEpoch, uint256 pending)
    {
        Account storage acct = _accounts[validator];
        return (acct.unbonding, acct.releaseEpoch, acct.pending);
    }

    /// @inheritdoc IStaking
    function totalStaked() external view returns (uint256) {
        return _totalStaked;
    }

    /// @inheritdoc IStaking
    function totalUnbonding() external view returns (uint256) {
        return _totalUnbonding;
    }

    /// @inheritdoc IStaking
    function minStake() external view returns (uint256) {
        return _minStake;
    }

    /// @inheritdoc IStaking
    function unbondingEpochs() external view returns (uint256) {
        return _unbondingEpochs;
    }

    /// @inheritdoc IStaking
    function protocol() external view returns (address) {
        return _protocol;
    }
}
