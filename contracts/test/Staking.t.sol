// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

import {IStaking} from "../src/interfaces/IStaking.sol";
import {Panics} from "./harness/Test.sol";
import {BaseTest} from "./utils/BaseTest.sol";
import {Deployer} from "./utils/Deployer.sol";

contract StakingTest is BaseTest {
    uint256 internal constant STAKE = 5_000e18;
    /// @dev The two miners' bonds, staked by BaseTest before each test.
    uint256 internal constant BONDS = 200e18;

    function _requestUnbond(address validator, uint256 amount) internal {
        vm.prank(validator);
        staking.requestUnbond(amount);
    }

    function _assertAccount(address validator, uint256 staked, uint256 unbonding, uint256 releaseEpoch, uint256 pending)
        internal
        view
    {
        (uint256 amount, uint256 release, uint256 pend) = staking.unbondingOf(validator);
        assertEq(staking.stakeOf(validator), staked, "staked");
        assertEq(amount, unbonding, "unbonding");
        assertEq(release, releaseEpoch, "release epoch");
        assertEq(pend, pending, "pending");
    }

    // ─── setProtocol ──────────────────────────────────────────────────────────

    function test_setProtocol_setsOnceAndEmits() public {
        IStaking fresh = Deployer.newStaking(token, 1, 1);
        vm.expectEmit(address(fresh));
        emit IStaking.ProtocolSet(address(gym));
        fresh.setProtocol(address(gym));
        assertEq(fresh.protocol(), address(gym));
    }

    function test_setProtocol_failsIfNotDeployer() public {
        IStaking fresh = Deployer.newStaking(token, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingNotDeployer.selector, stranger, address(this)));
        vm.prank(stranger);
        fresh.setProtocol(address(gym));
    }

    function test_setProtocol_failsIfCalledTwice() public {
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingProtocolAlreadySet.selector, address(gym)));
        staking.setProtocol(stranger);
    }

    function test_setProtocol_failsIfZeroAddress() public {
        IStaking fresh = Deployer.newStaking(token, 1, 1);
        vm.expectRevert(IStaking.StakingZeroAmount.selector);
        fresh.setProtocol(address(0));
    }

    // ─── stake ────────────────────────────────────────────────────────────────

    function test_stake_pullsTokensAndEmits() public {
        _fund(validator1, STAKE);
        vm.startPrank(validator1);
        token.approve(address(staking), STAKE);
        vm.expectEmit(address(staking));
        emit IStaking.Staked(validator1, STAKE, STAKE);
        staking.stake(STAKE);
        vm.stopPrank();
        _assertAccount(validator1, STAKE, 0, 0, 0);
        assertEq(staking.totalStaked(), BONDS + STAKE);
        assertEq(token.balanceOf(address(staking)), BONDS + STAKE);
    }

    function test_stake_failsIfZero() public {
        vm.expectRevert(IStaking.StakingZeroAmount.selector);
        vm.prank(validator1);
        staking.stake(0);
    }

    function test_stake_failsWithoutAllowance() public {
        _fund(validator1, STAKE);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(staking), 0, STAKE)
        );
        vm.prank(validator1);
        staking.stake(STAKE);
    }

    // ─── requestUnbond ────────────────────────────────────────────────────────

    function test_requestUnbond_movesStakeAndSetsReleaseEpoch() public {
        _stake(validator1, STAKE);
        vm.roll(gym.epochStart(3));
        uint256 release = 3 + cfg.unbondingEpochs;
        vm.expectEmit(address(staking));
        emit IStaking.UnbondRequested(validator1, 2_000e18, release);
        _requestUnbond(validator1, 2_000e18);
        _assertAccount(validator1, STAKE - 2_000e18, 2_000e18, release, 0);
        assertEq(staking.totalStaked(), BONDS + STAKE - 2_000e18);
        assertEq(staking.totalUnbonding(), 2_000e18);
    }

    function test_requestUnbond_restartsReleaseForWholeAmount() public {
        _stake(validator1, STAKE);
        _requestUnbond(validator1, 1_000e18);
        vm.roll(gym.epochStart(5));
        _requestUnbond(validator1, 1_000e18);
        _assertAccount(validator1, STAKE - 2_000e18, 2_000e18, 5 + cfg.unbondingEpochs, 0);
    }

    function test_requestUnbond_failsIfZero() public {
        vm.expectRevert(IStaking.StakingZeroAmount.selector);
        _requestUnbond(validator1, 0);
    }

    function test_requestUnbond_failsIfMoreThanStaked() public {
        _stake(validator1, STAKE);
        vm.expectRevert(
            abi.encodeWithSelector(IStaking.StakingInsufficientStake.selector, validator1, STAKE, STAKE + 1)
        );
        _requestUnbond(validator1, STAKE + 1);
    }

    function test_requestUnbond_failsIfProtocolNotSet() public {
        IStaking fresh = Deployer.newStaking(token, 1, 1);
        vm.expectRevert(IStaking.StakingProtocolNotSet.selector);
        vm.prank(validator1);
        fresh.requestUnbond(1);
    }

    // ─── withdraw ─────────────────────────────────────────────────────────────

    function test_withdraw_paysOutAtReleaseEpoch() public {
        _stake(validator1, STAKE);
        _requestUnbond(validator1, STAKE);
        vm.roll(gym.epochStart(cfg.unbondingEpochs));
        vm.expectEmit(address(staking));
        emit IStaking.Withdrawn(validator1, STAKE);
        vm.prank(validator1);
        staking.withdraw();
        assertEq(token.balanceOf(validator1), STAKE);
        assertEq(staking.totalUnbonding(), 0);
        _assertAccount(validator1, 0, 0, cfg.unbondingEpochs, 0);
    }

    function test_withdraw_failsBeforeReleaseEpoch() public {
        _stake(validator1, STAKE);
        _requestUnbond(validator1, STAKE);
        uint256 release = cfg.unbondingEpochs;
        vm.roll(gym.epochStart(release) - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStaking.StakingStillUnbonding.selector, validator1, release - 1, release)
        );
        vm.prank(validator1);
        staking.withdraw();
    }

    function test_withdraw_failsWithPendingCommitments() public {
        _stake(validator1, STAKE);
        _requestUnbond(validator1, STAKE / 2);
        vm.prank(address(gym));
        staking.lock(validator1);
        vm.roll(gym.epochStart(10));
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingPendingCommitments.selector, validator1, 1));
        vm.prank(validator1);
        staking.withdraw();

        vm.prank(address(gym));
        staking.unlock(validator1);
        vm.prank(validator1);
        staking.withdraw();
        assertEq(token.balanceOf(validator1), STAKE / 2);
    }

    function test_withdraw_failsIfNothingUnbonding() public {
        _stake(validator1, STAKE);
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingNothingToWithdraw.selector, validator1));
        vm.prank(validator1);
        staking.withdraw();
    }

    function test_withdraw_failsIfCalledTwice() public {
        _stake(validator1, STAKE);
        _requestUnbond(validator1, STAKE);
        vm.roll(gym.epochStart(cfg.unbondingEpochs));
        vm.startPrank(validator1);
        staking.withdraw();
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingNothingToWithdraw.selector, validator1));
        staking.withdraw();
        vm.stopPrank();
    }

    // ─── slash / lock / unlock ────────────────────────────────────────────────

    function test_slash_takesFromStakeAndUnbondingAndEmits() public {
        _stake(validator1, STAKE);
        _requestUnbond(validator1, 1_000e18);
        // 10% of 4,000 staked and of 1,000 unbonding.
        vm.expectEmit(address(staking));
        emit IStaking.Slashed(validator1, 500e18, stranger, 1_000);
        vm.prank(address(gym));
        assertEq(staking.slash(validator1, 1_000, stranger), 500e18);
        _assertAccount(validator1, 3_600e18, 900e18, cfg.unbondingEpochs, 0);
        assertEq(token.balanceOf(stranger), 500e18);
        assertEq(staking.totalStaked(), BONDS + 3_600e18);
        assertEq(staking.totalUnbonding(), 900e18);
    }

    function test_slash_failsIfNotProtocol() public {
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingNotProtocol.selector, stranger, address(gym)));
        vm.prank(stranger);
        staking.slash(validator1, 1_000, stranger);
    }

    function test_slash_failsBeforeProtocolIsSet() public {
        IStaking fresh = Deployer.newStaking(token, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingNotProtocol.selector, address(0), address(0)));
        vm.prank(address(0));
        fresh.slash(validator1, 1_000, stranger);
    }

    function test_slash_failsIfAboveHundredPercent() public {
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingInvalidSlash.selector, 10_001));
        vm.prank(address(gym));
        staking.slash(validator1, 10_001, stranger);
    }

    function test_lock_failsIfNotProtocol() public {
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingNotProtocol.selector, stranger, address(gym)));
        vm.prank(stranger);
        staking.lock(validator1);
    }

    function test_unlock_failsIfNotProtocol() public {
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingNotProtocol.selector, stranger, address(gym)));
        vm.prank(stranger);
        staking.unlock(validator1);
    }

    function test_lockUnlock_countPendingCommitments() public {
        vm.startPrank(address(gym));
        staking.lock(validator1);
        staking.lock(validator1);
        staking.unlock(validator1);
        vm.stopPrank();
        _assertAccount(validator1, 0, 0, 0, 1);
    }

    function test_unlock_failsWithoutLock() public {
        vm.expectRevert(Panics.ARITHMETIC);
        vm.prank(address(gym));
        staking.unlock(validator1);
    }

    function test_views_reportDeploymentParams() public view {
        assertEq(staking.minStake(), cfg.minStake);
        assertEq(staking.unbondingEpochs(), cfg.unbondingEpochs);
        assertEq(staking.protocol(), address(gym));
    }

    // ─── fuzz ─────────────────────────────────────────────────────────────────

    function testFuzz_stakeUnbondWithdraw_conservesTokens(uint256 amount, uint256 unbond, uint256 wait) public {
        amount = bound(amount, 1, 1_000_000e18);
        unbond = bound(unbond, 1, amount);
        wait = bound(wait, 0, 2 * cfg.unbondingEpochs);
        _stake(validator1, amount);
        uint256 epoch = gym.currentEpoch();
        _requestUnbond(validator1, unbond);
        _assertAccount(validator1, amount - unbond, unbond, epoch + cfg.unbondingEpochs, 0);

        vm.roll(gym.epochStart(epoch + wait));
        if (wait < cfg.unbondingEpochs) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IStaking.StakingStillUnbonding.selector, validator1, epoch + wait, epoch + cfg.unbondingEpochs
                )
            );
        }
        vm.prank(validator1);
        staking.withdraw();

        uint256 paid = wait < cfg.unbondingEpochs ? 0 : unbond;
        assertEq(token.balanceOf(validator1), paid);
        assertEq(token.balanceOf(address(staking)), BONDS + amount - paid);
        assertEq(staking.totalStaked() + staking.totalUnbonding(), BONDS + amount - paid);
    }

    function testFuzz_slash_takesExactFractionOfBothBalances(uint256 amount, uint256 unbond, uint256 bps) public {
        amount = bound(amount, 1, 1_000_000e18);
        unbond = bound(unbond, 0, amount);
        bps = bound(bps, 0, 10_000);
        _stake(validator1, amount);
        if (unbond > 0) _requestUnbond(validator1, unbond);

        vm.prank(address(gym));
        uint256 taken = staking.slash(validator1, bps, stranger);

        uint256 fromStake = (amount - unbond) * bps / 10_000;
        uint256 fromUnbonding = unbond * bps / 10_000;
        assertEq(taken, fromStake + fromUnbonding);
        assertEq(staking.stakeOf(validator1), amount - unbond - fromStake);
        (uint256 unbonding,,) = staking.unbondingOf(validator1);
        assertEq(unbonding, unbond - fromUnbonding);
        assertEq(token.balanceOf(stranger), taken);
        assertEq(token.balanceOf(address(staking)), staking.totalStaked() + staking.totalUnbonding());
    }

    function testFuzz_stake_accumulatesAcrossValidators(uint256 a, uint256 b, uint256 c) public {
        a = bound(a, 1, 1_000_000e18);
        b = bound(b, 1, 1_000_000e18);
        c = bound(c, 1, 1_000_000e18);
        _stake(validator1, a);
        _stake(validator2, b);
        _stake(validator1, c);
        assertEq(staking.stakeOf(validator1), a + c);
        assertEq(staking.stakeOf(validator2), b);
        assertEq(staking.totalStaked(), BONDS + a + b + c);
        assertEq(token.balanceOf(address(staking)), BONDS + a + b + c);
    }
}
