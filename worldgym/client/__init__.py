"""The client a participant runs: settings and network profiles, wallets, key locks,
and the session (settings, connection, wallet, store) every command is built on."""
