"""WorldGym refinery."""
