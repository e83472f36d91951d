"""Outbound delivery: the outbox relay and the rate limits every sender shares."""
