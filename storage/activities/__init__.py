"""Activities, attendance and projects: sign-ups, the waitlist, check-in and the hours they earn."""
