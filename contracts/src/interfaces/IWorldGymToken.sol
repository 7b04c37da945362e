// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IWorldGymToken
/// @notice The WorldGym token (WGT): an ERC20 with EIP-2612 permit whose only
/// source of new supply after genesis is the protocol's per-epoch emission.
/// @dev Emission schedule: `emissionOf(e) = initialEpochEmission >> (e / halvingInterval)`,
/// and total supply never exceeds `cap()` (a mint that would cross the cap is clamped).
interface IWorldGymToken is IERC20 {
    // ─── errors ───────────────────────────────────────────────────────────────

    /// @notice `caller` tried to mint but is not the protocol.
    /// @param caller The account that called.
    /// @param minter The protocol contract allowed to mint (zero before it is set).
    error TokenNotMinter(address caller, address minter);

    /// @notice `caller` tried to set the minter but did not deploy the token.
    /// @param caller The account that called.
    /// @param deployer The account that deployed the token.
    error TokenNotDeployer(address caller, address deployer);

    /// @notice The minter can be set once; it already is.
    /// @param minter The minter already set.
    error TokenMinterAlreadySet(address minter);

    /// @notice The zero address was given where an account is required.
    error TokenZeroAddress();

    /// @notice The emission of `epoch` was already minted.
    /// @param epoch The epoch.
    error TokenEmissionAlreadyMinted(uint256 epoch);

    /// @notice More than the schedule allows was requested for `epoch`.
    /// @param epoch The epoch.
    /// @param requested The amount requested.
    /// @param scheduled The schedule's emission for that epoch.
    error TokenEmissionAboveSchedule(uint256 epoch, uint256 requested, uint256 scheduled);

    /// @notice Constructor parameters that cannot work.
    /// @param cap The requested cap.
    /// @param genesisSupply The requested genesis supply.
    /// @param halvingInterval The requested halving interval (epochs).
    error TokenInvalidParams(uint256 cap, uint256 genesisSupply, uint256 halvingInterval);

    // ─── events ───────────────────────────────────────────────────────────────

    /// @notice The protocol contract allowed to mint was set (once).
    /// @param minter The protocol contract.
    event MinterSet(address indexed minter);

    /// @notice The emission of an epoch was minted.
    /// @param epoch The epoch.
    /// @param to The recipient (the protocol, which credits participants).
    /// @param requested The amount the protocol asked for.
    /// @param minted The amount minted (less than requested only at the cap).
    event EmissionMinted(uint256 indexed epoch, address indexed to, uint256 requested, uint256 minted);

    // ─── functions ────────────────────────────────────────────────────────────

    /// @notice Sets the protocol contract as the only minter. Callable once, by the deployer.
    /// @param minter_ The protocol contract.
    function setMinter(address minter_) external;

    /// @notice Mints up to `amount` of `epoch`'s emission to `to`. Only the minter; once per epoch.
    /// @param epoch The epoch whose emission is minted.
    /// @param to The recipient.
    /// @param amount The amount wanted, at most `emissionOf(epoch)`.
    /// @return minted The amount minted: `amount`, or less if the cap is reached.
    function mintEmission(uint256 epoch, address to, uint256 amount) external returns (uint256 minted);

    /// @notice The scheduled emission of `epoch` (before the cap).
    /// @param epoch The epoch.
    /// @return The emission in token units (18 decimals).
    function emissionOf(uint256 epoch) external view returns (uint256);

    /// @notice Whether the emission of `epoch` was minted.
    /// @param epoch The epoch.
    /// @return True once minted.
    function emissionMinted(uint256 epoch) external view returns (bool);

    /// @notice The protocol contract allowed to mint.
    /// @return The minter (zero before it is set).
    function minter() external view returns (address);

    /// @notice The hard cap on total supply.
    /// @return The cap in token units.
    function cap() external view returns (uint256);

    /// @notice The emission of epoch 0.
    /// @return The emission in token units.
    function initialEpochEmission() external view returns (uint256);

    /// @notice Epochs between two halvings of the emission.
    /// @return The interval in epochs.
    function halvingInterval() external view returns (uint256);
}
