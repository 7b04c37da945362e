// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IEnvironmentRegistry} from "./interfaces/IEnvironmentRegistry.sol";
import {CidLib} from "./libraries/CidLib.sol";

/// @title EnvironmentRegistry
/// @notice See {IEnvironmentRegistry}.
contract EnvironmentRegistry is IEnvironmentRegistry, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @dev One slot: owner, version count and deactivation block (0 while active).
    struct Environment {
        address owner;
        uint32 versionCount;
        uint64 deactivatedAt;
    }

    // ─── storage ──────────────────────────────────────────────────────────────

    IERC20 private immutable _token;
    uint256 private immutable _registrationBond;
    uint256 private immutable _bondReleaseDelay;

    uint256 private _environmentCount;
    mapping(uint256 envId => Environment) private _environments;
    mapping(uint256 envId => uint256) private _bonds;
    mapping(uint256 envId => mapping(uint256 version => bytes)) private _versionCids;

    /// @param token_ The token bonds are paid in.
    /// @param registrationBond_ Tokens locked per registration.
    /// @param bondReleaseDelay_ Blocks between deactivation and bond withdrawal.
    constructor(IERC20 token_, uint256 registrationBond_, uint256 bondReleaseDelay_) {
        _token = token_;
        _registrationBond = registrationBond_;
        _bondReleaseDelay = bondReleaseDelay_;
    }

    // ─── modifiers ────────────────────────────────────────────────────────────

    modifier onlyEnvOwner(uint256 envId) {
        address owner = _existing(envId).owner;
        if (msg.sender != owner) revert RegistryNotOwner(envId, msg.sender, owner);
        _;
    }

    // ─── external ─────────────────────────────────────────────────────────────

    /// @inheritdoc IEnvironmentRegistry
    function registerEnvironment(bytes calldata specCid) external nonReentrant returns (uint256 envId) {
        if (!CidLib.isValid(specCid)) revert RegistryInvalidCid(specCid);
        envId = ++_environmentCount;
        _environments[envId] = Environment({owner: msg.sender, versionCount: 1, deactivatedAt: 0});
        _bonds[envId] = _registrationBond;
        _versionCids[envId][1] = specCid;
        emit EnvironmentRegistered(envId, msg.sender, specCid, _registrationBond);
        emit VersionPublished(envId, 1, specCid);
        // Interaction last: pull the bond (reverts the whole registration if it fails).
        if (_registrationBond > 0) _token.safeTransferFrom(msg.sender, address(this), _registrationBond);
    }

    /// @inheritdoc IEnvironmentRegistry
    function publishVersion(uint256 envId, bytes calldata specCid)
        external
        onlyEnvOwner(envId)
        returns (uint256 version)
    {
        Environment storage env = _environments[envId];
        if (env.deactivatedAt != 0) revert RegistryInactive(envId, env.deactivatedAt);
        if (!CidLib.isValid(specCid)) revert RegistryInvalidCid(specCid);
        version = ++env.versionCount;
        _versionCids[envId][version] = specCid;
        emit VersionPublished(envId, version, specCid);
    }

    /// @inheritdoc IEnvironmentRegistry
    function transferEnvironment(uint256 envId, address newOwner) external onlyEnvOwner(envId) {
        if (newOwner == address(0)) revert RegistryZeroAddress();
        _environments[envId].owner = newOwner;
        emit EnvironmentTransferred(envId, msg.sender, newOwner);
    }

    /// @inheritdoc IEnvironmentRegistry
    function deactivate(uint256 envId) external onlyEnvOwner(envId) {
        Environment storage env = _environments[envId];
        if (env.deactivatedAt != 0) revert RegistryInactive(envId, env.deactivatedAt);
        env.deactivatedAt = SafeCast.toUint64(block.number);
        emit EnvironmentDeactivated(envId, block.number + _bondReleaseDelay);
    }

    /// @inheritdoc IEnvironmentRegistry
    function withdrawBond(uint256 envId) external nonReentrant onlyEnvOwner(envId) {
        Environment storage env = _environments[envId];
        if (env.deactivatedAt == 0) revert RegistryStillActive(envId);
        uint256 unlocksAt = env.deactivatedAt + _bondReleaseDelay;
        if (block.number < unlocksAt) revert RegistryBondLocked(envId, block.number, unlocksAt);
        uint256 amount = _bonds[envId];
        if (amount == 0) revert RegistryBondAlreadyWithdrawn(envId);
        _bonds[envId] = 0;
        emit BondWithdrawn(envId, msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    // ─── views ────────────────────────────────────────────────────────────────

    /// @inheritdoc IEnvironmentRegistry
    function checkSubmittable(uint256 envId, uint256 version) external view {
        Environment memory env = _existing(envId);
        if (env.deactivatedAt != 0) revert RegistryInactive(envId, env.deactivatedAt);
        if (version == 0 || version > env.versionCount) {
            revert RegistryUnknownVersion(envId, version, env.versionCount);
        }
    }

    /// @inheritdoc IEnvironmentRegistry
    function environment(uint256 envId)
        external
        view
        returns (address owner, uint256 versionCount, bool active, uint256 deactivatedAt, uint256 bond)
    {
        Environment memory env = _existing(envId);
        return (env.owner, env.versionCount, env.deactivatedAt == 0, env.deactivatedAt, _bonds[envId]);
    }

    /// @inheritdoc IEnvironmentRegistry
    function ownerOf(uint256 envId) external view returns (address) {
        return _existing(envId).owner;
    }

    /// @inheritdoc IEnvironmentRegistry
    function versionCid(uint256 envId, uint256 version) external view returns (bytes memory) {
        Environment memory env = _existing(envId);
        if (version == 0 || version > env.versionCount) {
            revert RegistryUnknownVersion(envId, version, env.versionCount);
        }
        return _versionCids[envId][version];
    }

    /// @inheritdoc IEnvironmentRegistry
    function environmentCount() external view returns (uint256) {
        return _environmentCount;
    }

    /// @inheritdoc IEnvironmentRegistry
    function registrationBond() external view returns (uint256) {
        return _registrationBond;
    }

    /// @inheritdoc IEnvironmentRegistry
    function bondReleaseDelay() external view returns (uint256) {
        return _bondReleaseDelay;
    }

    // ─── internal ─────────────────────────────────────────────────────────────

    function _existing(uint256 envId) private view returns (Environment memory env) {
        env = _environments[envId];
        if (env.owner == address(0)) revert RegistryUnknownEnvironment(envId, _environmentCount);
    }
}
