// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

import {IEnvironmentRegistry} from "../src/interfaces/IEnvironmentRegistry.sol";
import {BaseTest} from "./utils/BaseTest.sol";

contract EnvironmentRegistryTest is BaseTest {
    uint256 internal bond;
    uint256 internal delay;

    function setUp() public override {
        super.setUp();
        bond = registry.registrationBond();
        delay = registry.bondReleaseDelay();
    }

    function _deactivate(uint256 id) internal returns (uint256 unlocksAt) {
        vm.prank(envOwner);
        registry.deactivate(id);
        return _now() + delay;
    }

    // ─── registerEnvironment ──────────────────────────────────────────────────

    function test_registerEnvironment_pullsBondAndStoresVersionOne() public {
        bytes memory spec = _cidV1(0x55);
        _fund(stranger, bond);
        vm.startPrank(stranger);
        token.approve(address(registry), bond);
        vm.expectEmit(address(registry));
        emit IEnvironmentRegistry.EnvironmentRegistered(2, stranger, spec, bond);
        vm.expectEmit(address(registry));
        emit IEnvironmentRegistry.VersionPublished(2, 1, spec);
        uint256 id = registry.registerEnvironment(spec);
        vm.stopPrank();

        assertEq(id, 2);
        assertEq(registry.environmentCount(), 2);
        assertEq(token.balanceOf(stranger), 0);
        assertEq(token.balanceOf(address(registry)), 2 * bond);
        (address owner, uint256 versions, bool active, uint256 deactivatedAt, uint256 locked) = registry.environment(id);
        assertEq(owner, stranger);
        assertEq(versions, 1);
        assertTrue(active);
        assertEq(deactivatedAt, 0);
        assertEq(locked, bond);
        assertEq(registry.ownerOf(id), stranger);
        assertEq(registry.versionCid(id, 1), spec);
    }

    function test_registerEnvironment_acceptsEveryCidShapeIpfsProduces() public {
        _fund(stranger, 3 * bond);
        vm.startPrank(stranger);
        token.approve(address(registry), 3 * bond);
        registry.registerEnvironment(_cid()); // CIDv0
        registry.registerEnvironment(_cidV1(0x55)); // CIDv1 raw
        registry.registerEnvironment(_cidV1(0x70)); // CIDv1 dag-pb
        vm.stopPrank();
        assertEq(registry.environmentCount(), 4);
    }

    function test_registerEnvironment_failsIfCidInvalid() public {
        bytes[5] memory bad = [
            bytes(""),
            abi.encodePacked(hex"1221", bytes32(0)), // wrong digest length
            abi.encodePacked(hex"1320", bytes32(0)), // not sha2-256
            abi.encodePacked(hex"0171", hex"1220", bytes32(0)), // dag-cbor codec
            abi.encodePacked(hex"1220", bytes32(0), hex"00") // trailing byte
        ];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryInvalidCid.selector, bad[i]));
            vm.prank(stranger);
            registry.registerEnvironment(bad[i]);
        }
    }

    function test_registerEnvironment_failsWithoutBondAllowance() public {
        _fund(stranger, bond);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(registry), 0, bond)
        );
        vm.prank(stranger);
        registry.registerEnvironment(_cid());
    }

    /// @dev The registry accepts exactly the binary CIDs of the spec in IEnvironmentRegistry.
    function testFuzz_registerEnvironment_acceptsExactlyValidCids(bytes memory cid, uint8 shape) public {
        shape = uint8(bound(shape, 0, 3));
        // Steer a share of the inputs towards the valid shapes so both outcomes are exercised.
        if (shape == 1 && cid.length >= 34) {
            cid = abi.encodePacked(hex"1220", _slice(cid, 32));
        } else if (shape == 2 && cid.length >= 36) {
            cid = abi.encodePacked(hex"01", cid[0], hex"1220", _slice(cid, 32));
        }
        bool valid = (cid.length == 34 && cid[0] == 0x12 && cid[1] == 0x20)
            || (cid.length == 36
                && cid[0] == 0x01
                && (cid[1] == 0x55 || cid[1] == 0x70)
                && cid[2] == 0x12
                && cid[3] == 0x20);
        _fund(stranger, bond);
        vm.startPrank(stranger);
        token.approve(address(registry), bond);
        if (!valid) vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryInvalidCid.selector, cid));
        registry.registerEnvironment(cid);
        vm.stopPrank();
    }

    function _slice(bytes memory b, uint256 n) internal pure returns (bytes memory out) {
        out = new bytes(n);
        for (uint256 i; i < n; ++i) {
            out[i] = b[i];
        }
    }

    // ─── publishVersion ───────────────────────────────────────────────────────

    function test_publishVersion_appendsVersionAndEmits() public {
        bytes memory spec = _cid();
        vm.expectEmit(address(registry));
        emit IEnvironmentRegistry.VersionPublished(envId, 2, spec);
        vm.prank(envOwner);
        assertEq(registry.publishVersion(envId, spec), 2);
        assertEq(registry.versionCid(envId, 2), spec);
        (, uint256 versions,,,) = registry.environment(envId);
        assertEq(versions, 2);
    }

    function test_publishVersion_failsIfNotOwner() public {
        vm.expectRevert(
            abi.encodeWithSelector(IEnvironmentRegistry.RegistryNotOwner.selector, envId, stranger, envOwner)
        );
        vm.prank(stranger);
        registry.publishVersion(envId, _cid());
    }

    function test_publishVersion_failsIfInactive() public {
        _deactivate(envId);
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryInactive.selector, envId, _now()));
        vm.prank(envOwner);
        registry.publishVersion(envId, _cid());
    }

    function test_publishVersion_failsIfCidInvalid() public {
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryInvalidCid.selector, hex"1220"));
        vm.prank(envOwner);
        registry.publishVersion(envId, hex"1220");
    }

    function test_publishVersion_failsIfEnvironmentUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryUnknownEnvironment.selector, 9, 1));
        vm.prank(envOwner);
        registry.publishVersion(9, _cid());
    }

    // ─── transferEnvironment ──────────────────────────────────────────────────

    function test_transferEnvironment_movesOwnershipAndEmits() public {
        vm.expectEmit(address(registry));
        emit IEnvironmentRegistry.EnvironmentTransferred(envId, envOwner, stranger);
        vm.prank(envOwner);
        registry.transferEnvironment(envId, stranger);
        assertEq(registry.ownerOf(envId), stranger);

        // The previous owner lost its rights; the new one has them.
        vm.expectRevert(
            abi.encodeWithSelector(IEnvironmentRegistry.RegistryNotOwner.selector, envId, envOwner, stranger)
        );
        vm.prank(envOwner);
        registry.publishVersion(envId, _cid());
        vm.prank(stranger);
        registry.publishVersion(envId, _cid());
    }

    function test_transferEnvironment_failsIfNotOwner() public {
        vm.expectRevert(
            abi.encodeWithSelector(IEnvironmentRegistry.RegistryNotOwner.selector, envId, stranger, envOwner)
        );
        vm.prank(stranger);
        registry.transferEnvironment(envId, stranger);
    }

    function test_transferEnvironment_failsIfZeroAddress() public {
        vm.expectRevert(IEnvironmentRegistry.RegistryZeroAddress.selector);
        vm.prank(envOwner);
        registry.transferEnvironment(envId, address(0));
    }

    // ─── deactivate ───────────────────────────────────────────────────────────

    function test_deactivate_stopsSubmissionsAndEmits() public {
        vm.expectEmit(address(registry));
        emit IEnvironmentRegistry.EnvironmentDeactivated(envId, _now() + delay);
        vm.prank(envOwner);
        registry.deactivate(envId);
        (,, bool active, uint256 deactivatedAt, uint256 locked) = registry.environment(envId);
        assertFalse(active);
        assertEq(deactivatedAt, _now());
        assertEq(locked, bond);
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryInactive.selector, envId, _now()));
        registry.checkSubmittable(envId, 1);
    }

    function test_deactivate_failsIfNotOwner() public {
        vm.expectRevert(
            abi.encodeWithSelector(IEnvironmentRegistry.RegistryNotOwner.selector, envId, stranger, envOwner)
        );
        vm.prank(stranger);
        registry.deactivate(envId);
    }

    function test_deactivate_failsIfAlreadyInactive() public {
        uint256 at = _now();
        _deactivate(envId);
        vm.roll(at + 3);
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryInactive.selector, envId, at));
        vm.prank(envOwner);
        registry.deactivate(envId);
    }

    // ─── withdrawBond ─────────────────────────────────────────────────────────

    function test_withdrawBond_returnsBondAfterDelay() public {
        uint256 unlocksAt = _deactivate(envId);
        vm.roll(unlocksAt);
        vm.expectEmit(address(registry));
        emit IEnvironmentRegistry.BondWithdrawn(envId, envOwner, bond);
        vm.prank(envOwner);
        registry.withdrawBond(envId);
        assertEq(token.balanceOf(envOwner), bond);
        assertEq(token.balanceOf(address(registry)), 0);
        (,,,, uint256 locked) = registry.environment(envId);
        assertEq(locked, 0);
    }

    function test_withdrawBond_paysTheCurrentOwner() public {
        vm.prank(envOwner);
        registry.transferEnvironment(envId, stranger);
        vm.prank(stranger);
        registry.deactivate(envId);
        vm.roll(_now() + delay);
        vm.prank(stranger);
        registry.withdrawBond(envId);
        assertEq(token.balanceOf(stranger), bond);
        assertEq(token.balanceOf(envOwner), 0);
    }

    function test_withdrawBond_failsIfNotOwner() public {
        uint256 unlocksAt = _deactivate(envId);
        vm.roll(unlocksAt);
        vm.expectRevert(
            abi.encodeWithSelector(IEnvironmentRegistry.RegistryNotOwner.selector, envId, stranger, envOwner)
        );
        vm.prank(stranger);
        registry.withdrawBond(envId);
    }

    function test_withdrawBond_failsIfStillActive() public {
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryStillActive.selector, envId));
        vm.prank(envOwner);
        registry.withdrawBond(envId);
    }

    function test_withdrawBond_failsIfBondStillLocked() public {
        uint256 unlocksAt = _deactivate(envId);
        vm.roll(unlocksAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IEnvironmentRegistry.RegistryBondLocked.selector, envId, unlocksAt - 1, unlocksAt)
        );
        vm.prank(envOwner);
        registry.withdrawBond(envId);
    }

    function test_withdrawBond_failsIfWithdrawnTwice() public {
        uint256 unlocksAt = _deactivate(envId);
        vm.roll(unlocksAt);
        vm.startPrank(envOwner);
        registry.withdrawBond(envId);
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryBondAlreadyWithdrawn.selector, envId));
        registry.withdrawBond(envId);
        vm.stopPrank();
    }

    function testFuzz_withdrawBond_unlocksExactlyAfterDelay(uint256 wait) public {
        wait = bound(wait, 0, 3 * delay);
        uint256 unlocksAt = _deactivate(envId);
        vm.roll(_now() + wait);
        if (_now() < unlocksAt) {
            vm.expectRevert(
                abi.encodeWithSelector(IEnvironmentRegistry.RegistryBondLocked.selector, envId, _now(), unlocksAt)
            );
        }
        vm.prank(envOwner);
        registry.withdrawBond(envId);
    }

    // ─── views ────────────────────────────────────────────────────────────────

    function test_checkSubmittable_passesForActiveKnownVersion() public view {
        registry.checkSubmittable(envId, 1);
    }

    function test_checkSubmittable_failsIfVersionUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryUnknownVersion.selector, envId, 0, 1));
        registry.checkSubmittable(envId, 0);
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryUnknownVersion.selector, envId, 2, 1));
        registry.checkSubmittable(envId, 2);
    }

    function test_checkSubmittable_failsIfEnvironmentUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryUnknownEnvironment.selector, 0, 1));
        registry.checkSubmittable(0, 1);
    }

    function test_views_revertForUnknownEnvironmentOrVersion() public {
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryUnknownEnvironment.selector, 2, 1));
        registry.environment(2);
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryUnknownEnvironment.selector, 2, 1));
        registry.ownerOf(2);
        vm.expectRevert(abi.encodeWithSelector(IEnvironmentRegistry.RegistryUnknownVersion.selector, envId, 3, 1));
        registry.versionCid(envId, 3);
    }

    function test_views_reportDeploymentParams() public view {
        assertEq(bond, cfg.registrationBond);
        assertEq(delay, cfg.bondReleaseDelay);
    }
}
