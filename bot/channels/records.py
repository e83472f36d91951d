"""The adapters' one door to the database: what they report and what they look up.

An adapter holds no session. What a platform tells it outside a send — a user unfollowed, a
group became a supergroup, a user opened a menu link — and what it must look up or keep to
speak the platform's language — numbered choices, the 48-hour contact window, the ids of
earlier messages to edit — each goes through one method here, each method one storage
function in its own short transaction. What a send achieved is not recorded here: the
channel returns a `DeliveryOutcome` and the relay applies it (`storage.messaging.outbox`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.clock import Clock
from storage.db import Sessions
from storage.messaging.inbox import record_event
from storage.messaging.outbox import deliver_inline, sent_message_ids, undo_inline
from storage.messaging.reach import mark_unreachable, readdress_chat
from storage.messaging.wechat import (
    GroupRoster,
    bind_team_group,
    choice_for,
    close_window,
    group_chat_ids,
    group_roster,
    is_group_chat,
    last_action,
    return_cs_slot,
    take_cs_slot,
    touch_identity,
)
from storage.models import OutboxMessage, Person, RoleGrant
from storage.people.identities import (
    find_person,
    link_identity,
    resolve_identity,
    roles_of,
)


@dataclass(frozen=True)
class SignedIn:
    """Who a console user now is: the person, their account on the platform, their roles."""

    person: Person
    external_id: str
    roles: list[RoleGrant]
    # Whether the person was created just now (nobody on the roster had that name or phone).
    created: bool


@dataclass(frozen=True)
class WindowSlot:
    """One message's place in a user's contact window (WeChat's 48 hours after their last action)."""

    # When the window opened (the user's last action); None if they never acted.
    started: datetime | None
    # Whether the account can be reached at all (not unfollowed, not blocked).
    reachable: bool
    # Whether this message took one of the window's messages (False: closed or used up).
    taken: bool


class ChannelRecords:
    """Reports and look-ups of one platform's adapter, each in a short transaction of its own."""

    def __init__(self, *, platform: str, sessions: Sessions, clock: Clock) -> None:
        self.platform = platform
        self._sessions = sessions
        self._clock = clock

    # ------------------------------------------------------------------ reports from the platform

    async def recipient_gone(self, address: str, *, reason: str, event_id: str | None = None) -> bool:
        """The platform says a chat is gone (an unfollow event); False if this event was reported before.

        Applied through the same storage function as a send's `RecipientGone`. With `event_id`
        (the platform's id of the event), a retried callback has no second effect.
        """
        now = self._clock.now()
        async with self._sessions() as session:
            if event_id is not None and not await record_event(
                    session, platform=self.platform, message_id=event_id,
                    payload={"event": "gone", "address": address, "reason": reason}, now=now):
                return False
            await mark_unreachable(session, platform=self.platform, address=address, reason=reason, now=now)
            await session.commit()
        return True

    async def chat_moved(self, old: str, new: str) -> None:
        """A chat changed its address (group → supergroup): its binding and owed messages follow."""
        async with self._sessions() as session:
            await readdress_chat(session, platform=self.platform, old=old, new=new)
            await session.commit()

    async def user_acted(self, user_id: str) -> None:
        """A user did something that is no message (opened a menu link): it counts as their last action."""
        async with self._sessions() as session:
            await touch_identity(session, platform=self.platform, user_id=user_id, now=self._clock.now())
            await session.commit()

    async def sign_in_as(self, who: str) -> SignedIn:
        """Become a roster person by name or phone, or a new person of that name (the console: no proof asked)."""
        now = self._clock.now()
        async with self._sessions() as session:
            person = await find_person(session, who)
            created = person is None
            if person is None:
                # A newcomer: a new person of that name, on an account of their own.
                external_id = f"as:{who}"
                person = await resolve_identity(session, platform=self.platform, external_id=external_id, now=now,
                                                display_name=who)
            else:
                external_id = f"p{person.id}"
                await link_identity(session, platform=self.platform, external_id=external_id, person_id=person.id,
                                    now=now)
            roles = await roles_of(session, person.id)
            await session.commit()
        return SignedIn(person=person, external_id=external_id, roles=roles, created=created)

    # ------------------------------------------------------------------ replies inside the platform's answer

    async def deliver_inline(
        self, row_ids: Sequence[int], *, external_id: str, numbered: bool = False, held: Sequence[int] = (),
    ) -> list[OutboxMessage]:
        """Claim owed replies that go out inside the answer to the user; the ones claimed, in order.

        `held`: rows this worker claimed when they were written and has not sent (see `Handled.direct`).
        """
        async with self._sessions() as session:
            claimed = await deliver_inline(session, row_ids, external_id=external_id, now=self._clock.now(),
                                           numbered=numbered, held=held)
            await session.commit()
        return claimed

    async def undo_inline(self, row_ids: Sequence[int], *, external_id: str, held: Sequence[int] = ()) -> int:
        """Hand replies claimed for an answer that never went out back to the relay (and `held` rows unsent)."""
        async with self._sessions() as session:
            count = await undo_inline(session, row_ids, external_id=external_id, held=held)
            await session.commit()
        return count

    # ------------------------------------------------------------------ look-ups

    async def sent_message_ids(self, address: str, ref: str) -> list[str]:
        """The platform ids of messages about `ref` delivered to a chat (what an edit changes)."""
        async with self._sessions() as session:
            return await sent_message_ids(session, platform=self.platform, address=address, ref=ref)

    async def is_group_chat(self, address: str) -> bool:
        """Whether an address is a team's bound group chat on this platform."""
        async with self._sessions() as session:
            return await is_group_chat(session, platform=self.platform, chat_id=address)

    async def choice_for(self, *, chat_id: str, user_id: str, number: int, ttl: timedelta) -> str | None:
        """What a bare number means: the newest choices shown in the chat or in the user's team groups."""
        async with self._sessions() as session:
            chats = [chat_id, *await group_chat_ids(session, platform=self.platform, user_id=user_id)]
            return await choice_for(session, platform=self.platform, chat_ids=chats, number=number,
                                    now=self._clock.now(), ttl=ttl)

    async def group_roster(self, team_id: int) -> GroupRoster | None:
        """A team's group on this platform (if bound) and its members' accounts here."""
        async with self._sessions() as session:
            return await group_roster(session, team_id=team_id, platform=self.platform)

    async def bind_group(self, team_id: int, chat_id: str, title: str) -> bool:
        """Bind a group chat the adapter created to a team; False if one was bound meanwhile."""
        async with self._sessions() as session:
            bound = await bind_team_group(session, team_id=team_id, platform=self.platform, chat_id=chat_id,
                                          title=title)
            await session.commit()
        return bound

    # ------------------------------------------------------------------ the contact window

    async def take_window_slot(self, user_id: str, *, window: timedelta, limit: int) -> WindowSlot:
        """Take one message of the user's open contact window, if it has room (counted across workers)."""
        async with self._sessions() as session:
            started, reachable = await last_action(session, platform=self.platform, user_id=user_id)
            taken = reachable and await take_cs_slot(session, platform=self.platform, user_id=user_id,
                                                     started=started, now=self._clock.now(), window=window,
                                                     limit=limit)
            await session.commit()
        return WindowSlot(started=started, reachable=reachable, taken=taken)

    async def return_window_slot(self, user_id: str, started: datetime) -> None:
        """Give back a slot whose message did not go out (a network error, not a refusal)."""
        async with self._sessions() as session:
            await return_cs_slot(session, platform=self.platform, user_id=user_id, started=started)
            await session.commit()

    async def close_window(self, user_id: str, started: datetime, limit: int) -> None:
        """The platform says the window is closed or used up: no more tries until the user acts again."""
        async with self._sessions() as session:
            await close_window(session, platform=self.platform, user_id=user_id, started=started, limit=limit)
            await session.commit()
