"""WeCom customer contact (客户联系) calls for customer groups, with WeCom's answers as typed results.

Villagers are ordinary WeChat users: the app cannot post into their group. It can only ask the
group's owner (a captain who is a WeCom member) to send a message there — a group-message task
the captain confirms with one tap (`add_msg_template`, chat_type "group"). Results come back by
polling (`get_groupmsg_task`, `get_groupmsg_send_result`); an unconfirmed task can be reminded
(`remind_groupmsg_send`) or withdrawn (`cancel_groupmsg_send`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.channels.wechat.api import WeChatApiClient, WeChatApiError

BASE = "/cgi-bin/externalcontact"
# WeCom's codes for what a caller can act on. The sender is not a member (or left): 40003, 60111;
# the group is unknown or dissolved: 40050; the app lacks the customer-contact permission: 48002;
# a task already sent or cancelled cannot be reminded or cancelled: 41063 (the fake uses the same).
SENDER_GONE = frozenset({40003, 60111})
CHAT_GONE = 40050
NO_PERMISSION = 48002
TASK_CLOSED = 41063
# get_groupmsg_send_result status of one group: 0 waiting, 1 sent, 2/3 not sent (3: the group's
# quota of group messages is spent).
SEND_WAITING, SEND_SENT = 0, 1
QUOTA_SPENT_STATUS = 3


@dataclass(frozen=True)
class GroupInfo:
    """One customer group: its id, name, owner (a WeCom userid) and how many are in it."""

    chat_id: str
    name: str
    owner: str
    member_count: int


@dataclass(frozen=True)
class TaskCreated:
    """The task exists; `failed` groups were refused (their quota spent, or not the sender's)."""

    msgid: str
    failed: tuple[str, ...]


@dataclass(frozen=True)
class TaskRefused:
    """WeCom would not create the task at all: `gone` when the sender can no longer send."""

    errcode: int
    reason: str
    gone: bool


@dataclass(frozen=True)
class GroupSend:
    """One group's result: 0 waiting, 1 sent, 2/3 not sent."""

    chat_id: str
    status: int
    send_time: int


class CustomerGroupsApi:
    """The customer-contact endpoints on the WeCom app's client (token shared with the channel)."""

    def __init__(self, api: WeChatApiClient) -> None:
        self.api = api

    async def list_groups(self, owners: list[str] | None = None) -> list[str]:
        """Every customer group's chat id (of these owners, if given), following the cursor."""
        found: list[str] = []
        cursor = ""
        while True:
            body: dict[str, Any] = {"status_filter": 0, "limit": 1000, "cursor": cursor}
            if owners:
                body["owner_filter"] = {"userid_list": owners[:100]}
            answer = await self.api.call(f"{BASE}/groupchat/list", json_body=body)
            found += [str(g["chat_id"]) for g in answer.get("group_chat_list", [])]
            cursor = str(answer.get("next_cursor") or "")
            if not cursor:
                return found

    async def group(self, chat_id: str) -> GroupInfo | None:
        """A group's name, owner and member count; None when WeCom no longer knows it."""
        try:
            answer = await self.api.call(f"{BASE}/groupchat/get", json_body={"chat_id": chat_id, "need_name": 1})
        except WeChatApiError as exc:
            if exc.errcode == CHAT_GONE:
                return None
            raise
        g = answer["group_chat"]
        return GroupInfo(str(g["chat_id"]), str(g.get("name") or ""), str(g.get("owner") or ""),
                         len(g.get("member_list") or []))

    async def create_task(self, sender: str, chat_ids: list[str], text: str,
                          image_media_id: str | None = None) -> TaskCreated | TaskRefused:
        """Ask `sender` to send `text` (and an image) into their groups `chat_ids` (one confirmation covers all)."""
        body: dict[str, Any] = {"chat_type": "group", "sender": sender, "chat_id_list": chat_ids,
                                "text": {"content": text}}
        if image_media_id is not None:
            body["attachments"] = [{"msgtype": "image", "image": {"media_id": image_media_id}}]
        try:
            answer = await self.api.call(f"{BASE}/add_msg_template", json_body=body)
        except WeChatApiError as exc:
            if exc.errcode in SENDER_GONE or exc.errcode in (NO_PERMISSION, CHAT_GONE):
                return TaskRefused(exc.errcode, exc.errmsg, gone=exc.errcode in SENDER_GONE)
            raise
        return TaskCreated(str(answer["msgid"]), tuple(str(c) for c in answer.get("fail_list") or []))

    async def upload_image(self, filename: str, png: bytes) -> str:
        """A temporary image (three days) to attach to tasks; its media_id."""
        return await self.api.upload_media("image", filename, "image/png", png)

    async def task_confirmed(self, msgid: str, sender: str) -> bool:
        """Whether the sender confirmed the task (get_groupmsg_task status 2)."""
        answer = await self.api.call(f"{BASE}/get_groupmsg_task", json_body={"msgid": msgid, "limit": 1000})
        return any(t.get("userid") == sender and int(t.get("status", 0)) == 2 for t in answer.get("task_list", []))

    async def send_results(self, msgid: str, sender: str) -> list[GroupSend]:
        """Each group's result of a task, following the cursor."""
        found: list[GroupSend] = []
        cursor = ""
        while True:
            answer = await self.api.call(f"{BASE}/get_groupmsg_send_result", json_body={
                "msgid": msgid, "userid": sender, "limit": 1000, "cursor": cursor})
            found += [GroupSend(str(r.get("chat_id") or ""), int(r.get("status", 0)), int(r.get("send_time") or 0))
                      for r in answer.get("send_list", [])]
            cursor = str(answer.get("next_cursor") or "")
            if not cursor:
                return found

    async def remind(self, msgid: str) -> bool:
        """Remind the sender once more; False when the task is already closed."""
        return await self._closing_call("remind_groupmsg_send", msgid)

    async def cancel(self, msgid: str) -> bool:
        """Withdraw an unconfirmed task; False when it was already sent or cancelled."""
        return await self._closing_call("cancel_groupmsg_send", msgid)

    async def _closing_call(self, name: str, msgid: str) -> bool:
        try:
            await self.api.call(f"{BASE}/{name}", json_body={"msgid": msgid})
        except WeChatApiError as exc:
            if exc.errcode == TASK_CLOSED:
                return False
            raise
        return True
