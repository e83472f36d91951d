"""Every table of Xinfeng: importing this module registers all model modules on `Base.metadata`.

Feature tables live in modules of their own; list each here so that `create_all` and
Alembic see the whole schema (explicit, not discovered by import side effects elsewhere).
"""

from __future__ import annotations

import storage.activity_models  # noqa: F401
import storage.dashboard_models  # noqa: F401
import storage.models  # noqa: F401
import storage.pairing_models  # noqa: F401
import storage.points_models  # noqa: F401
import storage.schedule_models  # noqa: F401
import storage.stats_models  # noqa: F401
import storage.wish_models  # noqa: F401
import storage.wechat_models  # noqa: F401
from storage.models import Base

metadata = Base.metadata
