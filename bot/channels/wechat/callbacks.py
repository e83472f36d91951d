"""Safe intake of WeChat and WeCom callbacks: size limit, signatures, clock skew, hardened XML.

Everything a callback carries is checked before anything is stored: a body over the limit
gets 413, a bad `signature`/`msg_signature` or a timestamp more than five minutes off gets
403, and XML that is not plain data gets 400. The XML parser refuses any DTD, entity or
external reference (defusedxml), so a billion-laughs or XXE payload is refused at its first
line, before anything expands. wechatpy is used only for its AES crypto, never for parsing.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException
from starlette.requests import Request
from wechatpy.crypto import WeChatCrypto as OfficialAccountCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.utils import WeChatSigner

# WeChat's own messages are a few hundred bytes; a generous cap still stops floods early.
MAX_BODY_BYTES = 64 * 1024
MAX_CLOCK_SKEW_SECONDS = 300


class CallbackRejected(Exception):
    """A callback refused before it was stored; `status` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sign(token: str, *parts: str) -> str:
    """WeChat's signature: SHA-1 of the token and parts, sorted and concatenated."""
    signer = WeChatSigner()
    signer.add_data(token, *parts)
    return str(signer.signature)


def verify_signature(token: str, given: str | None, *parts: str) -> None:
    """Raise 403 unless `given` is the signature of the token and parts (constant-time)."""
    if not given or not hmac.compare_digest(sign(token, *parts), given.lower()):
        raise CallbackRejected(403, "bad signature")


def check_timestamp(timestamp: str | None, now: datetime, skew: int = MAX_CLOCK_SKEW_SECONDS) -> None:
    """Raise 403 for a missing timestamp or one more than `skew` seconds from now (a replay)."""
    try:
        sent = int(timestamp or "")
    except ValueError:
        raise CallbackRejected(403, "bad timestamp") from None
    if abs(now.timestamp() - sent) > skew:
        raise CallbackRejected(403, "stale timestamp")


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, or 413 as soon as it is known to exceed `limit` (header or stream)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise CallbackRejected(413, "body too large")
        except ValueError:
            raise CallbackRejected(400, "bad content-length") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise CallbackRejected(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _element_value(element: Element) -> Any:
    children = list(element)
    if not children:
        return (element.text or "").strip()
    value: dict[str, Any] = {}
    for child in children:
        value.setdefault(child.tag, _element_value(child))
    return value


def parse_xml(body: bytes | str) -> dict[str, Any]:
    """A WeChat `<xml>` document as a dict of its fields; 400 for anything else."""
    try:
        root = safe_et.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError) as exc:
        raise CallbackRejected(400, f"refused XML: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise CallbackRejected(400, "not a WeChat message")
    value = _element_value(root)
    return value if isinstance(value, dict) else {}


def _cdata(value: str) -> str:
    # "]]>" would end the section early; split it across two sections instead.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_xml(fields: dict[str, str | int]) -> str:
    """A flat `<xml>` reply; strings in CDATA, numbers bare (WeChat's passive-reply format)."""
    body = "".join(
        f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}>{_cdata(str(v))}</{k}>" for k, v in fields.items()
    )
    return f"<xml>{body}</xml>"


@dataclass(frozen=True)
class Opened:
    """A verified, decrypted callback: its fields and what sealing the reply needs."""

    fields: dict[str, Any]
    encrypted: bool
    nonce: str
    timestamp: str


class CallbackCodec:
    """Verifies, decrypts and seals one account's callbacks (Official Account or WeCom app).

    `receiver_id` is what WeChat writes into each ciphertext: the app id of an Official
    Account, the corp id of a WeCom app. With an AES key the account is in encrypted mode
    and plain callbacks are refused; WeCom callbacks are always encrypted.
    """

    def __init__(
        self,
        *,
        token: str,
        receiver_id: str,
        aes_key: str | None,
        wecom: bool = False,
        max_body: int = MAX_BODY_BYTES,
    ) -> None:
        self.token = token
        self.receiver_id = receiver_id
        self.wecom = wecom
        self.max_body = max_body
        self._crypto: Any = None
        if aes_key:
            crypto_class = WeComCrypto if wecom else OfficialAccountCrypto
            self._crypto = crypto_class(token, aes_key, receiver_id)
        elif wecom:
            raise ValueError("WeCom callbacks are always encrypted: an AES key is required")

    @property
    def encrypted(self) -> bool:
        """Whether callbacks and replies are AES-encrypted (安全模式)."""
        return self._crypto is not None

    def echo(self, query: dict[str, str], now: datetime) -> str:
        """Answer WeChat's URL verification (GET with `echostr`)."""
        check_timestamp(query.get("timestamp"), now)
        timestamp, nonce, echostr = query.get("timestamp", ""), query.get("nonce", ""), query.get("echostr", "")
        if not echostr:
            raise CallbackRejected(400, "no echostr")
        if not self.wecom:
            # The Official Account verifies its URL with the plain signature even in encrypted mode.
            verify_signature(self.token, query.get("signature"), timestamp, nonce)
            return echostr
        signature = query.get("msg_signature")
        verify_signature(self.token, signature, timestamp, nonce, echostr)
        try:
            return str(self._crypto.check_signature(signature, timestamp, nonce, echostr))
        except Exception:  # noqa: BLE001 — a verified signature over an undecryptable echostr
            raise CallbackRejected(403, "cannot decrypt for this account") from None

    async def open(self, request: Request, now: datetime) -> Opened:
        """Verify and decrypt a POSTed callback; raises `CallbackRejected` with the HTTP status."""
        query = request.query_params
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise CallbackRejected(413, "body too large")
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        check_timestamp(timestamp, now)
        if not self.wecom:
            # Present in both modes on the Official Account: checked before the body is read.
            verify_signature(self.token, query.get("signature"), timestamp, nonce)
        if self.encrypted and not self.wecom and query.get("encrypt_type") != "aes":
            raise CallbackRejected(403, "plain callback to an account in encrypted mode")
        fields = parse_xml(await read_body(request, self.max_body))
        if not self.encrypted:
            return Opened(fields, False, nonce, timestamp)
        encrypted = fields.get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise CallbackRejected(400, "no Encrypt field")
        signature = query.get("msg_signature")
        verify_signature(self.token, signature, timestamp, nonce, encrypted)
        try:
            inner = self._crypto.decrypt_message({"Encrypt": encrypted}, signature, timestamp, nonce)
        except Exception:  # noqa: BLE001 — bad base64 or padding, or another account's message
            raise CallbackRejected(403, "cannot decrypt for this account") from None
        return Opened(parse_xml(str(inner)), True, nonce, timestamp)

    def seal(self, opened: Opened, reply_xml: str) -> str:
        """The reply as WeChat expects it: encrypted and signed when the callback was."""
        if not opened.encrypted:
            return reply_xml
        return str(self._crypto.encrypt_message(reply_xml, opened.nonce, opened.timestamp))
