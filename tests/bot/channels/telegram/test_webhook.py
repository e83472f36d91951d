"""The webhook: registered with its secret, forged calls rejected, every update stored before 200."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import func, select
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from storage.models import InboxMessage

HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def inbox_count(tg) -> int:
    async with tg.chat.sessions() as s:
        return (await s.execute(select(func.count(InboxMessage.id)))).scalar_one()


def text_update(update_id: int, user_id: int, text: str) -> dict:
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": 0, "text": text,
        "chat": {"id": user_id, "type": "private", "first_name": "测试"},
        "from": {"id": user_id, "is_bot": False, "first_name": "测试"}}}


async def test_set_webhook_with_secret_on_start(tg_webhook) -> None:
    hook = tg_webhook.fake.webhook
    assert hook["url"] == tg_webhook.webhook_url and hook["secret_token"] == tg_webhook.channel.config.webhook_secret
    assert hook["allowed_updates"] == ["message", "callback_query"]
    assert tg_webhook.fake.stats["deleteWebhook"] == 0


async def test_polling_deletes_any_webhook(tg) -> None:
    assert tg.fake.stats["deleteWebhook"] == 1 and tg.fake.webhook is None


async def test_forged_and_malformed_calls_are_rejected_and_not_stored(tg_webhook) -> None:
    tg = tg_webhook
    secret = tg.channel.config.webhook_secret
    good = json.dumps(text_update(1, 501, "我的"))
    before = await inbox_count(tg)
    async with httpx.AsyncClient() as http:
        post = lambda body, headers: http.post(tg.webhook_url, content=body, headers=headers)  # noqa: E731
        assert (await post(good, {})).status_code == 403
        assert (await post(good, {HEADER: "wrong"})).status_code == 403
        assert (await post(good, {HEADER: secret + "x"})).status_code == 403
        assert (await post(good, {HEADER: ""})).status_code == 403
        for bad in (b"{not json", b"[]", b'"x"', b'{"message": {}}', b'{"update_id": "7"}',
                    json.dumps({"update_id": 7, "message": {"text": 5}}).encode(), "中文".encode()):
            response = await post(bad, {HEADER: secret, "Content-Type": "application/json"})
            assert response.status_code == 400, bad
            assert "Traceback" not in response.text
        assert (await http.get(tg.webhook_url)).status_code == 405
    assert await inbox_count(tg) == before
    assert tg.channel.stats["webhook_forbidden"] == 4 and tg.channel.stats["webhook_malformed"] == 7


async def test_a_redelivered_update_is_answered_200_and_has_no_second_effect(tg_webhook) -> None:
    tg = tg_webhook
    tg.fake.add_user(501, "测试")
    tg.fake.started.add(501)
    secret = tg.channel.config.webhook_secret
    body = json.dumps(text_update(77, 501, "帮助"))
    async with httpx.AsyncClient() as http:
        for _ in range(3):  # Telegram retries a webhook it thinks failed
            response = await http.post(tg.webhook_url, content=body, headers={HEADER: secret})
            assert response.status_code == 200
    await tg.settle()
    assert len(tg.fake.sent_to(501)) == 1 and "我能帮您" in tg.fake.sent_to(501)[0].text
    assert await inbox_count(tg) == 1 and tg.channel.stats["redelivered"] == 2


async def test_telegram_redelivers_until_the_bot_answers(tg_webhook) -> None:
    tg = tg_webhook
    # The bot is down for a while: its route answers 503 (as while the database is unreachable).
    routes = tg._app.router.routes
    saved = list(routes)

    async def down(_: object) -> PlainTextResponse:
        return PlainTextResponse("down", status_code=503)

    routes[:] = [Route("/telegram/webhook", down, methods=["POST"])]
    tg.fake.add_user(502, "测试")
    tg.fake.user_says(502, "帮助")
    await tg.fake.until(lambda: tg.fake.stats["webhook_redelivery"] >= 3)
    routes[:] = saved
    await tg.settle()
    assert len(tg.fake.sent_to(502)) == 1
    assert 503 in tg.fake.webhook_responses and tg.fake.webhook_responses[-1] == 200


async def test_an_oversized_body_is_refused_413_even_chunked_without_a_length(tg_webhook) -> None:
    from bot.channels.telegram.channel import MAX_WEBHOOK_BODY

    tg = tg_webhook
    secret = tg.channel.config.webhook_secret
    padding = "x" * (MAX_WEBHOOK_BODY + 10)
    body = json.dumps({**text_update(90, 501, "我的"), "padding": padding}).encode()

    async def chunks():  # a generator body: sent chunked, no Content-Length
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]

    async with httpx.AsyncClient() as http:
        declared = await http.post(tg.webhook_url, content=body, headers={HEADER: secret})
        streamed = await http.post(tg.webhook_url, content=chunks(), headers={HEADER: secret})
    assert streamed.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in streamed.request.headers
    assert (declared.status_code, streamed.status_code) == (413, 413)
    assert await inbox_count(tg) == 0 and tg.channel.stats["webhook_too_large"] == 2


async def test_nul_and_control_characters_are_stripped_at_the_edge(tg_webhook) -> None:
    tg = tg_webhook
    tg.fake.add_user(502, "测试")
    tg.fake.started.add(502)
    secret = tg.channel.config.webhook_secret
    body = json.dumps(text_update(91, 502, "帮\x00助\x07\r\n"))
    async with httpx.AsyncClient() as http:
        assert (await http.post(tg.webhook_url, content=body, headers={HEADER: secret})).status_code == 200
    await tg.settle()
    async with tg.chat.sessions() as s:
        [payload] = (await s.execute(select(InboxMessage.payload))).scalars().all()
    assert payload["text"] == "帮助\n"
    assert "我能帮您" in tg.fake.sent_to(502)[0].text  # read as the command it is
