"""Tasks and the hours they earn: each transition one conditional database operation."""
