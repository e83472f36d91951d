"""The WeCom (企业微信) channel: a self-built app's callbacks, app messages and team group chats."""
