// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IEnvironmentRegistry
/// @notice Environment creators register environments here. An environment is a
/// numbered list of immutable versions, each the CID of a `worldgym.env/1` spec
/// pinned to content-addressed storage. Registering locks a token bond, which
/// the owner recovers `bondReleaseDelay` blocks after deactivating.
/// @dev CIDs are stored in binary form (CIDv0: the 34-byte sha2-256 multihash;
/// CIDv1: 0x01, codec (0x55 raw or 0x70 dag-pb), then the multihash), which the
/// off-chain side turns back into the exact CID string.
interface IEnvironmentRegistry {
    // ─── errors ───────────────────────────────────────────────────────────────

    /// @notice `cid` is not a binary CIDv0/CIDv1 with a sha2-256 multihash.
    /// @param cid The bytes given.
    error RegistryInvalidCid(bytes cid);

    /// @notice No environment has id `envId`.
    /// @param envId The id asked for.
    /// @param count The number of environments registered (ids are 1..count).
    error RegistryUnknownEnvironment(uint256 envId, uint256 count);

    /// @notice Environment `envId` has no version `version`.
    /// @param envId The environment.
    /// @param version The version asked for.
    /// @param versionCount The versions published (1..versionCount).
    error RegistryUnknownVersion(uint256 envId, uint256 version, uint256 versionCount);

    /// @notice `caller` is not the owner of environment `envId`.
    /// @param envId The environment.
    /// @param caller The account that called.
    /// @param owner The environment's owner.
    error RegistryNotOwner(uint256 envId, address caller, address owner);

    /// @notice Environment `envId` was deactivated at block `deactivatedAt`.
    /// @param envId The environment.
    /// @param deactivatedAt The block of deactivation.
    error RegistryInactive(uint256 envId, uint256 deactivatedAt);

    /// @notice Environment `envId` is still active: deactivate it first.
    /// @param envId The environment.
    error RegistryStillActive(uint256 envId);

    /// @notice The bond of `envId` unlocks at block `unlocksAt`; it is block `blockNumber`.
    /// @param envId The environment.
    /// @param blockNumber The current block.
    /// @param unlocksAt The first block at which the bond can be withdrawn.
    error RegistryBondLocked(uint256 envId, uint256 blockNumber, uint256 unlocksAt);

    /// @notice The bond of `envId` was already withdrawn.
    /// @param envId The environment.
    error RegistryBondAlreadyWithdrawn(uint256 envId);

    /// @notice The zero address cannot own an environment.
    error RegistryZeroAddress();

    // ─── events ───────────────────────────────────────────────────────────────

    /// @notice A new environment was registered with version 1.
    /// @param envId The new environment's id.
    /// @param owner Its owner (the registrant).
    /// @param specCid The binary CID of version 1's spec.
    /// @param bond The token bond locked.
    event EnvironmentRegistered(uint256 indexed envId, address indexed owner, bytes specCid, uint256 bond);

    /// @notice A new version of an environment was published.
    /// @param envId The environment.
    /// @param version The new version number.
    /// @param specCid The binary CID of the version's spec.
    event VersionPublished(uint256 indexed envId, uint256 indexed version, bytes specCid);

    /// @notice An environment changed owner.
    /// @param envId The environment.
    /// @param from The previous owner.
    /// @param to The new owner.
    event EnvironmentTransferred(uint256 indexed envId, address indexed from, address indexed to);

    /// @notice An environment stopped accepting batches.
    /// @param envId The environment.
    /// @param bondUnlocksAt The first block at which its bond can be withdrawn.
    event EnvironmentDeactivated(uint256 indexed envId, uint256 bondUnlocksAt);

    /// @notice The bond of a deactivated environment was returned to its owner.
    /// @param envId The environment.
    /// @param owner The owner paid.
    /// @param amount The bond returned.
    event BondWithdrawn(uint256 indexed envId, address indexed owner, uint256 amount);

    // ─── functions ────────────────────────────────────────────────────────────

    /// @notice Registers an environment whose version 1 is `specCid`, pulling the bond from the caller.
    /// @param specCid The binary CID of the spec.
    /// @return envId The new environment's id (ids start at 1).
    function registerEnvironment(bytes calldata specCid) external returns (uint256 envId);

    /// @notice Publishes a new immutable version of `envId`. Owner only, while active.
    /// @param envId The environment.
    /// @param specCid The binary CID of the new spec.
    /// @return version The new version number.
    function publishVersion(uint256 envId, bytes calldata specCid) external returns (uint256 version);

    /// @notice Transfers `envId` (its royalties and bond) to `newOwner`. Owner only.
    /// @param envId The environment.
    /// @param newOwner The new owner.
    function transferEnvironment(uint256 envId, address newOwner) external;

    /// @notice Stops `envId` from accepting batches and starts the bond's release delay. Owner only.
    /// @param envId The environment.
    function deactivate(uint256 envId) external;

    /// @notice Returns the bond of a deactivated environment once the delay has passed. Owner only.
    /// @param envId The environment.
    function withdrawBond(uint256 envId) external;

    /// @notice Reverts unless `envId` is active and has version `version`.
    /// @param envId The environment.
    /// @param version The version.
    function checkSubmittable(uint256 envId, uint256 version) external view;

    /// @notice An environment's record.
    /// @param envId The environment.
    /// @return owner The owner.
    /// @return versionCount The number of versions published.
    /// @return active Whether it accepts batches.
    /// @return deactivatedAt The block it was deactivated at (0 while active).
    /// @return bond The bond still locked (0 once withdrawn).
    function environment(uint256 envId)
        external
        view
        returns (address owner, uint256 versionCount, bool active, uint256 deactivatedAt, uint256 bond);

    /// @notice The owner of `envId`, who earns its royalties.
    /// @param envId The environment.
    /// @return The owner.
    function ownerOf(uint256 envId) external view returns (address);

    /// @notice The binary spec CID of version `version` of `envId`.
    /// @param envId The environment.
    /// @param version The version (1-based).
    /// @return The binary CID.
    function versionCid(uint256 envId, uint256 version) external view returns (bytes memory);

    /// @notice The number of environments registered.
    /// @return The count (ids are 1..count).
    function environmentCount() external view returns (uint256);

    /// @notice The token bond locked by each registration.
    /// @return The bond in token units.
    function registrationBond() external view returns (uint256);

    /// @notice Blocks between deactivation and bond withdrawal.
    /// @return The delay in blocks.
    function bondReleaseDelay() external view returns (uint256);
}
