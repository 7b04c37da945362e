"""WorldGym client."""
