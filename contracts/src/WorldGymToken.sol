// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

import {IWorldGymToken} from "./interfaces/IWorldGymToken.sol";

/// @title WorldGymToken
/// @notice See {IWorldGymToken}.
contract WorldGymToken is ERC20, ERC20Permit, ERC20Capped, IWorldGymToken {
    // ─── storage ──────────────────────────────────────────────────────────────

    address private immutable _deployer;
    uint256 private immutable _initialEpochEmission;
    uint256 private immutable _halvingInterval;
    address private _minter;
    mapping(uint256 epoch => bool) private _emissionMinted;

    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    /// @param cap_ Hard cap on total supply (must cover the genesis supply).
    /// @param initialEpochEmission_ Emission of epoch 0, halved every `halvingInterval_` epochs.
    /// @param halvingInterval_ Epochs between halvings (at least 1).
    /// @param genesisRecipient Receives the genesis supply (e.g. a treasury or the devnet faucet).
    /// @param genesisSupply Tokens minted at deployment.
    constructor(
        string memory name_,
        string memory symbol_,
        uint256 cap_,
        uint256 initialEpochEmission_,
        uint256 halvingInterval_,
        address genesisRecipient,
        uint256 genesisSupply
    ) ERC20(name_, symbol_) ERC20Permit(name_) ERC20Capped(cap_) {
        if (halvingInterval_ == 0 || genesisSupply > cap_) {
            revert TokenInvalidParams(cap_, genesisSupply, halvingInterval_);
        }
        _deployer = msg.sender;
        _initialEpochEmission = initialEpochEmission_;
        _halvingInterval = halvingInterval_;
        if (genesisSupply > 0) {
            if (genesisRecipient == address(0)) revert TokenZeroAddress();
            _mint(genesisRecipient, genesisSupply);
        }
    }

    // ─── external ─────────────────────────────────────────────────────────────

    /// @inheritdoc IWorldGymToken
    function setMinter(address minter_) external {
        if (msg.sender != _deployer) revert TokenNotDeployer(msg.sender, _deployer);
        if (_minter != address(0)) revert TokenMinterAlreadySet(_minter);
        if (minter_ == address(0)) revert TokenZeroAddress();
        _minter = minter_;
        emit MinterSet(minter_);
    }

    /// @inheritdoc IWorldGymToken
    function mintEmission(uint256 epoch, address to, uint256 amount) external returns (uint256 minted) {
        if (msg.sender != _minter) revert TokenNotMinter(msg.sender, _minter);
        if (_emissionMinted[epoch]) revert TokenEmissionAlreadyMinted(epoch);
        uint256 scheduled = emissionOf(epoch);
        if (amount > scheduled) revert TokenEmissionAboveSchedule(epoch, amount, scheduled);
        _emissionMinted[epoch] = true;
        uint256 room = cap() - totalSupply(); // totalSupply <= cap is enforced by ERC20Capped
        minted = amount < room ? amount : room;
        if (minted > 0) _mint(to, minted);
        emit EmissionMinted(epoch, to, amount, minted);
    }

    // ─── views ────────────────────────────────────────────────────────────────

    /// @inheritdoc IWorldGymToken
    function emissionOf(uint256 epoch) public view returns (uint256) {
        uint256 halvings = epoch / _halvingInterval;
        return halvings >= 256 ? 0 : _initialEpochEmission >> halvings;
    }

    /// @inheritdoc IWorldGymToken
    function emissionMinted(uint256 epoch) external view returns (bool) {
        return _emissionMinted[epoch];
    }

    /// @inheritdoc IWorldGymToken
    function minter() external view returns (address) {
        return _minter;
    }

    /// @inheritdoc IWorldGymToken
    function cap() public view override(ERC20Capped, IWorldGymToken) returns (uint256) {
        return super.cap();
    }

    /// @inheritdoc IWorldGymToken
    function initialEpochEmission() external view returns (uint256) {
        return _initialEpochEmission;
    }

    /// @inheritdoc IWorldGymToken
    function halvingInterval() external view returns (uint256) {
        return _halvingInterval;
    }

    // ─── internal ─────────────────────────────────────────────────────────────

    /// @dev Every balance change goes through ERC20._update; ERC20Capped adds the cap check on mints.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped) {
        super._update(from, to, value);
    }
}
