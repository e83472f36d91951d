"""What WeChat's servers do to the bot: signed (and encrypted) callbacks, built with wechatpy's crypto.

Callbacks are posted to the bot's real Starlette routes. A message or user event also tells
the fake API that the user acted, as WeChat itself would know.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import httpx
from wechatpy.crypto import WeChatCrypto as OfficialAccountCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.utils import WeChatSigner

USER_EVENTS = {"subscribe", "SCAN", "CLICK", "VIEW", "LOCATION"}


def signature(*parts: str) -> str:
    """WeChat's SHA-1 over the sorted parts (computed with wechatpy)."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def message_xml(fields: dict[str, Any]) -> str:
    """A callback's plain XML, as WeChat writes it."""
    body = "".join(
        f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()
    )
    return f"<xml>{body}</xml>"


@dataclass
class Answer:
    """The bot's HTTP answer and, when it was a passive reply, its text."""

    status: int
    body: str
    reply: str | None


class WeChatServer:
    """Posts callbacks for one account (Official Account or WeCom app) to the bot."""

    def __init__(self, http: httpx.AsyncClient, *, path: str, token: str, receiver_id: str, clock: Any,
                 aes_key: str | None = None, wecom: bool = False, fake: Any = None, agent_id: int | None = None,
                 account: str = "gh_xinfeng") -> None:
        self.http = http
        self.path = path
        self.token = token
        self.receiver_id = receiver_id
        self.clock = clock
        self.wecom = wecom
        self.fake = fake
        self.agent_id = agent_id
        self.account = account
        self.crypto: Any = None
        if aes_key:
            self.crypto = (WeComCrypto if wecom else OfficialAccountCrypto)(token, aes_key, receiver_id)
        self._seq = 0

    def timestamp(self) -> str:
        return str(int(self.clock.now().timestamp()))

    def fields(self, user: str, msg_type: str, **extra: Any) -> dict[str, Any]:
        """A message's fields with a fresh MsgId (events carry none)."""
        self._seq += 1
        fields: dict[str, Any] = {"ToUserName": self.receiver_id if self.wecom else self.account,
                                  "FromUserName": user, "CreateTime": int(self.clock.now().timestamp()) + self._seq,
                                  "MsgType": msg_type}
        if msg_type != "event":
            fields["MsgId"] = 7_000_000_000 + self._seq
        if self.wecom:
            fields["AgentID"] = self.agent_id
        fields.update(extra)
        return fields

    def xml(self, fields: dict[str, Any]) -> str:
        """A callback's plain XML."""
        return message_xml(fields)

    def signed(self, xml: str, *, timestamp: str | None = None, nonce: str | None = None,
               encrypted: bool | None = None) -> tuple[dict[str, str], bytes]:
        """Query parameters and body of a callback carrying `xml`, signed like WeChat signs it."""
        ts = timestamp or self.timestamp()
        nonce = nonce or secrets.token_hex(5)
        params = {"timestamp": ts, "nonce": nonce}
        if not self.wecom:
            params["signature"] = signature(self.token, ts, nonce)
            params["openid"] = "o"
        encrypt = self.crypto is not None if encrypted is None else encrypted
        if not encrypt:
            return params, xml.encode()
        sealed = self.crypto.encrypt_message(xml, nonce, ts)
        cipher = sealed.split("<Encrypt><![CDATA[", 1)[1].split("]]></Encrypt>", 1)[0]
        params["msg_signature"] = signature(self.token, ts, nonce, cipher)
        if not self.wecom:
            params["encrypt_type"] = "aes"
        head = f"<ToUserName><![CDATA[{escape(self.receiver_id)}]]></ToUserName>"
        if self.wecom:
            head += f"<AgentID><![CDATA[{self.agent_id}]]></AgentID>"
        return params, f"<xml>{head}<Encrypt><![CDATA[{cipher}]]></Encrypt></xml>".encode()

    async def post(self, fields: dict[str, Any], **kwargs: Any) -> Answer:
        """Deliver one callback (and tell the fake API the user acted, when they did)."""
        if self.fake is not None and not self.wecom:
            event = fields.get("Event")
            if fields["MsgType"] != "event" or event in USER_EVENTS:
                self.fake.oa.user_acted(fields["FromUserName"], self.clock.now())
            elif event == "unsubscribe":
                self.fake.oa.followers.discard(fields["FromUserName"])
        params, body = self.signed(message_xml(fields), **kwargs)
        return await self.post_raw(params, body)

    async def post_raw(self, params: dict[str, str], body: bytes, headers: dict[str, str] | None = None) -> Answer:
        """POST a callback exactly as given."""
        response = await self.http.post(self.path, params=params, content=body, headers=headers)
        return Answer(response.status_code, response.text, self.open_reply(response))

    def open_reply(self, response: httpx.Response) -> str | None:
        """The passive reply's text (decrypted in encrypted mode); None for an empty answer."""
        text = response.text
        if response.status_code != 200 or not text.startswith("<xml>"):
            return None
        if "<Encrypt>" in text:
            import xmltodict

            outer = xmltodict.parse(text)["xml"]
            text = self.crypto.decrypt_message(text, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        import xmltodict

        return str(xmltodict.parse(text)["xml"].get("Content") or "")

    async def text(self, user: str, content: str, **kwargs: Any) -> Answer:
        """The user sends a text message."""
        return await self.post(self.fields(user, "text", Content=content), **kwargs)

    async def event(self, user: str, event: str, key: str = "", **kwargs: Any) -> Answer:
        """The user causes an event (subscribe, CLICK, unsubscribe …)."""
        extra: dict[str, Any] = {"Event": event}
        if key:
            extra["EventKey"] = key
        return await self.post(self.fields(user, "event", **extra), **kwargs)
