"""Every table of Xinfeng, one module per feature; importing this package registers them all.

`from storage.models import Task` works for any table: this face re-exports each module's
names, so `Base.metadata` (exported as `metadata`) always holds the whole schema for
`create_all` and Alembic.
"""
from __future__ import annotations

from storage.models.base import Base, BigId, UTCDateTime  # noqa: F401
from storage.models.network import Level, LEVEL_ORDER, LEVEL_ZH, OrgUnit, Team, TeamMember, TeamGroup, RoleGrant  # noqa: F401
from storage.models.people import Person, ChannelIdentity  # noqa: F401
from storage.models.tasks import TaskStatus, Task, TaskOffer, TaskAssignment, HoursEntry  # noqa: F401
from storage.models.audit import AuditEntry  # noqa: F401
from storage.models.messaging import OutboxMessage, InboxMessage, ConversationState  # noqa: F401
from storage.models.activities import Project, Activity, ActivitySignup  # noqa: F401
from storage.models.points import PointsRule, PointsAccount, PointsEntry, Goods, Redemption  # noqa: F401
from storage.models.wishes import WishStatus, Wish  # noqa: F401
from storage.models.pairings import Pairing, PairingVisit  # noqa: F401
from storage.models.scheduling import ScheduleRule, ScheduleFiring, ScheduleFiringUnit, ScheduleSend, SchedulerLease  # noqa: F401
from storage.models.datamap import StatUnitClosure, StatCounter, StatDelta, StatLastActive, Blob  # noqa: F401
from storage.models.dashboard import DashboardLink, DashboardSession  # noqa: F401
from storage.models.wechat import ContactWindow, NumberedChoices  # noqa: F401

metadata = Base.metadata
