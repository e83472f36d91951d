"""The WeChat Official Account channel (wechatpy crypto, async HTTP): callbacks, API client, replies, the channel."""
