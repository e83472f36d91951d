"""People and their places: registration, joining a team, proving a phone, binding a group, the welcome and help."""
