"""Points and the love supermarket, small wishes, pairings: ledgers and atomic transitions."""
