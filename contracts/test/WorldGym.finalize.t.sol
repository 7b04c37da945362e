// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IStaking} from "../src/interfaces/IStaking.sol";
import {IWorldGym} from "../src/interfaces/IWorldGym.sol";
import {IWorldGymEvents} from "../src/interfaces/IWorldGymEvents.sol";
import {IWorldGymToken} from "../src/interfaces/IWorldGymToken.sol";
import {EpochTest} from "./utils/EpochTest.sol";
import {MedianReference} from "./utils/MedianReference.sol";

/// @notice finalize and claim over the reference epoch of {EpochTest}. Expected amounts are worked
/// out by hand in the comments; the emission of epochs 0 and 1 is 1,000 WGT.
contract WorldGymFinalizeTest is EpochTest {
    uint256 internal constant EMISSION = 1_000e18;

    // Hand-computed credits of the reference epoch (see test_finalize_creditsExactRewardsForFullEpoch).
    uint256 internal constant MINER1 = 339_130_434_782_608_695_651;
    uint256 internal constant MINER2 = 260_869_565_217_391_304_347;
    uint256 internal constant ENV_OWNER = 149_999_999_999_999_999_998;
    uint256 internal constant VALIDATOR1 = 224_025_974_025_974_025_974;
    uint256 internal constant VALIDATOR2 = 25_974_025_974_025_974_025;
    uint256 internal constant DUST = 5;

    function setUp() public override {
        super.setUp();
        _prepareEpoch();
    }

    function _stage(uint256 epoch) internal view returns (IWorldGym.Stage stage, uint256 cursor) {
        (stage, cursor,) = gym.finalization(epoch);
    }

    function _assertStage(uint256 epoch, IWorldGym.Stage expected, uint256 expectedCursor) internal view {
        (IWorldGym.Stage stage, uint256 cursor) = _stage(epoch);
        assertEq(uint8(stage), uint8(expected), "stage");
        assertEq(cursor, expectedCursor, "cursor");
    }

    // ─── failures ─────────────────────────────────────────────────────────────

    function test_finalize_failsIfZeroSteps() public {
        _commitBoth(0);
        _revealBoth(0);
        vm.expectRevert(IWorldGym.WorldGymZeroSteps.selector);
        gym.finalize(0, 0);
    }

    function test_finalize_failsBeforeRevealWindowCloses() public {
        _commitBoth(0);
        uint256 opensAt = _opens(0, IWorldGym.Window.Finalize);
        uint256[3] memory early = [_now(), _opens(0, IWorldGym.Window.Commit), opensAt - 1];
        for (uint256 i; i < early.length; ++i) {
            vm.roll(early[i]);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IWorldGym.WorldGymOutsideWindow.selector,
                    0,
                    IWorldGym.Window.Finalize,
                    early[i],
                    opensAt,
                    type(uint256).max
                )
            );
            gym.finalize(0, 1);
        }
    }

    function test_finalize_failsIfAlreadyFinalized() public {
        _commitBoth(0);
        _revealBoth(0);
        _finalizeAll(0);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymAlreadyFinalized.selector, 0));
        gym.finalize(0, 1);
    }

    // ─── the reference epoch, to the wei ──────────────────────────────────────

    /// Consensus (validator1 holds 75% of the stake, so its lanes are the median): [8000/5, 5000/9, 10000/1].
    /// Batch weights, score x traces: 80,000 + 100,000 + 50,000 = B = 230,000, all in environment 1,
    /// whose weight is W = 10,000 (both validators list it at 10,000), so sumW = W.
    /// Credits, sum over batches whose consensus lane the validator revealed exactly of the weight:
    ///   validator1: 80,000 + 100,000 + 50,000 = 230,000
    ///   validator2: 80,000 (batches 1 and 2 differ in score) = 80,000
    /// Validator weights, stake x credit: 3,000e18 x 230,000 + 1,000e18 x 80,000 = 7.7e26.
    /// Both roles earned, so the whole 1,000 WGT is minted: pots 600 (miners), 250 (validators), 150 (env).
    ///   miner credits: floor(600e18 x W x w / (sumW x B)) = floor(600e18 x w / B):
    ///                  208,695,652,173,913,043,478 + 260,869,565,217,391,304,347 + 130,434,782,608,695,652,173
    ///   env credits:   floor(150e18 x w / B) = 52,173,913,043,478,260,869 + 65,217,391,304,347,826,086
    ///                  + 32,608,695,652,173,913,043 = 149,999,999,999,999,999,998
    ///   validator1:    floor(250e18 x 6.9e26 / 7.7e26) = 224,025,974,025,974,025,974
    ///   validator2:    floor(250e18 x 8e25 / 7.7e26) = 25,974,025,974,025,974,025
    /// Credited: 999,999,999,999,999,999,995; the 5 wei of rounding dust is carried.
    function test_finalize_creditsExactRewardsForFullEpoch() public {
        _commitBoth(0);
        _revealBoth(0);
        uint256 supplyBefore = token.totalSupply();
        _finalizeAll(0);

        assertEq(gym.consensusOf(0, 0), _lane(8_000, 5));
        assertEq(gym.consensusOf(0, 1), _lane(5_000, 9));
        assertEq(gym.consensusOf(0, 2), _lane(10_000, 1));
        (,,, uint256 agreement1) = gym.commitmentRecord(0, validator1);
        (,,, uint256 agreement2) = gym.commitmentRecord(0, validator2);
        assertEq(agreement1, 230_000);
        assertEq(agreement2, 80_000);
        (uint256 envWeight, uint256 batchWeight, bool weighed) = gym.environmentWeightOf(0, envId);
        assertEq(abi.encode(envWeight, batchWeight, weighed), abi.encode(10_000, 230_000, true));
        (uint256 totalEnvWeight, uint256 validatorWeight, uint256 minerPot, uint256 validatorPot, uint256 envPot) =
            gym.settlement(0);
        assertEq(totalEnvWeight, 10_000);
        assertEq(validatorWeight, 770_000_000e18);
        assertEq(minerPot, 600e18);
        assertEq(validatorPot, 250e18);
        assertEq(envPot, 150e18);

        assertEq(gym.claimable(miner1), MINER1);
        assertEq(gym.claimable(miner2), MINER2);
        assertEq(gym.claimable(envOwner), ENV_OWNER);
        assertEq(gym.claimable(validator1), VALIDATOR1);
        assertEq(gym.claimable(validator2), VALIDATOR2);
        assertEq(gym.carry(), DUST);
        assertEq(gym.unallocated(), 0);

        uint256 minted = token.totalSupply() - supplyBefore;
        assertEq(minted, EMISSION);
        assertEq(MINER1 + MINER2 + ENV_OWNER + VALIDATOR1 + VALIDATOR2 + DUST, minted);
        assertEq(gym.totalClaimable() + gym.carry(), minted);
        assertEq(token.balanceOf(address(gym)), minted);
        assertTrue(token.emissionMinted(0));
    }

    function test_finalize_emitsScoresSettlementCreditsAndCompletion() public {
        _commitBoth(0);
        _revealBoth(0);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.EnvironmentWeighted(0, envId, 10_000);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.BatchScored(0, 0, 8_000, 5, 80_000);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.BatchScored(0, 1, 5_000, 9, 100_000);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.BatchScored(0, 2, 10_000, 1, 50_000);
        vm.expectEmit(address(token));
        emit IWorldGymToken.EmissionMinted(0, address(gym), EMISSION, EMISSION);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.EpochSettled(0, EMISSION, 0, 600e18, 250e18, 150e18);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.RewardCredited(0, miner1, IWorldGymEvents.Role.Miner, 0, 208_695_652_173_913_043_478);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.RewardCredited(0, envOwner, IWorldGymEvents.Role.Environment, envId, 52_173_913_043_478_260_869);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.RewardCredited(0, miner2, IWorldGymEvents.Role.Miner, 1, MINER2);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.RewardCredited(0, envOwner, IWorldGymEvents.Role.Environment, envId, 65_217_391_304_347_826_086);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.RewardCredited(0, miner1, IWorldGymEvents.Role.Miner, 2, 130_434_782_608_695_652_173);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.RewardCredited(0, envOwner, IWorldGymEvents.Role.Environment, envId, 32_608_695_652_173_913_043);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.RewardCredited(0, validator1, IWorldGymEvents.Role.Validator, 0, VALIDATOR1);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.RewardCredited(0, validator2, IWorldGymEvents.Role.Validator, 0, VALIDATOR2);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.EpochFinalized(0, DUST);
        _finalizeAll(0);
    }

    // ─── stages and chunks ────────────────────────────────────────────────────

    function test_finalize_advancesOneUnitOfWorkPerStep() public {
        _commitBoth(0);
        _revealBoth(0);
        // 3 batches to score + 1 settlement + 3 batches to pay + 2 validators to pay = 9 steps.
        assertFalse(gym.finalize(0, 1));
        _assertStage(0, IWorldGym.Stage.Scoring, 1);
        assertFalse(gym.finalize(0, 2));
        _assertStage(0, IWorldGym.Stage.Settling, 0);
        assertFalse(gym.finalize(0, 1));
        _assertStage(0, IWorldGym.Stage.PayingBatches, 0);
        assertEq(gym.unallocated(), EMISSION, "settled but not yet credited");
        assertFalse(gym.finalize(0, 1));
        _assertStage(0, IWorldGym.Stage.PayingBatches, 1);
        assertFalse(gym.finalize(0, 2));
        _assertStage(0, IWorldGym.Stage.PayingValidators, 0);
        assertFalse(gym.finalize(0, 1));
        _assertStage(0, IWorldGym.Stage.PayingValidators, 1);
        assertTrue(gym.finalize(0, 1));
        _assertStage(0, IWorldGym.Stage.Finalized, 0);
        assertEq(gym.unallocated(), 0);
    }

    function test_finalize_completesWithMaxStepsAfterAPartialChunk() public {
        _commitBoth(0);
        _revealBoth(0);
        gym.finalize(0, 1);
        // "Do everything that is left" must not overflow cursor + maxSteps.
        assertTrue(gym.finalize(0, type(uint256).max));
        assertEq(gym.claimable(miner1), MINER1);
    }

    // ─── slashing, empty epochs, carry ────────────────────────────────────────

    function test_finalize_slashesCommitterThatDidNotRevealAndCarriesIt() public {
        _stake(validator3, 2_000e18);
        _commitBoth(0);
        _commit(validator3, 0, _scores1(), SALT3);
        _revealBoth(0);

        vm.expectEmit(address(staking));
        emit IStaking.Slashed(validator3, 200e18, address(gym), 1_000);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.ValidatorSlashed(0, validator3, 200e18);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.EpochFinalized(0, 200e18 + DUST);
        _finalizeAll(0);

        // The silent validator changed nothing in consensus or payouts; it lost 10% of its stake.
        assertEq(gym.claimable(validator1), VALIDATOR1);
        assertEq(gym.claimable(validator2), VALIDATOR2);
        assertEq(gym.claimable(validator3), 0);
        assertEq(staking.stakeOf(validator3), 1_800e18);
        assertEq(gym.carry(), 200e18 + DUST);
        (,, uint256 pending) = staking.unbondingOf(validator3);
        assertEq(pending, 0);

        // The carry joins epoch 1's pots.
        _submitBatches();
        _commitBoth(1);
        _revealBoth(1);
        uint256 pot = EMISSION + 200e18 + DUST;
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.EpochSettled(
            1, EMISSION, 200e18 + DUST, pot * 6_000 / 10_000, pot * 2_500 / 10_000, pot * 1_500 / 10_000
        );
        _finalizeAll(1);
        assertEq(gym.totalClaimable() + gym.carry(), 2 * EMISSION + 200e18);
        assertEq(token.balanceOf(address(gym)), gym.totalClaimable() + gym.carry());
    }

    function test_finalize_epochWithoutRevealsMintsNothingAndSlashesCommitters() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Finalize);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.EpochSettled(0, 0, 0, 0, 0, 0);
        _finalizeAll(0);
        assertFalse(token.emissionMinted(0));
        assertEq(gym.totalClaimable(), 0);
        assertEq(gym.carry(), 300e18 + 100e18);
        assertEq(staking.stakeOf(validator1), 2_700e18);
        assertEq(staking.stakeOf(validator2), 900e18);
    }

    function test_finalize_epochWithoutCommitmentsNeedsOnlySettlement() public {
        _rollToWindow(0, IWorldGym.Window.Finalize);
        uint256 supply = token.totalSupply();
        assertFalse(gym.finalize(0, 1), "settling takes the one step");
        assertTrue(gym.finalize(0, 1));
        assertEq(token.totalSupply(), supply);
        assertEq(gym.carry(), 0);
    }

    /// Batches without learning signal weigh nothing, and agreeing on them earns nothing either.
    function test_finalize_allZeroConsensusMintsNothing() public {
        uint256[] memory zeros = _u(_lane(0, 3), _lane(0, 3), _lane(0, 3));
        _rollToWindow(0, IWorldGym.Window.Commit);
        _commit(validator1, 0, zeros, SALT1);
        _commit(validator2, 0, zeros, SALT2);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        _reveal(validator1, 0, zeros, SALT1);
        _reveal(validator2, 0, zeros, SALT2);
        _rollToWindow(0, IWorldGym.Window.Finalize);
        uint256 supply = token.totalSupply();
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.EpochSettled(0, 0, 0, 0, 0, 0);
        _finalizeAll(0);

        assertEq(token.totalSupply(), supply);
        assertFalse(token.emissionMinted(0));
        assertEq(gym.totalClaimable() + gym.carry(), 0);
        (,,, uint256 agreement) = gym.commitmentRecord(0, validator1);
        assertEq(agreement, 0);
    }

    function test_finalize_paysTheEnvironmentsCurrentOwner() public {
        _commitBoth(0);
        _revealBoth(0);
        vm.prank(envOwner);
        registry.transferEnvironment(envId, stranger);
        _finalizeAll(0);
        assertEq(gym.claimable(stranger), ENV_OWNER);
        assertEq(gym.claimable(envOwner), 0);
    }

    function test_finalize_releasesCommitmentsSoValidatorsCanWithdraw() public {
        _commitBoth(0);
        vm.prank(validator1);
        staking.requestUnbond(STAKE1);
        _revealBoth(0);
        vm.roll(gym.epochStart(1 + cfg.unbondingEpochs));
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingPendingCommitments.selector, validator1, 1));
        vm.prank(validator1);
        staking.withdraw();

        _finalizeAll(0);
        vm.prank(validator1);
        staking.withdraw();
        assertEq(token.balanceOf(validator1), STAKE1);
    }

    // ─── consensus through the protocol ───────────────────────────────────────

    function testFuzz_finalize_consensusIsStakeWeightedMedianOfReveals(
        uint256[3] memory stakes,
        uint256 scoreSeed,
        uint256 majority
    ) public {
        address[3] memory vals = [validator1, validator2, validator3];
        majority = bound(majority, 0, 5); // 0-2: that validator holds more than half; 3-5: no constraint
        uint256[3] memory held = [STAKE1, STAKE2, 0]; // staked by _prepareEpoch
        for (uint256 i; i < 3; ++i) {
            stakes[i] = bound(stakes[i], STAKE1, 100_000e18);
        }
        if (majority < 3) stakes[majority] = stakes[(majority + 1) % 3] + stakes[(majority + 2) % 3] + 1;
        for (uint256 i; i < 3; ++i) {
            if (stakes[i] > held[i]) _stake(vals[i], stakes[i] - held[i]);
        }

        uint256[][3] memory scores;
        _rollToWindow(0, IWorldGym.Window.Commit);
        for (uint256 v; v < 3; ++v) {
            scores[v] = new uint256[](3);
            for (uint256 b; b < 3; ++b) {
                // Coarse lanes (0, 5000 or FRAUD, two digests) half the time, so that ties are common.
                uint256 r = uint256(keccak256(abi.encode(scoreSeed, v, b)));
                uint256[3] memory coarse = [uint256(0), 5_000, 0x3FFF];
                scores[v][b] = scoreSeed % 2 == 0
                    ? _lane(r % 10_001, (r >> 128) % 128)
                    : _lane(coarse[r % 3], (r >> 128) % 2);
            }
            _commit(vals[v], 0, scores[v], SALT1);
        }
        _rollToWindow(0, IWorldGym.Window.Reveal);
        for (uint256 v; v < 3; ++v) {
            _reveal(vals[v], 0, scores[v], SALT1);
        }
        _rollToWindow(0, IWorldGym.Window.Finalize);
        _finalizeAll(0);

        uint256[] memory weights = new uint256[](3);
        for (uint256 v; v < 3; ++v) {
            weights[v] = stakes[v];
        }
        for (uint256 b; b < 3; ++b) {
            uint256[] memory column = new uint256[](3);
            for (uint256 v; v < 3; ++v) {
                column[v] = scores[v][b];
            }
            uint256 consensus = gym.consensusOf(0, b);
            (uint256 lo, uint256 hi) = MedianReference.range(column);
            assertGe(consensus, lo);
            assertLe(consensus, hi);
            assertEq(consensus, MedianReference.lowerMedian(column, weights));
            if (majority < 3) assertEq(consensus, column[majority], "a majority of stake decides alone");
        }
    }

    // ─── claim ────────────────────────────────────────────────────────────────

    function test_claim_paysCreditedRewardsAndEmits() public {
        _commitBoth(0);
        _revealBoth(0);
        _finalizeAll(0);
        uint256 totalBefore = gym.totalClaimable();

        vm.expectEmit(address(gym));
        emit IWorldGymEvents.RewardClaimed(miner1, MINER1);
        vm.prank(miner1);
        assertEq(gym.claim(), MINER1);

        assertEq(token.balanceOf(miner1), MINER1);
        assertEq(gym.claimable(miner1), 0);
        assertEq(gym.claimedBy(miner1), MINER1);
        assertEq(gym.totalClaimable(), totalBefore - MINER1);
        assertEq(token.balanceOf(address(gym)), gym.totalClaimable() + gym.carry());
    }

    function test_claim_failsIfNothingToClaim() public {
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymNothingToClaim.selector, stranger));
        vm.prank(stranger);
        gym.claim();
    }

    function test_claim_failsIfClaimedTwice() public {
        _commitBoth(0);
        _revealBoth(0);
        _finalizeAll(0);
        vm.startPrank(validator2);
        gym.claim();
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymNothingToClaim.selector, validator2));
        gym.claim();
        vm.stopPrank();
        assertEq(gym.claimedBy(validator2), VALIDATOR2);
    }

    function test_claim_accumulatesAcrossEpochs() public {
        _commitBoth(0);
        _revealBoth(0);
        _finalizeAll(0);
        _submitBatches();
        _commitBoth(1);
        _revealBoth(1);
        _finalizeAll(1);
        uint256 owed = gym.claimable(miner2);
        assertGt(owed, MINER2);
        vm.prank(miner2);
        assertEq(gym.claim(), owed);
        assertEq(gym.claimedBy(miner2), owed);
    }
}
