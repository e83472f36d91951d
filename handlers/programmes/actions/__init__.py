"""The programmes' domain actions: the love supermarket (points), wishes and pairings, one module each."""
