"""The intake's learning: labelled request examples and the trained category models."""
