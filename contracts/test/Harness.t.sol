// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./harness/Test.sol";

/// @notice The test harness itself: a failing assertion fails, `bound` stays in range and keeps
/// the fuzzer's edges, named addresses are their keys' addresses.
contract HarnessTest is Test {
    function eqUint(uint256 left, uint256 right) external pure {
        assertEq(left, right);
    }

    function eqAddress(address left, address right) external pure {
        assertEq(left, right, "who");
    }

    function isTrue(bool condition) external pure {
        assertTrue(condition);
    }

    function le(uint256 left, uint256 right) external pure {
        assertLe(left, right);
    }

    function test_aFailingAssertionReverts() public {
        vm.expectRevert(bytes("assertion failed: 1 != 2"));
        this.eqUint(1, 2);
        vm.expectRevert(
            bytes("who: 0x0000000000000000000000000000000000000001 != 0x0000000000000000000000000000000000000002")
        );
        this.eqAddress(address(1), address(2));
        vm.expectRevert(bytes("assertion failed"));
        this.isTrue(false);
        vm.expectRevert(bytes("assertion failed: 3 > 2"));
        this.le(3, 2);
        this.eqUint(7, 7);
        this.le(2, 3);
    }

    function testFuzz_boundStaysInRange(uint256 x, uint256 min, uint256 max) public pure {
        if (min > max) (min, max) = (max, min);
        uint256 y = bound(x, min, max);
        assertGe(y, min);
        assertLe(y, max);
        if (x >= min && x <= max) assertEq(y, x);
    }

    function test_boundKeepsTheEdges() public pure {
        assertEq(bound(0, 10, 20), 10);
        assertEq(bound(1, 10, 20), 11);
        assertEq(bound(type(uint256).max, 10, 20), 20);
        assertEq(bound(type(uint256).max - 1, 10, 20), 19);
        assertEq(bound(15, 10, 20), 15);
        assertEq(bound(100, 10, 20), 11); // 100 = 9 * 11 + 1 wraps to the second value
        assertEq(bound(5, 0, type(uint256).max), 5);
    }

    function test_namedAddressesAreTheirKeys() public {
        (address account, uint256 key) = makeAddrAndKey("alice");
        assertEq(account, vm.addr(key));
        assertEq(makeAddr("alice"), account);
        assertTrue(makeAddr("bob") != account);
    }
}
