"""The composition root: settings, the CLI, the channels and outbound delivery."""
