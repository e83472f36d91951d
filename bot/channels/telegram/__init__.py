"""The Telegram channel (python-telegram-bot): config, inbound translation, rendering, sending, the channel."""
