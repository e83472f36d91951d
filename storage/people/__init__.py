"""The network and the people in it: org units, teams, chat accounts, roles."""
