// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IEnvironmentRegistry} from "../src/interfaces/IEnvironmentRegistry.sol";
import {IWorldGym} from "../src/interfaces/IWorldGym.sol";
import {IWorldGymEvents} from "../src/interfaces/IWorldGymEvents.sol";
import {BaseTest} from "./utils/BaseTest.sol";

contract WorldGymSubmitBatchTest is BaseTest {
    function _trySubmit(address miner, uint256 env, uint256 version, bytes memory cid, uint256 traces, uint256 model)
        internal
    {
        vm.prank(miner);
        gym.submitBatch(env, version, cid, traces, model);
    }

    function test_submitBatch_recordsBatchPokesSeedAndEmits() public {
        bytes memory cid = _cidV1(0x55);
        uint256 source = gym.epochStart(0) - 1;
        bytes32 seed = bytes32(bytes24(keccak256(abi.encode(blockhash(source), 0, block.chainid, address(gym)))));
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.SeedSet(0, seed, source);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.BatchSubmitted(0, 0, miner1, envId, 1, 0, 12, modelId, cid);
        vm.prank(miner1);
        (uint256 epoch, uint256 index, uint256 sequence) = gym.submitBatch(envId, 1, cid, 12, modelId);

        assertEq(epoch, 0);
        assertEq(index, 0);
        assertEq(sequence, 0);
        assertEq(gym.seedOf(0), seed);
        assertEq(gym.batchCount(0), 1);
        assertEq(gym.minerBatchCount(0, miner1), 1);
        (address miner, uint256 env, uint256 version, uint256 traces) = gym.batch(0, 0);
        assertEq(miner, miner1);
        assertEq(env, envId);
        assertEq(version, 1);
        assertEq(traces, 12);
    }

    function test_submitBatch_numbersBatchesPerEpochAndPerMiner() public {
        vm.prank(miner1);
        (, uint256 i0, uint256 s0) = gym.submitBatch(envId, 1, _cid(), 1, modelId);
        vm.prank(miner2);
        (, uint256 i1, uint256 s1) = gym.submitBatch(envId, 1, _cid(), 1, modelId);
        vm.prank(miner1);
        (, uint256 i2, uint256 s2) = gym.submitBatch(envId, 1, _cid(), 1, modelId);
        assertEq(abi.encode(i0, i1, i2), abi.encode(0, 1, 2));
        assertEq(abi.encode(s0, s1, s2), abi.encode(0, 0, 1));

        // A new epoch starts both counts again.
        vm.roll(gym.epochStart(1));
        vm.prank(miner1);
        (uint256 epoch, uint256 index, uint256 sequence) = gym.submitBatch(envId, 1, _cid(), 1, modelId);
        assertEq(abi.encode(epoch, index, sequence), abi.encode(1, 0, 0));
        assertEq(gym.batchCount(0), 3);
        assertEq(gym.batchCount(1), 1);
        assertEq(gym.minerBatchCount(1, miner1), 1);
        assertEq(gym.minerBatchCount(0, miner1), 0, "only the latest epoch's count is kept");
    }

    function test_submitBatch_acceptsAnyPublishedVersion() public {
        vm.prank(envOwner);
        registry.publishVersion(envId, _cid());
        _trySubmit(miner1, envId, 1, _cid(), 1, modelId);
        _trySubmit(miner1, envId, 2, _cid(), 1, modelId);
        (,, uint256 version,) = gym.batch(0, 1);
        assertEq(version, 2);
    }

    function test_submitBatch_failsIfTraceCountZero() public {
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymTraceCountOutOfRange.selector, 0, 64));
        _trySubmit(miner1, envId, 1, _cid(), 0, modelId);
    }

    function test_submitBatch_failsIfTraceCountOverCap() public {
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymTraceCountOutOfRange.selector, 65, 64));
        _trySubmit(miner1, envId, 1, _cid(), 65, modelId);
    }

    function testFuzz_submitBatch_enforcesTraceCountRange(uint256 traces) public {
        traces = bound(traces, 0, 1_000);
        if (traces == 0 || traces > 64) {
            vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymTraceCountOutOfRange.selector, traces, 64));
        }
        _trySubmit(miner1, envId, 1, _cid(), traces, modelId);
        if (traces != 0 && traces <= 64) {
            (,,, uint256 stored) = gym.batch(0, 0);
            assertEq(stored, traces);
        }
    }

    function test_submitBatch_failsIfCidInvalid() public {
        bytes memory bad = abi.encodePacked(hex"0112", bytes32(0)); // CIDv1 with an unknown codec, too short
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymInvalidBatchCid.selector, bad));
        _trySubmit(miner1, envId, 1, bad, 1, modelId);
    }

    function test_submitBatch_failsIfEpochFull() public {
        // 40 batches per epoch at 8 per miner: five miners fill it.
        for (uint256 m; m < 5; ++m) {
            address miner = makeAddr(string(abi.encodePacked("filler", m)));
            _bondMiner(miner);
            for (uint256 b; b < 8; ++b) {
                _trySubmit(miner, envId, 1, _cid(), 1, modelId);
            }
        }
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymEpochFull.selector, 0, 40));
        _trySubmit(miner1, envId, 1, _cid(), 1, modelId);
    }

    function test_submitBatch_failsIfMinerCapReached() public {
        for (uint256 b; b < 8; ++b) {
            _trySubmit(miner1, envId, 1, _cid(), 1, modelId);
        }
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymMinerCapReached.selector, 0, miner1, 8));
        _trySubmit(miner1, envId, 1, _cid(), 1, modelId);
        // Other miners are unaffected.
        _trySubmit(miner2, envId, 1, _cid(), 1, modelId);
    }

    function test_submitBatch_failsIfEnvironmentInactive() public {
        uint256 at = _now();
        vm.prank(envOwner);
        registry.deactivate(envId);
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryInactive.selector, envId, at));
        _trySubmit(miner1, envId, 1, _cid(), 1, modelId);
    }

    function test_submitBatch_failsIfEnvironmentUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryUnknownEnvironment.selector, 7, 1));
        _trySubmit(miner1, 7, 1, _cid(), 1, modelId);
    }

    function test_submitBatch_failsIfVersionUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryUnknownVersion.selector, envId, 2, 1));
        _trySubmit(miner1, envId, 2, _cid(), 1, modelId);
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryUnknownVersion.selector, envId, 0, 1));
        _trySubmit(miner1, envId, 0, _cid(), 1, modelId);
    }

    function test_submitBatch_failsIfModelUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymUnknownModel.selector, 5, 1));
        _trySubmit(miner1, envId, 1, _cid(), 1, 5);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymUnknownModel.selector, 0, 1));
        _trySubmit(miner1, envId, 1, _cid(), 1, 0);
    }

    function test_submitBatch_acceptsTheLatestModelAndMaxModelLagBeforeIt() public {
        for (uint256 i; i < 3; ++i) {
            _registerModel(); // models 2, 3, 4; the lag is 2
        }
        _trySubmit(miner1, envId, 1, _cid(), 1, 4);
        _trySubmit(miner1, envId, 1, _cid(), 1, 3);
        _trySubmit(miner1, envId, 1, _cid(), 1, 2);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymStaleModel.selector, 1, 4, 2));
        _trySubmit(miner1, envId, 1, _cid(), 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymUnknownModel.selector, 5, 4));
        _trySubmit(miner1, envId, 1, _cid(), 1, 5);
    }

    function testFuzz_submitBatch_enforcesModelFreshness(uint256 registered, uint256 model) public {
        registered = bound(registered, 1, 12);
        for (uint256 i = 1; i < registered; ++i) {
            _registerModel();
        }
        model = bound(model, 0, registered + 2);
        if (model == 0 || model > registered) {
            vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymUnknownModel.selector, model, registered));
        } else if (registered - model > 2) {
            vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymStaleModel.selector, model, registered, 2));
        }
        _trySubmit(miner1, envId, 1, _cid(), 1, model);
    }

    // ─── miner bonds ──────────────────────────────────────────────────────────

    function test_submitBatch_failsIfMinerNotBonded() public {
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymMinerNotBonded.selector, stranger, 0, 100e18));
        _trySubmit(stranger, envId, 1, _cid(), 1, modelId);
        _stake(stranger, 99e18);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymMinerNotBonded.selector, stranger, 99e18, 100e18));
        _trySubmit(stranger, envId, 1, _cid(), 1, modelId);
        _stake(stranger, 1e18);
        _trySubmit(stranger, envId, 1, _cid(), 1, modelId);
        assertEq(gym.batchCount(0), 1);
    }

    function test_submitBatch_failsOnceTheBondIsUnbonding() public {
        vm.prank(miner1);
        staking.requestUnbond(1e18);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymMinerNotBonded.selector, miner1, 99e18, 100e18));
        _trySubmit(miner1, envId, 1, _cid(), 1, modelId);
    }

    function test_submitBatch_acceptsUnbondedMinersWhenTheBondIsZero() public {
        cfg.params.minerStake = 0;
        _deploy(cfg);
        envId = _registerEnv(envOwner);
        modelId = _registerModel();
        _trySubmit(stranger, envId, 1, _cid(), 1, modelId);
        assertEq(gym.batchCount(0), 1);
    }

    // ─── seeds ────────────────────────────────────────────────────────────────

    /// With epochs longer than 256 blocks, an epoch whose seed nobody fixed in time is void.
    function test_submitBatch_failsIfTheSeedExpired() public {
        cfg.params.epochLength = 400;
        _deploy(cfg);
        envId = _registerEnv(envOwner);
        modelId = _registerModel();
        _bondMiner(miner1);
        uint256 source = gym.epochStart(1) - 1;
        vm.roll(source + 256);
        _trySubmit(miner1, envId, 1, _cid(), 1, modelId); // the source hash is still there
        assertEq(gym.batchCount(1), 1);
        source = gym.epochStart(2) - 1;
        vm.roll(source + 257);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymSeedExpired.selector, 2, source));
        _trySubmit(miner1, envId, 1, _cid(), 1, modelId);
    }

    /// The seed comes from the block before the epoch, so it exists from the epoch's first block on
    /// (WorldGymSeedNotYetAvailable is out of submitBatch's reach; see the pokeSeed tests).
    function test_submitBatch_acceptsEpochsFirstBlock() public {
        uint256 start = gym.epochStart(1);
        vm.roll(start);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.SeedSet(
            1, bytes32(bytes24(keccak256(abi.encode(blockhash(start - 1), 1, block.chainid, address(gym))))), start - 1
        );
        _trySubmit(miner1, envId, 1, _cid(), 1, modelId);
        assertEq(gym.batchCount(1), 1);
    }

    function test_submitBatch_acceptsGenesisBlock() public {
        vm.roll(gym.genesisBlock());
        _trySubmit(miner1, envId, 1, _cid(), 1, modelId);
        assertEq(gym.batchCount(0), 1);
    }

    function test_batch_failsIfIndexUnknown() public {
        _trySubmit(miner1, envId, 1, _cid(), 1, modelId);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymUnknownBatch.selector, 0, 1, 1));
        gym.batch(0, 1);
    }
}
