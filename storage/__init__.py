"""Storage: the models, sessions, migrations and the transactional operations on them.

Imports nothing of Xinfeng's but itself; `handlers/`, `scheduler/` and `bot/` build on it.
"""
