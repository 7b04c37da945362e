// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {BaseTest} from "./utils/BaseTest.sol";

/// @dev The AccessControl surface of ModelRegistry, which IModelRegistry leaves out.
interface IModelRoles is IAccessControl {
    function REFINERY_ROLE() external view returns (bytes32);
    function DEFAULT_ADMIN_ROLE() external view returns (bytes32);
}

contract ModelRegistryTest is BaseTest {
    bytes32 internal refineryRole;
    IModelRoles internal roles;

    function setUp() public override {
        super.setUp();
        roles = IModelRoles(address(models));
        refineryRole = roles.REFINERY_ROLE();
    }

    function test_constructor_grantsAdminAndRefineryRoles() public view {
        assertTrue(roles.hasRole(roles.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(roles.hasRole(refineryRole, admin));
        assertEq(refineryRole, keccak256("REFINERY_ROLE"));
    }

    function test_registerModel_registersChildWithLineageAndEmits() public {
        bytes memory checkpoint = _cidV1(0x55);
        bytes memory dataset = _cid();
        bytes32 digest = keccak256("eval");
        vm.roll(_now() + 7);
        vm.expectEmit(address(models));
        emit IModelRegistry.ModelRegistered(2, modelId, admin, checkpoint, dataset, digest);
        vm.prank(admin);
        uint256 id = models.registerModel(checkpoint, modelId, dataset, digest);

        assertEq(id, 2);
        assertEq(models.modelCount(), 2);
        assertEq(models.latestModelId(), 2);
        assertTrue(models.exists(2));
        (
            uint256 parentId,
            address registrar,
            uint256 registeredAt,
            bytes32 metricsDigest,
            bytes memory checkpointCid,
            bytes memory datasetCid
        ) = models.model(id);
        assertEq(parentId, modelId);
        assertEq(registrar, admin);
        assertEq(registeredAt, _now());
        assertEq(metricsDigest, digest);
        assertEq(checkpointCid, checkpoint);
        assertEq(datasetCid, dataset);
    }

    function test_registerModel_failsWithoutRefineryRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, refineryRole)
        );
        vm.prank(stranger);
        models.registerModel(_cid(), 0, "", bytes32(0));
    }

    function test_registerModel_followsRoleGrantsAndRevocations() public {
        vm.prank(admin);
        roles.grantRole(refineryRole, stranger);
        vm.prank(stranger);
        models.registerModel(_cid(), 0, "", bytes32(0));

        vm.prank(admin);
        roles.revokeRole(refineryRole, stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, refineryRole)
        );
        vm.prank(stranger);
        models.registerModel(_cid(), 0, "", bytes32(0));
    }

    function test_registerModel_failsIfCheckpointCidInvalid() public {
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelsInvalidCid.selector, hex"12"));
        vm.prank(admin);
        models.registerModel(hex"12", 0, "", bytes32(0));
    }

    function test_registerModel_failsIfDatasetCidInvalid() public {
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelsInvalidCid.selector, hex"abcd"));
        vm.prank(admin);
        models.registerModel(_cid(), modelId, hex"abcd", bytes32(0));
    }

    function test_registerModel_failsIfParentUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelsUnknownModel.selector, 2, 1));
        vm.prank(admin);
        models.registerModel(_cid(), 2, _cid(), bytes32(0));
    }

    function test_registerModel_failsIfChildHasNoDataset() public {
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelsMissingDataset.selector, modelId));
        vm.prank(admin);
        models.registerModel(_cid(), modelId, "", bytes32(0));
    }

    function test_registerModel_baseModelMayNameADataset() public {
        vm.prank(admin);
        uint256 id = models.registerModel(_cid(), 0, _cid(), bytes32(0));
        (uint256 parentId,,,,, bytes memory datasetCid) = models.model(id);
        assertEq(parentId, 0);
        assertEq(datasetCid.length, 34);
    }

    function test_model_failsIfUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelsUnknownModel.selector, 0, 1));
        models.model(0);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelsUnknownModel.selector, 2, 1));
        models.model(2);
        assertFalse(models.exists(0));
        assertFalse(models.exists(2));
    }
}
