"""The activities feature's domain actions: each validates, changes state, notifies and audits.

`signups` (publish an activity, sign up, cancel), `attendance` (check in/out, verify hours,
no-shows), `broadcast` (broadcast, mute, unmute), `projects` (projects, beneficiaries),
`moral_day` (set the moral activity day).
"""
