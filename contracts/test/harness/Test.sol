// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Vm} from "./Vm.sol";

/// @title TestBase
/// @notice The cheatcodes, fuzz-input bounding and named addresses, for tests and for the
/// invariant handler (which is not a test but drives the contracts under one).
abstract contract TestBase {
    /// @dev Foundry's cheatcode address: `address(uint160(uint256(keccak256("hevm cheat code"))))`.
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice `x` moved into `[min, max]`: unchanged when inside; the fuzzer's edge values stay
    /// edges (0, 1, ... map to `min`, `min + 1`, ...; the top of uint256 to `max`, `max - 1`, ...);
    /// anything else wraps.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min is above max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min;
        if (x <= size) return min + x;
        uint256 fromTop = type(uint256).max - x;
        if (fromTop <= size) return max - fromTop;
        return min + x % (size + 1);
    }

    /// @notice A labelled address and its private key, both derived from `name`.
    function makeAddrAndKey(string memory name) internal returns (address account, uint256 key) {
        key = uint256(keccak256(abi.encodePacked(name)));
        account = vm.addr(key);
        vm.label(account, name);
    }

    /// @notice A labelled address derived from `name`.
    function makeAddr(string memory name) internal returns (address account) {
        (account,) = makeAddrAndKey(name);
    }
}

/// @notice The revert data of Solidity's checked arithmetic (`Panic(0x11)`).
library Panics {
    bytes internal constant ARITHMETIC = abi.encodeWithSignature("Panic(uint256)", 0x11);
}

/// @title Test
/// @notice The base of every suite: assertions (forwarded to forge's assertion cheatcodes, which
/// revert with both values) and the invariant campaign's targets.
abstract contract Test is TestBase {
    /// @notice A contract and the functions of it that an invariant campaign calls.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetContracts;
    FuzzSelector[] private _targetSelectors;

    /// @notice Read by forge: the contracts an invariant campaign calls.
    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    /// @notice Read by forge: the functions an invariant campaign calls.
    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }

    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    function targetSelector(FuzzSelector memory selector) internal {
        _targetSelectors.push(selector);
    }

    function assertTrue(bool condition) internal pure {
        vm.assertTrue(condition);
    }

    function assertTrue(bool condition, string memory err) internal pure {
        vm.assertTrue(condition, err);
    }

    function assertFalse(bool condition) internal pure {
        vm.assertFalse(condition);
    }

    function assertFalse(bool condition, string memory err) internal pure {
        vm.assertFalse(condition, err);
    }

    function assertEq(bool left, bool right, string memory err) internal pure {
        vm.assertEq(left, right, err);
    }

    function assertEq(uint256 left, uint256 right) internal pure {
        vm.assertEq(left, right);
    }

    function assertEq(uint256 left, uint256 right, string memory err) internal pure {
        vm.assertEq(left, right, err);
    }

    function assertEq(address left, address right) internal pure {
        vm.assertEq(left, right);
    }

    function assertEq(address left, address right, string memory err) internal pure {
        vm.assertEq(left, right, err);
    }

    function assertEq(bytes32 left, bytes32 right) internal pure {
        vm.assertEq(left, right);
    }

    function assertEq(string memory left, string memory right) internal pure {
        vm.assertEq(left, right);
    }

    function assertEq(bytes memory left, bytes memory right) internal pure {
        vm.assertEq(left, right);
    }

    function assertLe(uint256 left, uint256 right) internal pure {
        vm.assertLe(left, right);
    }

    function assertLe(uint256 left, uint256 right, string memory err) internal pure {
        vm.assertLe(left, right, err);
    }

    function assertLt(uint256 left, uint256 right, string memory err) internal pure {
        vm.assertLt(left, right, err);
    }

    function assertGe(uint256 left, uint256 right) internal pure {
        vm.assertGe(left, right);
    }

    function assertGe(uint256 left, uint256 right, string memory err) internal pure {
        vm.assertGe(left, right, err);
    }

    function assertGt(uint256 left, uint256 right) internal pure {
        vm.assertGt(left, right);
    }

    function assertGt(uint256 left, uint256 right, string memory err) internal pure {
        vm.assertGt(left, right, err);
    }
}
