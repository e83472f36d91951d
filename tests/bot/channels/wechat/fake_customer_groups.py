"""WeCom customer contact (客户联系) on the fake WeChat server: customer groups and group-message tasks.

Installed on the session's fake server (`install`), with fresh state per test. It behaves as
WeCom does, on the test's clock:
- `groupchat/list` (cursor paging) and `groupchat/get` (40050 for a group WeCom does not know);
- `add_msg_template` with chat_type "group": the sender must be a member (40003); groups that are
  not the sender's come back in `fail_list`; none left → 41048; image attachments must be uploaded
  media (40007); the task waits for the sender;
- the sender confirms (`confirm`, the test's stand-in for the tap in WeCom): each group gets the
  message if its quota allows (by default as many a month as the month has days), else its
  result is status 3; `get_groupmsg_task` / `get_groupmsg_send_result` report it;
- `remind_groupmsg_send` / `cancel_groupmsg_send` on a task already sent or cancelled: 41063.
"""

from __future__ import annotations

import calendar
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.bot.channels.wechat.fake_wechat_api import _uploaded

_msgids = itertools.count(1)


def _err(code: int, msg: str) -> JSONResponse:
    return JSONResponse({"errcode": code, "errmsg": msg})


@dataclass
class GroupTask:
    """A group-message task: the sender, their groups, the text, and each group's result."""

    msgid: str
    sender: str
    chat_ids: list[str]
    text: str
    created_at: datetime
    status: str = "waiting"  # waiting | sent | cancelled
    results: dict[str, tuple[int, int]] = field(default_factory=dict)  # chat → (status, send_time)
    reminders: int = 0
    images: list[str] = field(default_factory=list)  # filenames of attached images


@dataclass
class CustomerContact:
    """Customer groups, tasks, what each group received, and the per-group monthly quota."""

    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, GroupTask] = field(default_factory=dict)
    received: list[tuple[str, str]] = field(default_factory=list)  # (chat_id, text)
    quota_used: dict[tuple[str, str], int] = field(default_factory=dict)
    quota_per_month: int | None = None  # None: the month's days
    calls: list[str] = field(default_factory=list)

    def add_group(self, chat_id: str, name: str, owner: str, members: int) -> None:
        """A customer group owned by a WeCom member, with `members` ordinary WeChat users."""
        self.groups[chat_id] = {"name": name, "owner": owner, "members": [f"wm{chat_id}_{n}" for n in range(members)]}

    def texts_in(self, chat_id: str) -> list[str]:
        """What a group received."""
        return [t for c, t in self.received if c == chat_id]

    def confirm(self, msgid: str, now: datetime) -> None:
        """The sender taps 「发送」: each group gets the message if its quota allows."""
        task = self.tasks[msgid]
        assert task.status == "waiting", task.status
        month = now.strftime("%Y-%m")
        limit = calendar.monthrange(now.year, now.month)[1] if self.quota_per_month is None else self.quota_per_month
        for chat_id in task.chat_ids:
            used = self.quota_used.get((chat_id, month), 0)
            if used >= limit:
                task.results[chat_id] = (3, 0)
                continue
            self.quota_used[(chat_id, month)] = used + 1
            self.received.append((chat_id, task.text))
            self.received += [(chat_id, f"[image] {name}") for name in task.images]
            task.results[chat_id] = (1, int(now.timestamp()))
        task.status = "sent"

    def waiting_for(self, sender: str) -> list[GroupTask]:
        """Tasks the sender has not confirmed."""
        return [t for t in self.tasks.values() if t.sender == sender and t.status == "waiting"]


def install(fake: Any) -> CustomerContact:
    """Give the fake server the customer-contact endpoints (once) and fresh state (each test)."""
    fake.customer = CustomerContact()
    if getattr(fake, "_customer_routes", False):
        return fake.customer
    fake._customer_routes = True
    base = "/wecom/cgi-bin/externalcontact/"

    async def body_of(request: Request, api: str) -> dict[str, Any] | JSONResponse:
        refused = fake.wecom.tokens.check(request.query_params.get("access_token"), fake.now)
        if refused is not None:
            return refused
        fake.customer.calls.append(api)
        return json.loads(await request.body() or b"{}")

    async def group_list(request: Request) -> Response:
        body = await body_of(request, "groupchat/list")
        if isinstance(body, JSONResponse):
            return body
        owners = set((body.get("owner_filter") or {}).get("userid_list") or [])
        ids = sorted(c for c, g in fake.customer.groups.items() if not owners or g["owner"] in owners)
        start, limit = int(body.get("cursor") or 0), int(body.get("limit") or 100)
        page = ids[start:start + limit]
        more = start + limit < len(ids)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "group_chat_list": [{"chat_id": c, "status": 0} for c in page],
                             "next_cursor": str(start + limit) if more else ""})

    async def group_get(request: Request) -> Response:
        body = await body_of(request, "groupchat/get")
        if isinstance(body, JSONResponse):
            return body
        group = fake.customer.groups.get(body.get("chat_id"))
        if group is None:
            return _err(40050, "chatid not found")
        return JSONResponse({"errcode": 0, "errmsg": "ok", "group_chat": {
            "chat_id": body["chat_id"], "name": group["name"], "owner": group["owner"],
            "member_list": [{"userid": m, "type": 2} for m in group["members"]]}})

    async def add_template(request: Request) -> Response:
        body = await body_of(request, "add_msg_template")
        if isinstance(body, JSONResponse):
            return body
        if body.get("chat_type") != "group" or not (body.get("text") or {}).get("content"):
            return _err(40058, "invalid parameter")
        sender = body.get("sender")
        if sender not in fake.wecom.members:
            return _err(40003, "invalid userid")
        chats = list(body.get("chat_id_list") or [])
        mine = [c for c in chats if fake.customer.groups.get(c, {}).get("owner") == sender]
        if not mine:
            return _err(41048, "no valid customer to send")
        images = []
        for attachment in body.get("attachments") or []:
            upload = _uploaded(fake.wecom.uploads, (attachment.get("image") or {}).get("media_id"), "image", fake.now)
            if attachment.get("msgtype") != "image" or upload is None:
                return _err(40007, "invalid media_id")
            images.append(upload.filename)
        msgid = f"msg{next(_msgids)}"
        fake.customer.tasks[msgid] = GroupTask(msgid, sender, mine, body["text"]["content"], fake.now, images=images)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": msgid,
                             "fail_list": [c for c in chats if c not in mine]})

    def task_of(body: dict[str, Any]) -> GroupTask | JSONResponse:
        task = fake.customer.tasks.get(body.get("msgid"))
        return _err(40058, "invalid msgid") if task is None else task

    async def get_task(request: Request) -> Response:
        body = await body_of(request, "get_groupmsg_task")
        if isinstance(body, JSONResponse) or isinstance(task := task_of(body), JSONResponse):
            return body if isinstance(body, JSONResponse) else task
        sent = task.status == "sent"
        return JSONResponse({"errcode": 0, "errmsg": "ok", "next_cursor": "", "task_list": [{
            "userid": task.sender, "status": 2 if sent else 0,
            "send_time": max((t for _, t in task.results.values()), default=0)}]})

    async def send_result(request: Request) -> Response:
        body = await body_of(request, "get_groupmsg_send_result")
        if isinstance(body, JSONResponse) or isinstance(task := task_of(body), JSONResponse):
            return body if isinstance(body, JSONResponse) else task
        if body.get("userid") != task.sender:
            return JSONResponse({"errcode": 0, "errmsg": "ok", "next_cursor": "", "send_list": []})
        rows = [{"chat_id": c, "userid": task.sender, "status": task.results.get(c, (0, 0))[0],
                 "send_time": task.results.get(c, (0, 0))[1]} for c in task.chat_ids]
        return JSONResponse({"errcode": 0, "errmsg": "ok", "next_cursor": "", "send_list": rows})

    async def remind(request: Request) -> Response:
        body = await body_of(request, "remind_groupmsg_send")
        if isinstance(body, JSONResponse) or isinstance(task := task_of(body), JSONResponse):
            return body if isinstance(body, JSONResponse) else task
        if task.status != "waiting":
            return _err(41063, "message already sent or cancelled")
        task.reminders += 1
        return _err(0, "ok")

    async def cancel(request: Request) -> Response:
        body = await body_of(request, "cancel_groupmsg_send")
        if isinstance(body, JSONResponse) or isinstance(task := task_of(body), JSONResponse):
            return body if isinstance(body, JSONResponse) else task
        if task.status != "waiting":
            return _err(41063, "message already sent or cancelled")
        task.status = "cancelled"
        return _err(0, "ok")

    for path, handler in (("groupchat/list", group_list), ("groupchat/get", group_get),
                          ("add_msg_template", add_template), ("get_groupmsg_task", get_task),
                          ("get_groupmsg_send_result", send_result), ("remind_groupmsg_send", remind),
                          ("cancel_groupmsg_send", cancel)):
        fake.app.router.routes.append(Route(base + path, handler, methods=["POST"]))
    return fake.customer
