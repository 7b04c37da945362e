// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IWorldGym} from "../src/interfaces/IWorldGym.sol";
import {IWorldGymEvents} from "../src/interfaces/IWorldGymEvents.sol";
import {EpochTest} from "./utils/EpochTest.sol";
import {LanePacking} from "./utils/LanePacking.sol";

contract WorldGymCommitRevealTest is EpochTest {
    function setUp() public override {
        super.setUp();
        _prepareEpoch();
    }

    function _expectOutside(uint256 epoch, IWorldGym.Window window) internal {
        (uint256 opensAt, uint256 closesAt) = gym.windowOf(epoch, window);
        vm.expectRevert(
            abi.encodeWithSelector(IWorldGym.WorldGymOutsideWindow.selector, epoch, window, _now(), opensAt, closesAt)
        );
    }

    function _commitRaw(address validator, uint256 epoch, uint256[] memory packed, bytes32 salt) internal {
        _commitRawWith(validator, epoch, packed, _fullWeights(), salt);
    }

    function _commitRawWith(
        address validator,
        uint256 epoch,
        uint256[] memory packed,
        uint256[] memory weights,
        bytes32 salt
    ) internal {
        vm.prank(validator);
        gym.commit(epoch, _commitment(epoch, validator, packed, weights, salt));
    }

    function _revealRaw(address validator, uint256 epoch, uint256[] memory packed, bytes32 salt) internal {
        _revealRawWith(validator, epoch, packed, _fullWeights(), salt);
    }

    function _revealRawWith(
        address validator,
        uint256 epoch,
        uint256[] memory packed,
        uint256[] memory weights,
        bytes32 salt
    ) internal {
        vm.prank(validator);
        gym.reveal(epoch, packed, weights, salt);
    }

    /// @dev Commits `packed` lanes and `weights` as validator1 and moves to the reveal window.
    function _commitForReveal(uint256[] memory packed, uint256[] memory weights) internal {
        _rollToWindow(0, IWorldGym.Window.Commit);
        _commitRawWith(validator1, 0, packed, weights, SALT1);
        _rollToWindow(0, IWorldGym.Window.Reveal);
    }

    /// @dev Submits `n` batches of one trace in the current epoch, spread over enough miners.
    function _submitMany(uint256 n) internal {
        for (uint256 i; i < n; ++i) {
            _submit(makeAddr(string(abi.encodePacked("miner#", i / 8))), 1);
        }
    }

    // ─── commit ───────────────────────────────────────────────────────────────

    function test_commit_recordsCommitmentLocksStakeAndEmits() public {
        _rollToWindow(0, IWorldGym.Window.Commit);
        bytes32 c = _commitment(0, validator1, LanePacking.pack(_scores1()), _fullWeights(), SALT1);
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.Committed(0, validator1, c, STAKE1);
        vm.prank(validator1);
        gym.commit(0, c);

        (bytes32 commitment, uint256 stake, bool revealed, uint256 agreement) = gym.commitmentRecord(0, validator1);
        assertEq(commitment, c);
        assertEq(stake, STAKE1);
        assertFalse(revealed);
        assertEq(agreement, 0);
        assertEq(gym.validatorsOf(0).length, 1);
        assertEq(gym.validatorsOf(0)[0], validator1);
        (,, uint256 pending) = staking.unbondingOf(validator1);
        assertEq(pending, 1);
    }

    function test_commit_fixesActiveStakeAtCommitTime() public {
        vm.prank(validator1);
        staking.requestUnbond(1_000e18);
        _commitBoth(0);
        _stake(validator1, 50_000e18); // later stake does not change this epoch's weight
        (, uint256 stake,,) = gym.commitmentRecord(0, validator1);
        assertEq(stake, STAKE1 - 1_000e18);
    }

    function test_commit_failsBeforeWindow() public {
        vm.roll(gym.epochStart(1) - 1);
        _expectOutside(0, IWorldGym.Window.Commit);
        vm.prank(validator1);
        gym.commit(0, keccak256("c"));
    }

    function test_commit_failsAfterWindow() public {
        _rollToWindow(0, IWorldGym.Window.Reveal);
        _expectOutside(0, IWorldGym.Window.Commit);
        vm.prank(validator1);
        gym.commit(0, keccak256("c"));
    }

    function test_commit_failsForTheRunningEpoch() public {
        _rollToWindow(0, IWorldGym.Window.Commit);
        _expectOutside(1, IWorldGym.Window.Commit);
        vm.prank(validator1);
        gym.commit(1, keccak256("c"));
    }

    function testFuzz_commit_opensOnlyDuringItsWindow(uint256 blockNumber) public {
        blockNumber = bound(blockNumber, gym.epochStart(0), gym.epochStart(3));
        vm.roll(blockNumber);
        (uint256 opensAt, uint256 closesAt) = gym.windowOf(0, IWorldGym.Window.Commit);
        if (blockNumber < opensAt || blockNumber >= closesAt) _expectOutside(0, IWorldGym.Window.Commit);
        vm.prank(validator1);
        gym.commit(0, keccak256("c"));
    }

    function test_commit_failsIfCommitmentZero() public {
        _rollToWindow(0, IWorldGym.Window.Commit);
        vm.expectRevert(IWorldGym.WorldGymZeroCommitment.selector);
        vm.prank(validator1);
        gym.commit(0, bytes32(0));
    }

    function test_commit_failsIfAlreadyCommitted() public {
        _commitBoth(0);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymAlreadyCommitted.selector, 0, validator1));
        vm.prank(validator1);
        gym.commit(0, keccak256("again"));
    }

    function test_commit_failsIfStakeBelowMinimum() public {
        _stake(validator3, 999e18);
        _rollToWindow(0, IWorldGym.Window.Commit);
        vm.expectRevert(
            abi.encodeWithSelector(IWorldGym.WorldGymInsufficientStake.selector, validator3, 999e18, 1_000e18)
        );
        vm.prank(validator3);
        gym.commit(0, keccak256("c"));
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymInsufficientStake.selector, stranger, 0, 1_000e18));
        vm.prank(stranger);
        gym.commit(0, keccak256("c"));
    }

    function test_commit_failsIfValidatorCapReached() public {
        address[] memory extra = new address[](9);
        for (uint256 i; i < extra.length; ++i) {
            extra[i] = makeAddr(string(abi.encodePacked("validator#", i)));
            _stake(extra[i], 1_000e18);
        }
        _rollToWindow(0, IWorldGym.Window.Commit);
        for (uint256 i; i < 8; ++i) {
            vm.prank(extra[i]);
            gym.commit(0, keccak256("c"));
        }
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymValidatorCapReached.selector, 0, 8));
        vm.prank(extra[8]);
        gym.commit(0, keccak256("c"));
    }

    function test_commit_pokesTheNextEpochsSeed() public {
        _rollToWindow(0, IWorldGym.Window.Commit);
        assertEq(gym.seedOf(1), bytes32(0));
        uint256 source = gym.epochStart(1) - 1;
        bytes32 expected = bytes32(bytes24(keccak256(abi.encode(blockhash(source), 1, block.chainid, address(gym)))));
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.SeedSet(1, expected, source);
        _commit(validator1, 0, _scores1(), SALT1);
        assertEq(gym.seedOf(1), expected);
        // The second commitment finds it set and leaves it.
        vm.recordLogs();
        _commit(validator2, 0, _scores2(), SALT2);
        assertEq(vm.getRecordedLogs().length, 1, "only Committed");
    }

    /// A commit window longer than 256 blocks outlives the next seed's source hash: committing late
    /// leaves the seed unset instead of reverting (that epoch is then void for submissions).
    function test_commit_succeedsWhenTheNextSeedHasExpired() public {
        cfg.params.epochLength = 700;
        (cfg.params.commitBlocks, cfg.params.revealBlocks) = (300, 300);
        _deploy(cfg);
        _stake(validator1, STAKE1);
        vm.roll(_opens(0, IWorldGym.Window.Commit) + 280);
        vm.prank(validator1);
        gym.commit(0, keccak256("c"));
        assertEq(gym.seedOf(1), bytes32(0));
        (bytes32 commitment,,,) = gym.commitmentRecord(0, validator1);
        assertEq(commitment, keccak256("c"));
    }

    // ─── reveal ───────────────────────────────────────────────────────────────

    function test_reveal_storesLanesAndWeightsAndEmits() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        uint256[] memory packed = LanePacking.pack(_scores1());
        vm.expectEmit(address(gym));
        emit IWorldGymEvents.Revealed(0, validator1, packed, _fullWeights());
        _revealRaw(validator1, 0, packed, SALT1);

        (,, bool revealed,) = gym.commitmentRecord(0, validator1);
        assertTrue(revealed);
        for (uint256 i; i < 3; ++i) {
            assertEq(gym.revealedLane(0, validator1, i), _scores1()[i]);
        }
        assertEq(gym.revealedLane(0, validator1, 3), 0);
        assertEq(gym.revealedLane(0, validator1, 12), 0, "past the last word");
        assertEq(gym.revealedEnvWeight(0, validator1, envId), 10_000);
        assertEq(gym.revealedEnvWeight(0, validator1, envId + 1), 0, "not listed");
        assertEq(gym.revealedEnvWeight(0, validator2, envId), 0, "not revealed");
        (,, uint256 reveals) = gym.finalization(0);
        assertEq(reveals, 1);
    }

    function test_reveal_failsBeforeWindow() public {
        _commitBoth(0);
        vm.roll(_closes(0, IWorldGym.Window.Commit) - 1);
        _expectOutside(0, IWorldGym.Window.Reveal);
        _reveal(validator1, 0, _scores1(), SALT1);
    }

    function test_reveal_failsAfterWindow() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Finalize);
        _expectOutside(0, IWorldGym.Window.Reveal);
        _reveal(validator1, 0, _scores1(), SALT1);
    }

    function test_reveal_failsIfNotCommitted() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymNotCommitted.selector, 0, validator3));
        _reveal(validator3, 0, _scores1(), SALT1);
    }

    function test_reveal_failsIfAlreadyRevealed() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        _reveal(validator1, 0, _scores1(), SALT1);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymAlreadyRevealed.selector, 0, validator1));
        _reveal(validator1, 0, _scores1(), SALT1);
    }

    function test_reveal_failsIfHashMismatch() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        uint256[] memory packed = LanePacking.pack(_scores2()); // validator2's lanes, validator1's salt
        bytes32 committed = _commitment(0, validator1, LanePacking.pack(_scores1()), _fullWeights(), SALT1);
        bytes32 revealed = _commitment(0, validator1, packed, _fullWeights(), SALT1);
        vm.expectRevert(
            abi.encodeWithSelector(IWorldGym.WorldGymRevealMismatch.selector, 0, validator1, committed, revealed)
        );
        _revealRaw(validator1, 0, packed, SALT1);
    }

    function test_reveal_failsIfEnvWeightsDiffer() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        uint256[] memory packed = LanePacking.pack(_scores1());
        uint256[] memory other = LanePacking.packWeights(_u(envId), _u(9_999));
        vm.expectRevert(
            abi.encodeWithSelector(
                IWorldGym.WorldGymRevealMismatch.selector,
                0,
                validator1,
                _commitment(0, validator1, packed, _fullWeights(), SALT1),
                _commitment(0, validator1, packed, other, SALT1)
            )
        );
        _revealRawWith(validator1, 0, packed, other, SALT1);
    }

    function test_reveal_failsIfSaltDiffers() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        uint256[] memory packed = LanePacking.pack(_scores1());
        bytes32 committed = _commitment(0, validator1, packed, _fullWeights(), SALT1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IWorldGym.WorldGymRevealMismatch.selector,
                0,
                validator1,
                committed,
                _commitment(0, validator1, packed, _fullWeights(), SALT2)
            )
        );
        _revealRaw(validator1, 0, packed, SALT2);
    }

    function test_reveal_failsIfAnotherValidatorsCommitmentIsReplayed() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        // validator2 copies validator1's revealed lanes and salt: the hash binds the validator's address.
        uint256[] memory packed = LanePacking.pack(_scores1());
        vm.expectRevert(
            abi.encodeWithSelector(
                IWorldGym.WorldGymRevealMismatch.selector,
                0,
                validator2,
                _commitment(0, validator2, LanePacking.pack(_scores2()), _fullWeights(), SALT2),
                _commitment(0, validator2, packed, _fullWeights(), SALT1)
            )
        );
        _revealRaw(validator2, 0, packed, SALT1);
    }

    function test_reveal_failsIfWordCountWrong() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymLaneCountMismatch.selector, 0, 3, 0, 1));
        _revealRaw(validator1, 0, new uint256[](0), SALT1);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymLaneCountMismatch.selector, 0, 3, 2, 1));
        _revealRaw(validator1, 0, new uint256[](2), SALT1);
    }

    function test_reveal_failsIfScoreAboveScale() public {
        uint256[] memory packed = LanePacking.pack(_u(_lane(8_000, 0), _lane(10_001, 77), 0));
        _commitForReveal(packed, _fullWeights());
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymInvalidLane.selector, 1, 10_001, 77));
        _revealRaw(validator1, 0, packed, SALT1);
    }

    function test_reveal_acceptsFraudAndFullDigests() public {
        uint256[] memory lanes = _u(_lane(0x3FFF, 127), _lane(10_000, 127), _lane(0, 0));
        uint256[] memory packed = LanePacking.pack(lanes);
        _commitForReveal(packed, _fullWeights());
        _revealRaw(validator1, 0, packed, SALT1);
        assertEq(gym.revealedLane(0, validator1, 0), (uint256(0x3FFF) << 7) | 127);
        assertEq(gym.revealedLane(0, validator1, 1), lanes[1]);
    }

    function test_reveal_failsIfPaddingLaneNonZero() public {
        uint256[] memory packed = LanePacking.pack(_scores1());
        uint256 one = 1;
        uint256 bit = one << (4 + (11 - 5) * 21); // lane 5: past the three batches
        packed[0] |= bit;
        _commitForReveal(packed, _fullWeights());
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymNonZeroPadding.selector, 0, bit));
        _revealRaw(validator1, 0, packed, SALT1);
    }

    function test_reveal_failsIfLowBitsOfAWordAreSet() public {
        _submitMany(9); // 12 batches: one full word
        uint256[] memory lanes = new uint256[](12);
        uint256[] memory packed = LanePacking.pack(lanes);
        packed[0] |= 0x8;
        _commitForReveal(packed, _fullWeights());
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymNonZeroPadding.selector, 0, 0x8));
        _revealRaw(validator1, 0, packed, SALT1);
    }

    function test_reveal_acceptsEmptyRevealForEpochWithoutBatches() public {
        // Epoch 1 has no batches: a reveal is zero words of lanes (weights are still allowed).
        _rollToWindow(1, IWorldGym.Window.Commit);
        _commitRaw(validator1, 1, new uint256[](0), SALT1);
        _rollToWindow(1, IWorldGym.Window.Reveal);
        _revealRaw(validator1, 1, new uint256[](0), SALT1);
        (,, uint256 reveals) = gym.finalization(1);
        assertEq(reveals, 1);
    }

    // ─── reveal: environment weights ──────────────────────────────────────────

    function _entry(uint256 id, uint256 weight) internal pure returns (uint256) {
        return (id << 16) | weight;
    }

    function _expectBadWeights(uint256[] memory weights, bytes memory error) internal {
        uint256[] memory packed = LanePacking.pack(_scores1());
        _commitForReveal(packed, weights);
        vm.expectRevert(error);
        _revealRawWith(validator1, 0, packed, weights, SALT1);
    }

    function test_reveal_acceptsNoEnvWeights() public {
        uint256[] memory packed = LanePacking.pack(_scores1());
        _commitForReveal(packed, new uint256[](0));
        _revealRawWith(validator1, 0, packed, new uint256[](0), SALT1);
        assertEq(gym.revealedEnvWeight(0, validator1, envId), 0);
    }

    function test_reveal_failsIfEnvIdsDoNotIncrease() public {
        bytes4 sel = IWorldGym.WorldGymInvalidEnvWeight.selector;
        _expectBadWeights(
            LanePacking.packWeights(_u(3, 3), _u(1, 2)), abi.encodeWithSelector(sel, 1, 3, 2, 3)
        );
    }

    function test_reveal_failsIfEnvIdsDecrease() public {
        bytes4 sel = IWorldGym.WorldGymInvalidEnvWeight.selector;
        _expectBadWeights(
            LanePacking.packWeights(_u(1, 5, 4), _u(1, 2, 3)), abi.encodeWithSelector(sel, 2, 4, 3, 5)
        );
    }

    function test_reveal_failsIfEnvWeightAboveScale() public {
        bytes4 sel = IWorldGym.WorldGymInvalidEnvWeight.selector;
        _expectBadWeights(
            LanePacking.packWeights(_u(1, 2), _u(10_000, 10_001)), abi.encodeWithSelector(sel, 1, 2, 10_001, 1)
        );
    }

    function test_reveal_failsIfAnEntryFollowsTheEnd() public {
        uint256[] memory weights = LanePacking.packWeights(_u(1, 2), _u(7, 8));
        weights[0] |= _entry(4, 9) << 16; // slot 4, after two zero slots
        _expectBadWeights(weights, abi.encodeWithSelector(IWorldGym.WorldGymInvalidEnvWeight.selector, 4, 4, 9, 2));
    }

    function test_reveal_failsIfAWordBeforeTheLastIsNotFull() public {
        uint256[] memory weights = new uint256[](2);
        weights[0] = LanePacking.packWeights(_u(1), _u(5))[0];
        weights[1] = LanePacking.packWeights(_u(2), _u(5))[0];
        _expectBadWeights(weights, abi.encodeWithSelector(IWorldGym.WorldGymInvalidEnvWeight.selector, 1, 0, 0, 1));
    }

    function test_reveal_failsIfAWordIsEmptyOrHasLowBits() public {
        bytes4 sel = IWorldGym.WorldGymInvalidEnvWeight.selector;
        _expectBadWeights(new uint256[](1), abi.encodeWithSelector(sel, 0, 0, 0, 0));
        uint256[] memory weights = LanePacking.packWeights(_u(1), _u(5));
        weights[0] |= 3;
        vm.roll(_opens(1, IWorldGym.Window.Commit)); // a fresh epoch for a fresh commitment
        _commitRawWith(validator2, 1, new uint256[](0), weights, SALT2);
        _rollToWindow(1, IWorldGym.Window.Reveal);
        vm.expectRevert(abi.encodeWithSelector(sel, 0, 1, 3, 0));
        _revealRawWith(validator2, 1, new uint256[](0), weights, SALT2);
    }

    function test_reveal_failsIfEnvIdZero() public {
        bytes4 sel = IWorldGym.WorldGymInvalidEnvWeight.selector;
        uint256[] memory weights = new uint256[](1);
        weights[0] = _entry(0, 5) << (16 + 4 * 48);
        _expectBadWeights(weights, abi.encodeWithSelector(sel, 0, 0, 5, 0));
    }

    function test_reveal_failsIfTooManyEnvWeights() public {
        assertEq(gym.MAX_ENV_WEIGHTS(), 60);
        uint256[] memory ids = new uint256[](61);
        for (uint256 i; i < ids.length; ++i) {
            ids[i] = i + 1;
        }
        _expectBadWeights(
            LanePacking.packWeights(ids, new uint256[](61)),
            abi.encodeWithSelector(IWorldGym.WorldGymTooManyEnvWeights.selector, 13, 12)
        );
    }

    function testFuzz_reveal_storesAnyValidEnvWeights(uint256 count, uint256 seed) public {
        count = bound(count, 0, 60);
        uint256[] memory ids = new uint256[](count);
        uint256[] memory weights = new uint256[](count);
        uint256 id;
        for (uint256 i; i < count; ++i) {
            id += 1 + uint256(keccak256(abi.encode(seed, i))) % 1_000;
            ids[i] = id;
            weights[i] = uint256(keccak256(abi.encode(seed, i, "w"))) % 10_001;
        }
        uint256[] memory packed = LanePacking.pack(_scores1());
        uint256[] memory words = LanePacking.packWeights(ids, weights);
        _commitForReveal(packed, words);
        _revealRawWith(validator1, 0, packed, words, SALT1);
        for (uint256 i; i < count; ++i) {
            assertEq(gym.revealedEnvWeight(0, validator1, ids[i]), weights[i]);
            if (ids[i] > 1 && (i == 0 || ids[i - 1] != ids[i] - 1)) {
                assertEq(gym.revealedEnvWeight(0, validator1, ids[i] - 1), 0, "between listed ids");
            }
        }
        assertEq(gym.revealedEnvWeight(0, validator1, id + 1), 0, "after the last id");
    }

    // ─── packing fuzz ─────────────────────────────────────────────────────────

    function testFuzz_reveal_unpacksEveryLane(uint256 n, uint256 seed) public {
        n = bound(n, 0, 34); // three batches already exist: n more, up to 37 in all
        _submitMany(n);
        uint256 total = n + 3;
        uint256[] memory lanes = new uint256[](total);
        for (uint256 i; i < total; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            lanes[i] = _lane(r % 7 == 0 ? 0x3FFF : r % 10_001, (r >> 128) % 128);
        }
        _rollToWindow(0, IWorldGym.Window.Commit);
        uint256[] memory packed = _commit(validator1, 0, lanes, SALT1);
        assertEq(packed.length, (total + 11) / 12);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        _revealRaw(validator1, 0, packed, SALT1);
        for (uint256 i; i < total; ++i) {
            assertEq(gym.revealedLane(0, validator1, i), lanes[i]);
        }
        for (uint256 i = total; i < packed.length * 12; ++i) {
            assertEq(gym.revealedLane(0, validator1, i), 0);
        }
    }

    function testFuzz_reveal_rejectsAnyOutOfRangeLane(uint256 n, uint256 lane, uint256 score, uint256 digest) public {
        n = bound(n, 3, 37);
        _submitMany(n - 3);
        uint256 words = (n + 11) / 12;
        lane = bound(lane, 0, words * 12 - 1);
        digest = bound(digest, 0, 127);
        uint256 value;
        if (lane < n) {
            score = bound(score, 10_001, 0x3FFE); // neither a score nor FRAUD
            value = _lane(score, digest);
        } else {
            value = bound(score, 1, 0x1FFFFF); // anything in a padding lane
        }
        uint256[] memory packed = new uint256[](words);
        uint256 shift = 4 + (11 - lane % 12) * 21;
        packed[lane / 12] = value << shift;

        _commitForReveal(packed, _fullWeights());
        if (lane < n) {
            vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymInvalidLane.selector, lane, score, digest));
        } else {
            vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymNonZeroPadding.selector, lane / 12, value << shift));
        }
        _revealRaw(validator1, 0, packed, SALT1);
    }

    function testFuzz_reveal_rejectsAnyAlteredWord(uint256 word, uint256 flip) public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        uint256[] memory packed = LanePacking.pack(_scores1());
        flip = bound(flip, 1, type(uint256).max);
        packed[bound(word, 0, packed.length - 1)] ^= flip;
        vm.expectRevert(); // RevealMismatch; its arguments are the two hashes, asserted in the unit tests
        _revealRaw(validator1, 0, packed, SALT1);
        (,, bool revealed,) = gym.commitmentRecord(0, validator1);
        assertFalse(revealed);
    }
}
