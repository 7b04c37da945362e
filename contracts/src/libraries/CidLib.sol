// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title CidLib
/// @notice Shape checks for binary CIDs, the form in which WorldGym keeps
/// content addresses on chain. Accepted: CIDv0 (the 34-byte multihash
/// `0x12 0x20 <sha256>`) and CIDv1 `0x01 <codec> 0x12 0x20 <sha256>` with codec
/// raw (0x55) or dag-pb (0x70), which is everything `ipfs add` produces.
library CidLib {
    /// @notice Whether `cid` is a binary CIDv0 or CIDv1 (raw or dag-pb) over sha2-256.
    /// @param cid The bytes to check.
    /// @return True if the shape is valid.
    function isValid(bytes calldata cid) internal pure returns (bool) {
        if (cid.length == 34) {
            return cid[0] == 0x12 && cid[1] == 0x20;
        }
        if (cid.length == 36) {
            return cid[0] == 0x01 && (cid[1] == 0x55 || cid[1] == 0x70) && cid[2] == 0x12 && cid[3] == 0x20;
        }
        return false;
    }
}
