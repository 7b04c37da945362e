// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IWorldGym} from "../../src/interfaces/IWorldGym.sol";
import {BaseTest} from "./BaseTest.sol";

/// @title EpochTest
/// @notice The reference epoch used across the WorldGym suites. In epoch 0:
///   batch 0: miner1, 10 traces; batch 1: miner2, 20 traces; batch 2: miner1, 5 traces (all in env 1).
/// validator1 stakes 3,000 and validator2 1,000 (validator1 holds 75% of the stake). Their lanes
/// (score/digest) agree on batch 0 only:
///   validator1: [8000/5, 5000/9, 10000/1]    validator2: [8000/5, 6000/9, 9000/1]
/// and both give every environment full weight.
abstract contract EpochTest is BaseTest {
    uint256 internal constant STAKE1 = 3_000e18;
    uint256 internal constant STAKE2 = 1_000e18;
    bytes32 internal constant SALT1 = keccak256("salt of validator1");
    bytes32 internal constant SALT2 = keccak256("salt of validator2");
    bytes32 internal constant SALT3 = keccak256("salt of validator3");

    function _scores1() internal pure returns (uint256[] memory) {
        return _u(_lane(8_000, 5), _lane(5_000, 9), _lane(10_000, 1));
    }

    function _scores2() internal pure returns (uint256[] memory) {
        return _u(_lane(8_000, 5), _lane(6_000, 9), _lane(9_000, 1));
    }

    /// @dev Submits the three reference batches in the current epoch.
    function _submitBatches() internal {
        _submit(miner1, 10);
        _submit(miner2, 20);
        _submit(miner1, 5);
    }

    /// @dev Submits the three batches of epoch 0 and stakes both validators.
    function _prepareEpoch() internal {
        _submitBatches();
        _stake(validator1, STAKE1);
        _stake(validator2, STAKE2);
    }

    /// @dev Both validators commit to their scores for `epoch`, at the start of its commit window.
    function _commitBoth(uint256 epoch) internal {
        _rollToWindow(epoch, IWorldGym.Window.Commit);
        _commit(validator1, epoch, _scores1(), SALT1);
        _commit(validator2, epoch, _scores2(), SALT2);
    }

    /// @dev Both validators reveal; leaves the chain at the first block of the finalize window.
    function _revealBoth(uint256 epoch) internal {
        _rollToWindow(epoch, IWorldGym.Window.Reveal);
        _reveal(validator1, epoch, _scores1(), SALT1);
        _reveal(validator2, epoch, _scores2(), SALT2);
        _rollToWindow(epoch, IWorldGym.Window.Finalize);
    }
}
