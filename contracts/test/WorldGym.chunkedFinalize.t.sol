// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IWorldGym} from "../src/interfaces/IWorldGym.sol";
import {BaseTest} from "./utils/BaseTest.sol";
import {LanePacking} from "./utils/LanePacking.sol";

/// @notice Finalizing in chunks of any size, over any number of blocks, credits exactly what one
/// call does. The epoch spans two lane words (20 batches, two of them FRAUD), two environments
/// with different owners and weights, three miners and four validators, one of which never
/// reveals (and is slashed).
contract WorldGymChunkedFinalizeTest is BaseTest {
    uint256 internal constant BATCHES = 20;

    address internal envOwner2 = makeAddr("envOwner2");
    address internal miner3 = makeAddr("miner3");
    address internal validator4 = makeAddr("validator4");
    address[] internal actors;

    /// @dev Everything finalization writes that a participant can observe.
    struct Outcome {
        uint256[] claimable;
        uint256[] consensus;
        uint256[] agreement;
        uint256[5] settlement;
        uint256[6] environments;
        uint256[3] minerStakes;
        uint256 carry;
        uint256 unallocated;
        uint256 totalClaimable;
        uint256 slashedStake;
        uint256 supply;
    }

    function setUp() public override {
        super.setUp();
        uint256 env2 = _registerEnv(envOwner2);
        address[3] memory miners = [miner1, miner2, miner3];
        for (uint256 b; b < BATCHES; ++b) {
            _submitTo(miners[b % 3], b % 2 == 0 ? envId : env2, 1 + (b * 7) % 64);
        }
        address[4] memory validators = [validator1, validator2, validator3, validator4];
        uint256[4] memory stakes = [uint256(3_000e18), 1_000e18, 2_000e18, 1_500e18];
        for (uint256 v; v < 4; ++v) {
            _stake(validators[v], stakes[v]);
        }
        _rollToWindow(0, IWorldGym.Window.Commit);
        for (uint256 v; v < 4; ++v) {
            _commitWith(validators[v], 0, _scoresOf(v), _weightsOf(v), bytes32(v));
        }
        _rollToWindow(0, IWorldGym.Window.Reveal);
        for (uint256 v; v < 3; ++v) {
            _revealWith(validators[v], 0, _scoresOf(v), _weightsOf(v), bytes32(v)); // validator4 stays silent
        }
        _rollToWindow(0, IWorldGym.Window.Finalize);
        actors = [miner1, miner2, miner3, envOwner, envOwner2, validator1, validator2, validator3, validator4];
    }

    /// @dev Validators agree on most lanes (a few zero scores, batches 3 and 13 FRAUD) and each errs
    /// on some batches with another digest or score.
    function _scoresOf(uint256 v) internal pure returns (uint256[] memory lanes) {
        lanes = new uint256[](BATCHES);
        for (uint256 b; b < BATCHES; ++b) {
            uint256 score = (b % 5 == 4) ? 0 : 2_000 + (b * 1_234) % 8_000;
            if (b % 10 == 3) score = 0x3FFF;
            uint256 r = uint256(keccak256(abi.encode(v, b)));
            uint256 digest = b % 128;
            if (r % 4 == 0) digest = (digest + 1) % 128;
            if (r % 7 == 0 && score <= 9_000) score += 1_000;
            lanes[b] = LanePacking.lane(score, digest);
        }
    }

    /// @dev Every validator lists both environments, with different weights.
    function _weightsOf(uint256 v) internal view returns (uint256[] memory) {
        return LanePacking.packWeights(_u(envId, envId + 1), _u(4_000 + v * 2_000, 9_000 - v * 1_000));
    }

    function _outcome() internal view returns (Outcome memory o) {
        o.claimable = new uint256[](actors.length);
        for (uint256 i; i < actors.length; ++i) {
            o.claimable[i] = gym.claimable(actors[i]);
        }
        o.consensus = new uint256[](BATCHES);
        for (uint256 b; b < BATCHES; ++b) {
            o.consensus[b] = gym.consensusOf(0, b);
        }
        o.agreement = new uint256[](4);
        address[] memory validators = gym.validatorsOf(0);
        for (uint256 v; v < validators.length; ++v) {
            (,,, o.agreement[v]) = gym.commitmentRecord(0, validators[v]);
        }
        (o.settlement[0], o.settlement[1], o.settlement[2], o.settlement[3], o.settlement[4]) = gym.settlement(0);
        for (uint256 e; e < 2; ++e) {
            bool weighed;
            (o.environments[3 * e], o.environments[3 * e + 1], weighed) = gym.environmentWeightOf(0, envId + e);
            o.environments[3 * e + 2] = weighed ? 1 : 0;
        }
        address[3] memory miners = [miner1, miner2, miner3];
        for (uint256 m; m < 3; ++m) {
            o.minerStakes[m] = staking.stakeOf(miners[m]);
        }
        o.carry = gym.carry();
        o.unallocated = gym.unallocated();
        o.totalClaimable = gym.totalClaimable();
        o.slashedStake = staking.stakeOf(validator4);
        o.supply = token.totalSupply();
    }

    function testFuzz_finalize_chunkedEqualsSingleCall(uint256 seed, uint256 maxChunk) public {
        maxChunk = bound(maxChunk, 1, 2 * BATCHES + 5);
        uint256 snapshot = vm.snapshotState();
        assertTrue(gym.finalize(0, 1_000));
        Outcome memory whole = _outcome();
        vm.revertToState(snapshot);

        uint256 calls;
        bool done;
        while (!done) {
            uint256 steps = bound(uint256(keccak256(abi.encode(seed, calls))), 1, maxChunk);
            vm.roll(_now() + uint256(keccak256(abi.encode(seed, calls, "blocks"))) % 3);
            done = gym.finalize(0, steps);
            ++calls;
            assertLe(calls, 2 * BATCHES + 5, "every call must make progress");
        }
        Outcome memory chunked = _outcome();

        assertEq(abi.encode(chunked), abi.encode(whole));
        assertGt(whole.claimable[0], 0, "the epoch paid miners");
        assertLt(whole.minerStakes[0], 100e18, "FRAUD slashed a miner");
        assertLt(whole.slashedStake, 1_500e18, "the silent validator was slashed");
        assertEq(whole.unallocated, 0);
    }

    function test_finalize_oneStepAtATimeEqualsSingleCall() public {
        uint256 snapshot = vm.snapshotState();
        gym.finalize(0, 1_000);
        Outcome memory whole = _outcome();
        vm.revertToState(snapshot);
        // 20 scored + 1 settlement + 20 paid + 4 validators.
        for (uint256 i = 1; i < 45; ++i) {
            assertFalse(gym.finalize(0, 1));
        }
        assertTrue(gym.finalize(0, 1));
        assertEq(abi.encode(_outcome()), abi.encode(whole));
    }
}
