// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IStaking} from "../src/interfaces/IStaking.sol";
import {IWorldGym} from "../src/interfaces/IWorldGym.sol";
import {IWorldGymEvents} from "../src/interfaces/IWorldGymEvents.sol";
import {EpochTest} from "./utils/EpochTest.sol";
import {LanePacking} from "./utils/LanePacking.sol";
import {MedianReference} from "./utils/MedianReference.sol";

/// @notice The reward rules of protocol v2 on the reference epoch's three batches (miner1: 10 and 5
/// traces, miner2: 20; validator1 stakes 3,000, validator2 1,000): FRAUD consensus and miner slashes,
/// exact-lane validator credit, and environment weights. Amounts are worked out by hand in comments.
contract WorldGymRewardsTest is EpochTest {
    uint256 internal constant FRAUD = 0x3FFF;

    address internal envOwner2 = makeAddr("envOwner2");

    function setUp() public override {
        super.setUp();
        _prepareEpoch();
    }

    /// @dev Both validators commit and reveal `lanes1` / `lanes2` with `weights1` / `weights2` for
    /// epoch 0; leaves the chain at the first block of its finalize window.
    function _play(
        uint256[] memory lanes1,
        uint256[] memory weights1,
        uint256[] memory lanes2,
        uint256[] memory weights2
    ) internal {
        _rollToWindow(0, IWorldGym.Window.Commit);
        _commitWith(validator1, 0, lanes1, weights1, SALT1);
        _commitWith(validator2, 0, lanes2, weights2, SALT2);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        _revealWith(validator1, 0, lanes1, weights1, SALT1);
        _revealWith(validator2, 0, lanes2, weights2, SALT2);
        _rollToWindow(0, IWorldGym.Window.Finalize);
    }

    function _agreement(address validator) internal view returns (uint256 agreement) {
        (,,, agreement) = gym.commitmentRecord(0, validator);
    }

    // ─── FRAUD ────────────────────────────────────────────────────────────────

    /// Both validators flag batch 1 (miner2, 20 traces) as FRAUD; they agree on batch 0 and differ on 2.
    /// Consensus [8000/5, FRAUD/0, 10000/1]; weights 80,000, 0, 50,000 (B = 130,000).
    /// miner2 loses 50% of its 100 WGT bond; the 50 WGT join the carry, which the epoch settles right
    /// after scoring: pot 1,050 WGT = 630 miners + 262.5 validators + 157.5 environment.
    /// Credits: validator1 80,000 + 20 x 10,000 + 50,000 = 330,000; validator2 80,000 + 200,000 = 280,000
    /// (stake x credit: 9.9e26 + 2.8e26 = 1.27e27).
    ///   miner1: floor(630e18 x 80,000 / B) + floor(630e18 x 50,000 / B) = 387,692,307,692,307,692,307
    ///           + 242,307,692,307,692,307,692
    ///   owner:  floor(157.5e18 x 80,000 / B) + floor(157.5e18 x 50,000 / B) = 96,923,076,923,076,923,076
    ///           + 60,576,923,076,923,076,923
    ///   validator1: floor(262.5e18 x 9.9e26 / 1.27e27) = 204,625,984,251,968,503,937
    ///   validator2: floor(262.5e18 x 2.8e26 / 1.27e27) = 57,874,015,748,031,496,062; 3 wei of dust.
    function test_finalize_fraudConsensusSlashesTheMinerAndPaysItNothing() public {
        uint256[] memory lanes1 = _u(_lane(8_000, 5), _lane(FRAUD, 0), _lane(10_000, 1));
        uint256[] memory lanes2 = _u(_lane(8_000, 5), _lane(FRAUD, 0), _lane(9_000, 1));
        _play(lanes1, _fullWeights(), lanes2, _fullWeights());

        vm.expectEmit(address(gym));
        emit IWorldGymEvents.BatchScored(0, 1, FRAUD, 0, 0);
        vm.expectEmit(address(staking));
        emit IStaking.Slashed(miner2, 50e18, address(gym), 5_000);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.MinerSlashed(0, 1, miner2, 50e18);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.EpochSettled(0, 1_000e18, 50e18, 630e18, 262.5e18, 157.5e18);
        _finalizeAll(0);

        assertEq(gym.consensusOf(0, 1), (FRAUD << 7));
        assertEq(staking.stakeOf(miner2), 50e18);
        assertEq(gym.claimable(miner2), 0, "a FRAUD batch pays its miner nothing");
        assertEq(gym.claimable(miner1), 387_692_307_692_307_692_307 + 242_307_692_307_692_307_692);
        assertEq(gym.claimable(envOwner), 96_923_076_923_076_923_076 + 60_576_923_076_923_076_923);
        assertEq(_agreement(validator1), 330_000);
        assertEq(_agreement(validator2), 280_000);
        assertEq(gym.claimable(validator1), 204_625_984_251_968_503_937);
        assertEq(gym.claimable(validator2), 57_874_015_748_031_496_062);
        assertEq(gym.carry(), 3);
        assertEq(token.balanceOf(address(gym)), gym.totalClaimable() + gym.carry());
        (, uint256 batchWeight,) = gym.environmentWeightOf(0, envId);
        assertEq(batchWeight, 130_000);
    }

    /// A FRAUD flag from a minority of stake is just the highest lane: the majority's verdict stands,
    /// nobody is slashed, and the flagger earns nothing for that batch.
    function test_finalize_fraudFromAMinorityIsOutvoted() public {
        _play(_scores1(), _fullWeights(), _u(_lane(8_000, 5), _lane(FRAUD, 0), _lane(10_000, 1)), _fullWeights());
        vm.recordLogs();
        _finalizeAll(0);
        assertEq(gym.consensusOf(0, 1), _lane(5_000, 9));
        assertEq(staking.stakeOf(miner2), 100e18);
        assertGt(gym.claimable(miner2), 0);
        assertEq(_agreement(validator2), 80_000 + 50_000);
    }

    /// With equal stakes, a FRAUD flag from exactly half is not a majority (the lower median).
    function test_finalize_fraudFromExactlyHalfTheStakeIsNotFraud() public {
        _stake(validator2, STAKE1 - STAKE2);
        _play(_scores1(), _fullWeights(), _u(_lane(FRAUD, 1), _lane(FRAUD, 1), _lane(FRAUD, 1)), _fullWeights());
        _finalizeAll(0);
        for (uint256 b; b < 3; ++b) {
            assertEq(gym.consensusOf(0, b), _scores1()[b]);
        }
        assertEq(staking.stakeOf(miner1) + staking.stakeOf(miner2), 200e18);
    }

    function test_finalize_fraudSlashesUnbondingStakeToo() public {
        vm.prank(miner2);
        staking.requestUnbond(40e18);
        _play(
            _u(_lane(8_000, 5), _lane(FRAUD, 0), _lane(10_000, 1)),
            _fullWeights(),
            _u(_lane(8_000, 5), _lane(FRAUD, 0), _lane(10_000, 1)),
            _fullWeights()
        );
        _finalizeAll(0);
        (uint256 unbonding,,) = staking.unbondingOf(miner2);
        assertEq(staking.stakeOf(miner2), 30e18);
        assertEq(unbonding, 20e18);
    }

    function test_finalize_fraudWithoutMinerSlashOnlyZeroesTheBatch() public {
        cfg.params.minerSlashBps = 0;
        _deploy(cfg);
        envId = _registerEnv(envOwner);
        modelId = _registerModel();
        _prepareEpoch();
        uint256[] memory lanes = _u(_lane(8_000, 5), _lane(FRAUD, 0), _lane(10_000, 1));
        _play(lanes, _fullWeights(), lanes, _fullWeights());
        vm.recordLogs();
        _finalizeAll(0);
        assertEq(staking.stakeOf(miner2), 100e18);
        assertEq(gym.claimable(miner2), 0);
    }

    // ─── exact lanes ──────────────────────────────────────────────────────────

    /// The same scores with another digest earn nothing: a validator is credited only for the
    /// batches whose consensus lane it revealed bit for bit.
    function test_finalize_creditsOnlyExactLanes() public {
        uint256[] memory copied = _u(_lane(8_000, 5), _lane(5_000, 9), _lane(10_000, 2)); // digest of 2 differs
        _play(_scores1(), _fullWeights(), copied, _fullWeights());
        _finalizeAll(0);
        assertEq(_agreement(validator1), 230_000);
        assertEq(_agreement(validator2), 180_000);
    }

    function test_finalize_constantRevealsEarnNothing() public {
        uint256[] memory constant_ = _u(_lane(10_000, 0), _lane(10_000, 0), _lane(10_000, 0));
        _stake(validator3, 500e18 + 1_000e18);
        _rollToWindow(0, IWorldGym.Window.Commit);
        _commit(validator1, 0, _scores1(), SALT1);
        _commit(validator2, 0, _scores1(), SALT2);
        _commit(validator3, 0, constant_, SALT3);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        _reveal(validator1, 0, _scores1(), SALT1);
        _reveal(validator2, 0, _scores1(), SALT2);
        _reveal(validator3, 0, constant_, SALT3);
        _rollToWindow(0, IWorldGym.Window.Finalize);
        _finalizeAll(0);
        assertEq(_agreement(validator3), 0);
        assertEq(gym.claimable(validator3), 0);
        assertGt(gym.claimable(validator2), 0);
    }

    // ─── environment weights ──────────────────────────────────────────────────

    /// Batches 0 and 2 in environment 1, batch 1 in environment 2 (owned by envOwner2); all lanes
    /// agree ([8000, 5000, 10000]: B1 = 130,000, B2 = 100,000).
    /// validator1 (3,000) weighs env 1 at 6,000 and env 2 at 2,000; validator2 (1,000) env 1 at 10,000
    /// and does not list env 2. Medians: W1 = 6,000, W2 = 2,000 (validator2's implicit 0 is outvoted);
    /// sumW = 8,000. Pots 600 / 250 / 150 WGT.
    ///   batch 0: floor(600e18 x 6,000 x 80,000 / (8,000 x 130,000)) = 276,923,076,923,076,923,076
    ///   batch 1: floor(600e18 x 2,000 x 100,000 / (8,000 x 100,000)) = 150e18
    ///   batch 2: floor(600e18 x 6,000 x 50,000 / (8,000 x 130,000)) = 173,076,923,076,923,076,923
    ///   owners:  69,230,769,230,769,230,769 + 43,269,230,769,230,769,230 (env 1), 37.5e18 (env 2)
    function test_finalize_sharesThePotsByEnvironmentWeight() public {
        _setUpTwoEnvironments();
        uint256[] memory w1 = LanePacking.packWeights(_u(1, 2), _u(6_000, 2_000));
        uint256[] memory w2 = LanePacking.packWeights(_u(1), _u(10_000));
        _play(_scores1(), w1, _scores1(), w2);

        vm.expectEmit(address(gym));
        emit IWorldGymEvents.EnvironmentWeighted(0, 1, 6_000);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.BatchScored(0, 0, 8_000, 5, 80_000);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.EnvironmentWeighted(0, 2, 2_000);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.BatchScored(0, 1, 5_000, 9, 100_000);
        _finalizeAll(0);

        assertEq(gym.claimable(miner1), 276_923_076_923_076_923_076 + 173_076_923_076_923_076_923);
        assertEq(gym.claimable(miner2), 150e18);
        assertEq(gym.claimable(envOwner), 69_230_769_230_769_230_769 + 43_269_230_769_230_769_230);
        assertEq(gym.claimable(envOwner2), 37.5e18);
        (uint256 totalEnvWeight,,,,) = gym.settlement(0);
        assertEq(totalEnvWeight, 8_000);
        (uint256 w, uint256 b, bool weighed) = gym.environmentWeightOf(0, 2);
        assertEq(abi.encode(w, b, weighed), abi.encode(2_000, 100_000, true));
    }

    /// An environment the stake majority weighs 0 earns nothing, and its share goes to the others.
    function test_finalize_anEnvironmentWeighedZeroEarnsNothing() public {
        _setUpTwoEnvironments();
        uint256[] memory weights = LanePacking.packWeights(_u(1, 2), _u(5_000, 0));
        _play(_scores1(), weights, _scores1(), weights);
        _finalizeAll(0);
        assertEq(gym.claimable(miner2), 0, "batch 1 is in environment 2");
        assertEq(gym.claimable(envOwner2), 0);
        // Environment 1 takes the whole pots: floor(600e18 x w / 130,000) per batch.
        assertEq(gym.claimable(miner1), 369_230_769_230_769_230_769 + 230_769_230_769_230_769_230);
        (uint256 totalEnvWeight,,,,) = gym.settlement(0);
        assertEq(totalEnvWeight, 5_000);
    }

    /// When every environment weighs 0, the miners' and owners' shares are not minted; validators,
    /// who checked the batches, are still paid.
    function test_finalize_noEnvironmentWeightMintsOnlyTheValidatorShare() public {
        uint256 supply = token.totalSupply();
        _play(_scores1(), new uint256[](0), _scores1(), new uint256[](0));
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.EnvironmentWeighted(0, envId, 0);
        _finalizeAll(0);
        assertEq(token.totalSupply() - supply, 250e18);
        assertEq(gym.claimable(miner1) + gym.claimable(miner2) + gym.claimable(envOwner), 0);
        assertEq(gym.claimable(validator1), 187.5e18);
        assertEq(gym.claimable(validator2), 62.5e18);
    }

    function testFuzz_finalize_environmentWeightIsTheStakeWeightedMedian(
        uint256 w1,
        uint256 w2,
        uint256 w3,
        uint256 stake3,
        uint256 listed
    ) public {
        uint256[] memory weights = new uint256[](3);
        (weights[0], weights[1], weights[2]) = (bound(w1, 0, 10_000), bound(w2, 0, 10_000), bound(w3, 0, 10_000));
        listed = bound(listed, 0, 7); // bit v set: validator v lists environment 1
        stake3 = bound(stake3, 1_000e18, 20_000e18);
        _stake(validator3, stake3);
        address[3] memory vals = [validator1, validator2, validator3];
        uint256[] memory packed = new uint256[](3);
        _rollToWindow(0, IWorldGym.Window.Commit);
        for (uint256 v; v < 3; ++v) {
            if (listed & (1 << v) == 0) weights[v] = 0;
            packed[v] = listed & (1 << v) == 0 ? 0 : LanePacking.packWeights(_u(1), _u(weights[v]))[0];
            _commitWith(vals[v], 0, _scores1(), _words(packed[v]), bytes32(v));
        }
        _rollToWindow(0, IWorldGym.Window.Reveal);
        for (uint256 v; v < 3; ++v) {
            _revealWith(vals[v], 0, _scores1(), _words(packed[v]), bytes32(v));
        }
        _rollToWindow(0, IWorldGym.Window.Finalize);
        _finalizeAll(0);
        (uint256 w,,) = gym.environmentWeightOf(0, envId);
        assertEq(w, MedianReference.lowerMedian(weights, _u(STAKE1, STAKE2, stake3)));
    }

    // ─── helpers ──────────────────────────────────────────────────────────────

    /// @dev Registers environment 2 (owner envOwner2) and moves batch 1 there: the three reference
    /// batches are submitted again in a fresh epoch layout.
    function _setUpTwoEnvironments() internal {
        _deploy(cfg);
        envId = _registerEnv(envOwner);
        uint256 env2 = _registerEnv(envOwner2);
        modelId = _registerModel();
        _submitTo(miner1, envId, 10);
        _submitTo(miner2, env2, 20);
        _submitTo(miner1, envId, 5);
        _stake(validator1, STAKE1);
        _stake(validator2, STAKE2);
    }

    function _words(uint256 word) internal pure returns (uint256[] memory words) {
        if (word == 0) return new uint256[](0);
        words = new uint256[](1);
        words[0] = word;
    }
}
