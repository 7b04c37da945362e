// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IModelRegistry
/// @notice The lineage of the shared model. An account with `REFINERY_ROLE`
/// registers each new checkpoint with its parent, the CID of the dataset
/// manifest it was trained on and a digest of its evaluation metrics. Miners
/// follow `latestModelId()`.
interface IModelRegistry {
    // ─── errors ───────────────────────────────────────────────────────────────

    /// @notice `cid` is not a binary CIDv0/CIDv1 with a sha2-256 multihash.
    /// @param cid The bytes given.
    error ModelsInvalidCid(bytes cid);

    /// @notice No model has id `modelId`.
    /// @param modelId The id asked for.
    /// @param count The number of models registered (ids are 1..count).
    error ModelsUnknownModel(uint256 modelId, uint256 count);

    /// @notice A model that is not a root must name its training dataset.
    /// @param parentId The parent given.
    error ModelsMissingDataset(uint256 parentId);

    // ─── events ───────────────────────────────────────────────────────────────

    /// @notice A model was registered.
    /// @param modelId The new id.
    /// @param parentId The model it was trained from (0 for a base model).
    /// @param registrar The refinery account that registered it.
    /// @param checkpointCid The binary CID of the checkpoint.
    /// @param datasetCid The binary CID of the dataset manifest (empty for a base model).
    /// @param metricsDigest keccak256 of the canonical metrics document.
    event ModelRegistered(
        uint256 indexed modelId,
        uint256 indexed parentId,
        address indexed registrar,
        bytes checkpointCid,
        bytes datasetCid,
        bytes32 metricsDigest
    );

    // ─── functions ────────────────────────────────────────────────────────────

    /// @notice Registers a model. Only accounts with `REFINERY_ROLE`.
    /// @param checkpointCid The binary CID of the checkpoint.
    /// @param parentId The parent model (0 for a base model).
    /// @param datasetCid The binary CID of the dataset manifest (may be empty only for a base model).
    /// @param metricsDigest keccak256 of the canonical metrics document.
    /// @return modelId The new model's id (ids start at 1).
    function registerModel(
        bytes calldata checkpointCid,
        uint256 parentId,
        bytes calldata datasetCid,
        bytes32 metricsDigest
    ) external returns (uint256 modelId);

    /// @notice A model's record.
    /// @param modelId The model.
    /// @return parentId The parent (0 for a base model).
    /// @return registrar Who registered it.
    /// @return registeredAt The block it was registered in.
    /// @return metricsDigest keccak256 of its metrics document.
    /// @return checkpointCid The binary CID of its checkpoint.
    /// @return datasetCid The binary CID of its dataset manifest.
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
        );

    /// @notice Whether `modelId` is registered.
    /// @param modelId The id.
    /// @return True if 1 <= modelId <= modelCount().
    function exists(uint256 modelId) external view returns (bool);

    /// @notice The number of models registered.
    /// @return The count.
    function modelCount() external view returns (uint256);

    /// @notice The most recently registered model, which miners follow (0 if none).
    /// @return The id.
    function latestModelId() external view returns (uint256);
}
