"""Every table of Xinfeng, one module per feature; importing this package registers them all.

`from storage.models import Task` works for any table: this face re-exports each module's
names, so `Base.metadata` (exported as `metadata`) always holds the whole schema for
`create_all` and Alembic.
"""
from __future__ import annotations

from storage.models.activities import Activity, ActivitySignup, HoursCorrection, Project  # noqa: F401
from storage.models.audit import AuditEntry  # noqa: F401
from storage.models.base import Base, BigId, UTCDateTime  # noqa: F401
from storage.models.customer_groups import (  # noqa: F401
    CUSTOMER_PLATFORM,
    CustomerGroup,
    GroupMessageTarget,
    GroupMessageTask,
    GroupQuotaUse,
)
from storage.models.dashboard import DashboardLink, DashboardSession  # noqa: F401
from storage.models.datamap import (  # noqa: F401
    Blob,
    StatCounter,
    StatDelta,
    StatLastActive,
    StatUnitClosure,
)
from storage.models.intake import IntakeExample, IntakeModel  # noqa: F401
from storage.models.menus import ChatMenu  # noqa: F401
from storage.models.messaging import (  # noqa: F401
    ConversationState,
    DeliveryWorker,
    InboxMessage,
    OutboxMessage,
    UnreachableChat,
)
from storage.models.network import (  # noqa: F401
    LEVEL_ORDER,
    LEVEL_ZH,
    Level,
    OrgUnit,
    RoleGrant,
    Team,
    TeamGroup,
    TeamMember,
)
from storage.models.pairings import Pairing, PairingVisit  # noqa: F401
from storage.models.people import ChannelIdentity, Person  # noqa: F401
from storage.models.points import (  # noqa: F401
    Goods,
    PointsAccount,
    PointsEntry,
    PointsRule,
    Redemption,
)
from storage.models.scheduling import (  # noqa: F401
    Installation,
    ScheduleFiring,
    ScheduleFiringUnit,
    SchedulerLease,
    ScheduleRule,
    ScheduleSend,
)
from storage.models.tasks import HoursEntry, Task, TaskAssignment, TaskOffer, TaskStatus  # noqa: F401
from storage.models.trust import CheckinAttempt, LinkRequest  # noqa: F401
from storage.models.wechat import ContactWindow, NumberedChoices  # noqa: F401
from storage.models.wishes import Wish, WishStatus  # noqa: F401

metadata = Base.metadata
