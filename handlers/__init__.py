"""What the bot says and does: framework (core), language, and one package per feature."""
