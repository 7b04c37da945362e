// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Vm
/// @notice The Foundry cheatcodes these suites call, and no others. Each declaration's
/// signature is the cheatcode's own (forge dispatches on the selector), so the list grows
/// only when a test needs one more.
interface Vm {
    /// @notice A log captured by `recordLogs`.
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    // ─── caller and clock ──────────────────────────────────────────────────────────────

    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function roll(uint256 newHeight) external;
    function getBlockNumber() external view returns (uint256 height);

    // ─── expectations ──────────────────────────────────────────────────────────────────

    function expectRevert() external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit(address emitter) external;

    // ─── logs, state, keys, deployment ────────────────────────────────────────────────

    function recordLogs() external;
    function getRecordedLogs() external view returns (Log[] memory logs);
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool success);
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function label(address account, string calldata newLabel) external;
    function toString(uint256 value) external pure returns (string memory stringifiedValue);
    function deployCode(string calldata artifactPath, bytes calldata constructorArgs)
        external
        returns (address deployedAddress);

    // ─── assertions (a failing one reverts with both values in the message) ──────────

    function assertTrue(bool condition) external pure;
    function assertTrue(bool condition, string calldata err) external pure;
    function assertFalse(bool condition) external pure;
    function assertFalse(bool condition, string calldata err) external pure;
    function assertEq(bool left, bool right, string calldata err) external pure;
    function assertEq(uint256 left, uint256 right) external pure;
    function assertEq(uint256 left, uint256 right, string calldata err) external pure;
    function assertEq(address left, address right) external pure;
    function assertEq(address left, address right, string calldata err) external pure;
    function assertEq(bytes32 left, bytes32 right) external pure;
    function assertEq(string calldata left, string calldata right) external pure;
    function assertEq(bytes calldata left, bytes calldata right) external pure;
    function assertLe(uint256 left, uint256 right) external pure;
    function assertLe(uint256 left, uint256 right, string calldata err) external pure;
    function assertLt(uint256 left, uint256 right, string calldata err) external pure;
    function assertGe(uint256 left, uint256 right) external pure;
    function assertGe(uint256 left, uint256 right, string calldata err) external pure;
    function assertGt(uint256 left, uint256 right) external pure;
    function assertGt(uint256 left, uint256 right, string calldata err) external pure;
}
