// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IWorldGym} from "../src/interfaces/IWorldGym.sol";
import {EpochTest} from "./utils/EpochTest.sol";
import {ScorePacking} from "./utils/ScorePacking.sol";

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
        vm.prank(validator);
        gym.commit(epoch, _commitment(epoch, validator, packed, salt));
    }

    function _revealRaw(address validator, uint256 epoch, uint256[] memory packed, bytes32 salt) internal {
        vm.prank(validator);
        gym.reveal(epoch, packed, salt);
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
        bytes32 c = _commitment(0, validator1, ScorePacking.pack(_scores1()), SALT1);
        vm.expectEmit(address(gym));
        emit IWorldGym.Committed(0, validator1, c, STAKE1);
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

    // ─── reveal ───────────────────────────────────────────────────────────────

    function test_reveal_storesScoresAndEmits() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        uint256[] memory packed = ScorePacking.pack(_scores1());
        vm.expectEmit(address(gym));
        emit IWorldGym.Revealed(0, validator1, packed);
        _revealRaw(validator1, 0, packed, SALT1);

        (,, bool revealed,) = gym.commitmentRecord(0, validator1);
        assertTrue(revealed);
        for (uint256 i; i < 3; ++i) {
            assertEq(gym.revealedScore(0, validator1, i), _scores1()[i]);
        }
        assertEq(gym.revealedScore(0, validator1, 3), 0);
        assertEq(gym.revealedScore(0, validator1, 16), 0, "past the last word");
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
        uint256[] memory packed = ScorePacking.pack(_scores2()); // validator2's scores, validator1's salt
        bytes32 committed = _commitment(0, validator1, ScorePacking.pack(_scores1()), SALT1);
        bytes32 revealed = _commitment(0, validator1, packed, SALT1);
        vm.expectRevert(
            abi.encodeWithSelector(IWorldGym.WorldGymRevealMismatch.selector, 0, validator1, committed, revealed)
        );
        _revealRaw(validator1, 0, packed, SALT1);
    }

    function test_reveal_failsIfSaltDiffers() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        uint256[] memory packed = ScorePacking.pack(_scores1());
        bytes32 committed = _commitment(0, validator1, packed, SALT1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IWorldGym.WorldGymRevealMismatch.selector,
                0,
                validator1,
                committed,
                _commitment(0, validator1, packed, SALT2)
            )
        );
        _revealRaw(validator1, 0, packed, SALT2);
    }

    function test_reveal_failsIfAnotherValidatorsCommitmentIsReplayed() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        // validator2 copies validator1's revealed scores and salt: the hash binds the validator's address.
        uint256[] memory packed = ScorePacking.pack(_scores1());
        vm.expectRevert(
            abi.encodeWithSelector(
                IWorldGym.WorldGymRevealMismatch.selector,
                0,
                validator2,
                _commitment(0, validator2, ScorePacking.pack(_scores2()), SALT2),
                _commitment(0, validator2, packed, SALT1)
            )
        );
        _revealRaw(validator2, 0, packed, SALT1);
    }

    function test_reveal_failsIfWordCountWrong() public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymScoreCountMismatch.selector, 0, 3, 0, 1));
        _revealRaw(validator1, 0, new uint256[](0), SALT1);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymScoreCountMismatch.selector, 0, 3, 2, 1));
        _revealRaw(validator1, 0, new uint256[](2), SALT1);
    }

    function test_reveal_failsIfScoreAboveScale() public {
        uint256[] memory packed = ScorePacking.pack(_u(8_000, 10_001, 0));
        _rollToWindow(0, IWorldGym.Window.Commit);
        _commitRaw(validator1, 0, packed, SALT1);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymScoreOutOfRange.selector, 1, 10_001, 10_000));
        _revealRaw(validator1, 0, packed, SALT1);
    }

    function test_reveal_failsIfPaddingLaneNonZero() public {
        uint256[] memory packed = ScorePacking.pack(_scores1());
        uint256 one = 1;
        packed[0] |= one << ((15 - 5) * 16); // lane 5: past the three batches
        _rollToWindow(0, IWorldGym.Window.Commit);
        _commitRaw(validator1, 0, packed, SALT1);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymScoreOutOfRange.selector, 5, 1, 0));
        _revealRaw(validator1, 0, packed, SALT1);
    }

    function test_reveal_acceptsEmptyRevealForEpochWithoutBatches() public {
        // Epoch 1 has no batches: a reveal is zero words.
        _rollToWindow(1, IWorldGym.Window.Commit);
        _commitRaw(validator1, 1, new uint256[](0), SALT1);
        _rollToWindow(1, IWorldGym.Window.Reveal);
        _revealRaw(validator1, 1, new uint256[](0), SALT1);
        (,, uint256 reveals) = gym.finalization(1);
        assertEq(reveals, 1);
    }

    // ─── packing fuzz ─────────────────────────────────────────────────────────

    function testFuzz_reveal_unpacksEveryLane(uint256 n, uint256 seed) public {
        n = bound(n, 0, 34); // three batches already exist: n more, up to 37 in all
        _submitMany(n);
        uint256 total = n + 3;
        uint256[] memory scores = new uint256[](total);
        for (uint256 i; i < total; ++i) {
            scores[i] = uint256(keccak256(abi.encode(seed, i))) % 10_001;
        }
        _rollToWindow(0, IWorldGym.Window.Commit);
        uint256[] memory packed = _commit(validator1, 0, scores, SALT1);
        assertEq(packed.length, (total + 15) / 16);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        _revealRaw(validator1, 0, packed, SALT1);
        for (uint256 i; i < total; ++i) {
            assertEq(gym.revealedScore(0, validator1, i), scores[i]);
        }
        for (uint256 i = total; i < packed.length * 16; ++i) {
            assertEq(gym.revealedScore(0, validator1, i), 0);
        }
    }

    function testFuzz_reveal_rejectsAnyOutOfRangeLane(uint256 n, uint256 lane, uint256 value) public {
        n = bound(n, 3, 37);
        _submitMany(n - 3);
        uint256 words = (n + 15) / 16;
        lane = bound(lane, 0, words * 16 - 1);
        uint256 max = lane < n ? 10_000 : 0;
        value = bound(value, max + 1, 0xffff);
        uint256[] memory packed = new uint256[](words);
        packed[lane / 16] = value << ((15 - lane % 16) * 16);

        _rollToWindow(0, IWorldGym.Window.Commit);
        _commitRaw(validator1, 0, packed, SALT1);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        vm.expectRevert(abi.encodeWithSelector(IWorldGym.WorldGymScoreOutOfRange.selector, lane, value, max));
        _revealRaw(validator1, 0, packed, SALT1);
    }

    function testFuzz_reveal_rejectsAnyAlteredWord(uint256 word, uint256 flip) public {
        _commitBoth(0);
        _rollToWindow(0, IWorldGym.Window.Reveal);
        uint256[] memory packed = ScorePacking.pack(_scores1());
        flip = bound(flip, 1, type(uint256).max);
        packed[bound(word, 0, packed.length - 1)] ^= flip;
        vm.expectRevert(); // RevealMismatch; its arguments are the two hashes, asserted in the unit tests
        _revealRaw(validator1, 0, packed, SALT1);
        (,, bool revealed,) = gym.commitmentRecord(0, validator1);
        assertFalse(revealed);
    }
}
