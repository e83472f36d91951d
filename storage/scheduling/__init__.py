"""What the scheduler owes: recurring rules, firings and the sent-log, set-based fan-out, the leader lease."""
