// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IStaking} from "../src/interfaces/IStaking.sol";
import {IWorldGym} from "../src/interfaces/IWorldGym.sol";
import {IWorldGymEvents} from "../src/interfaces/IWorldGymEvents.sol";
import {BaseTest} from "./utils/BaseTest.sol";
import {Deployer, System} from "./utils/Deployer.sol";

/// @notice Construction, parameters, the clock, seeds and pure helpers of WorldGym.
contract WorldGymTest is BaseTest {
    function _newGym(IWorldGym.Params memory p) internal returns (IWorldGym) {
        return Deployer.newGym(System(token, registry, staking, models, gym), p);
    }

    // ─── constructor ──────────────────────────────────────────────────────────

    function test_constructor_failsIfSplitDoesNotSumToWhole() public {
        IWorldGym.Params memory p = Deployer.devnetParams();
        p.environmentBps = 1_000;
        vm.expectRevert(
            abi.encodeWithSelector(IWorldGym.WorldGymInvalidSplit.selector, 6_000, 2_500, 1_000, 1_000, 5_000)
        );
        _newGym(p);
    }

    function test_constructor_failsIfSlashAboveWhole() public {
        IWorldGym.Params memory p = Deployer.devnetParams();
        p.slashBps = 10_001;
        vm.expectRevert(
            abi.encodeWithSelector(IWorldGym.WorldGymInvalidSplit.selector, 6_000, 2_500, 1_500, 10_001, 5_000)
        );
        _newGym(p);
    }

    function test_constructor_failsIfMinerSlashAboveWhole() public {
        IWorldGym.Params memory p = Deployer.devnetParams();
        p.minerSlashBps = 10_001;
        vm.expectRevert(
            abi.encodeWithSelector(IWorldGym.WorldGymInvalidSplit.selector, 6_000, 2_500, 1_500, 1_000, 10_001)
        );
        _newGym(p);
    }

    function test_constructor_failsIfBondedMinersCouldUnbondBeforeFinalization() public {
        IStaking quick = Deployer.newStaking(token, 1_000e18, 2);
        IWorldGym.Params memory p = Deployer.devnetParams();
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymUnbondingTooShort.selector, 2, 3));
        Deployer.newGym(System(token, registry, quick, models, gym), p);
        // Without a bond there is nothing to protect.
        p.minerStake = 0;
        Deployer.newGym(System(token, registry, quick, models, gym), p);
        assertEq(gym.MIN_MINER_UNBONDING_EPOCHS(), 3);
    }

    function test_constructor_failsIfWindowsInvalid() public {
        uint64[3][3] memory bad = [[uint64(20), 0, 5], [uint64(20), 5, 0], [uint64(20), 11, 10]];
        for (uint256 i; i < bad.length; ++i) {
            IWorldGym.Params memory p = Deployer.devnetParams();
            (p.epochLength, p.commitBlocks, p.revealBlocks) = (bad[i][0], bad[i][1], bad[i][2]);
            vm.expectRevert(
                abi.encodeWithSelector(IWorldGym.WorldGymInvalidWindows.selector, bad[i][0], bad[i][1], bad[i][2])
            );
            _newGym(p);
        }
    }

    function test_constructor_acceptsWindowsFillingTheEpoch() public {
        IWorldGym.Params memory p = Deployer.devnetParams();
        (p.commitBlocks, p.revealBlocks) = (10, 10);
        IWorldGym g = _newGym(p);
        (uint256 opensAt,) = g.windowOf(0, IWorldGym.Window.Finalize);
        assertEq(opensAt, g.epochStart(2));
    }

    function test_constructor_failsIfCapsInvalid() public {
        uint32[4][5] memory bad = [
            [uint32(0), 8, 64, 8],
            [uint32(40), 0, 64, 8],
            [uint32(40), 8, 0, 8],
            [uint32(40), 8, 64, 0],
            [uint32(40), 8, 64, 257]
        ];
        for (uint256 i; i < bad.length; ++i) {
            IWorldGym.Params memory p = Deployer.devnetParams();
            (p.maxBatchesPerEpoch, p.maxBatchesPerMiner, p.maxTracesPerBatch, p.maxValidatorsPerEpoch) =
            (bad[i][0], bad[i][1], bad[i][2], bad[i][3]);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IWorldGym.WorldGymInvalidCaps.selector, bad[i][0], bad[i][1], bad[i][2], bad[i][3]
                )
            );
            _newGym(p);
        }
    }

    function test_params_returnsDeploymentParams() public view {
        IWorldGym.Params memory p = gym.params();
        assertEq(abi.encode(p), abi.encode(Deployer.devnetParams()));
        assertEq(gym.SCORE_SCALE(), 10_000);
        assertEq(gym.FRAUD(), 0x3FFF);
        assertEq(gym.MAX_ENV_WEIGHTS(), 60);
    }

    // ─── clock ────────────────────────────────────────────────────────────────

    function test_clock_startsAtDeployBlock() public {
        uint256 genesis = gym.genesisBlock();
        assertEq(gym.epochStart(0), genesis);
        assertEq(gym.epochStart(3), genesis + 60);
        vm.roll(genesis + 19);
        assertEq(gym.currentEpoch(), 0);
        vm.roll(genesis + 20);
        assertEq(gym.currentEpoch(), 1);
    }

    function testFuzz_currentEpoch_countsWholeEpochs(uint256 blocks) public {
        blocks = bound(blocks, 0, 1e12);
        vm.roll(gym.genesisBlock() + blocks);
        assertEq(gym.currentEpoch(), blocks / 20);
    }

    function testFuzz_windowOf_partitionsAnEpochsLife(uint256 epoch) public view {
        epoch = bound(epoch, 0, 1e9);
        uint256 next = gym.epochStart(epoch + 1);
        (uint256 s0, uint256 s1) = gym.windowOf(epoch, IWorldGym.Window.Submit);
        (uint256 c0, uint256 c1) = gym.windowOf(epoch, IWorldGym.Window.Commit);
        (uint256 r0, uint256 r1) = gym.windowOf(epoch, IWorldGym.Window.Reveal);
        (uint256 f0, uint256 f1) = gym.windowOf(epoch, IWorldGym.Window.Finalize);
        assertEq(s0, gym.epochStart(epoch));
        assertEq(s1, next);
        assertEq(c0, next);
        assertEq(c1, next + 5);
        assertEq(r0, c1);
        assertEq(r1, next + 10);
        assertEq(f0, r1);
        assertEq(f1, type(uint256).max);
    }

    // ─── pokeSeed ─────────────────────────────────────────────────────────────

    function _expectedSeed(uint256 epoch, uint256 sourceBlock) internal view returns (bytes32) {
        return bytes32(bytes24(keccak256(abi.encode(blockhash(sourceBlock), epoch, block.chainid, address(gym)))));
    }

    function test_pokeSeed_fixesSeedFromHashOfBlockBeforeEpoch() public {
        uint256 source = gym.epochStart(1) - 1;
        vm.roll(source + 7);
        bytes32 expected = _expectedSeed(1, source);
        assertTrue(expected != 0);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.SeedSet(1, expected, source);
        assertEq(gym.pokeSeed(1), expected);
        assertEq(gym.seedOf(1), expected);
        assertEq(uint64(uint256(expected)), 0, "last 8 bytes are zero");
    }

    function test_pokeSeed_isIdempotent() public {
        vm.roll(gym.epochStart(1));
        bytes32 seed = gym.pokeSeed(1);
        vm.roll(_now() + 5);
        vm.recordLogs();
        assertEq(gym.pokeSeed(1), seed);
        assertEq(vm.getRecordedLogs().length, 0, "second poke emits nothing");
    }

    function test_pokeSeed_availableFromEpochsFirstBlock() public {
        uint256 start = gym.epochStart(2);
        vm.roll(start - 1);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymSeedNotYetAvailable.selector, 2, start - 1));
        gym.pokeSeed(2);
        vm.roll(start);
        assertEq(gym.pokeSeed(2), _expectedSeed(2, start - 1));
    }

    function test_pokeSeed_failsForFutureEpoch() public {
        uint256 source = gym.epochStart(5) - 1;
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymSeedNotYetAvailable.selector, 5, source));
        gym.pokeSeed(5);
    }

    function test_pokeSeed_failsOnceSourceIsForgotten() public {
        uint256 source = gym.epochStart(1) - 1;
        vm.roll(source + 256); // blockhash reaches back 256 blocks: still there
        uint256 snapshot = vm.snapshotState();
        assertEq(gym.pokeSeed(1), _expectedSeed(1, source));
        vm.revertToState(snapshot);
        vm.roll(source + 257);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymSeedExpired.selector, 1, source));
        gym.pokeSeed(1);
        assertEq(gym.seedOf(1), bytes32(0));
    }

    function test_pokeSeed_keepsASeedFixedInTime() public {
        uint256 source = gym.epochStart(1) - 1;
        vm.roll(source + 1);
        bytes32 seed = gym.pokeSeed(1);
        vm.roll(source + 1_000);
        assertEq(gym.pokeSeed(1), seed);
    }

    function test_pokeSeed_differsAcrossEpochs() public {
        vm.roll(gym.epochStart(2));
        assertTrue(gym.pokeSeed(1) != gym.pokeSeed(2));
    }

    // ─── pure helpers ─────────────────────────────────────────────────────────

    function testFuzz_taskSeed_hashesItsInputs(bytes32 seed, uint256 env, uint256 version, address miner, uint256 i)
        public
        view
    {
        assertEq(gym.taskSeed(seed, env, version, miner, i), keccak256(abi.encode(seed, env, version, miner, i)));
    }

    function testFuzz_commitmentOf_matchesDocumentedEncoding(
        uint256 epoch,
        address validator,
        uint256[] calldata packed,
        uint256[] calldata weights,
        bytes32 salt
    ) public view {
        assertEq(
            gym.commitmentOf(epoch, validator, packed, weights, salt),
            _commitment(epoch, validator, packed, weights, salt)
        );
    }

    function test_views_reportEmptyEpoch() public {
        assertEq(gym.batchCount(0), 0);
        assertEq(gym.validatorsOf(0).length, 0);
        (IWorldGym.Stage stage, uint256 cursor, uint256 reveals) = gym.finalization(0);
        assertEq(uint8(stage), uint8(IWorldGym.Stage.Scoring));
        assertEq(cursor + reveals, 0);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymUnknownBatch.selector, 0, 0, 0));
        gym.batch(0, 0);
        assertEq(gym.totalClaimable() + gym.carry() + gym.unallocated(), 0);
    }

    function test_windowOf_failsIfEpochOutOfRange() public {
        uint256 max = type(uint64).max;
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymEpochOutOfRange.selector, max, max - 1));
        gym.windowOf(max, IWorldGym.Window.Commit);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymEpochOutOfRange.selector, max + 1, max));
        gym.epochStart(max + 1);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymEpochOutOfRange.selector, type(uint256).max, max - 1));
        gym.commit(type(uint256).max, bytes32(uint256(1)));
    }
}
