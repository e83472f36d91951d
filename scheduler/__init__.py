"""The clock: ticks that run idempotent jobs reading what is owed from the database."""
