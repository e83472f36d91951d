"""The scheduled jobs, each "send what is due and not yet sent"."""
