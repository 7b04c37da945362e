// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {CidLib} from "./libraries/CidLib.sol";

/// @title ModelRegistry
/// @notice See {IModelRegistry}. The admin (DEFAULT_ADMIN_ROLE) grants and revokes `REFINERY_ROLE`.
contract ModelRegistry is IModelRegistry, AccessControl {
    /// @notice The role allowed to register models.
    bytes32 public constant REFINERY_ROLE = keccak256("REFINERY_ROLE");

    struct Model {
        uint64 parentId;
        uint64 registeredAt;
        address registrar;
        bytes32 metricsDigest;
        bytes checkpointCid;
        bytes datasetCid;
    }

    // ─── storage ──────────────────────────────────────────────────────────────

    uint256 private _modelCount;
    mapping(uint256 modelId => Model) private _models;

    /// @param admin Holds DEFAULT_ADMIN_ROLE and, initially, REFINERY_ROLE.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REFINERY_ROLE, admin);
    }

    // ─── external ─────────────────────────────────────────────────────────────

    /// @inheritdoc IModelRegistry
    function registerModel(
        bytes calldata checkpointCid,
        uint256 parentId,
        bytes calldata datasetCid,
        bytes32 metricsDigest
    ) external onlyRole(REFINERY_ROLE) returns (uint256 modelId) {
        if (!CidLib.isValid(checkpointCid)) revert ModelsInvalidCid(checkpointCid);
        if (parentId != 0) {
            if (parentId > _modelCount) revert ModelsUnknownModel(parentId, _modelCount);
            if (datasetCid.length == 0) revert ModelsMissingDataset(parentId);
        }
        if (datasetCid.length != 0 && !CidLib.isValid(datasetCid)) revert ModelsInvalidCid(datasetCid);
        modelId = ++_modelCount;
        _models[modelId] = Model({
            parentId: SafeCast.toUint64(parentId),
            registeredAt: SafeCast.toUint64(block.number),
            registrar: msg.sender,
            metricsDigest: metricsDigest,
            checkpointCid: checkpointCid,
            datasetCid: datasetCid
        });
        emit ModelRegistered(modelId, parentId, msg.sender, checkpointCid, datasetCid, metricsDigest);
    }

    // ─── views ────────────────────────────────────────────────────────────────

    /// @inheritdoc IModelRegistry
    function model(uint256 modelId)
        external
        view
        returns (
            uint256 parentId,
            address registrar,
            uint256 registeredAt,
            bytes32 metricsDigest,
            bytes memory checkpointCid,
            bytes memory datasetCid
        )
    {
        if (modelId == 0 || modelId > _modelCount) {
            revert ModelsUnknownModel(modelId, _modelCount);
        }
        Model storage m = _models[modelId];
        return (m.parentId, m.registrar, m.registeredAt, m.metricsDigest, m.checkpointCid, m.datasetCid);
    }

    /// @inheritdoc IModelRegistry
    function exists(uint256 modelId) external view returns (bool) {
        return modelId != 0 && modelId <= _modelCount;
    }

    /// @inheritdoc IModelRegistry
    function modelCount() external view returns (uint256) {
        return _modelCount;
    }

    /// @inheritdoc IModelRegistry
    function latestModelId() external view returns (uint256) {
        return _modelCount;
    }
}
