"""The people feature's domain actions: each validates, changes state, notifies and audits.

`accounts` (register a village, join a team, link a chat account by a proved phone) and
`groups` (bind and unbind a team's group chat).
"""
