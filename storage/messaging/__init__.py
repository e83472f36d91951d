"""Messages in and out: the inbox, the outbox, conversation state, attachments, and the WeChat channels' tables."""
