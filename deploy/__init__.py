"""WorldGym deploy."""
