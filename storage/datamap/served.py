"""Where a ledger line's hours were served: the task's village, the activity's unit, else the volunteer's home.

The data map's figures and the hours export both place hours this way; the triggers that keep
the maintained aggregates say the same in SQL (`storage.datamap.rules._HOURS_UNIT`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import aliased

from storage.models import HoursEntry, Person, Task
from storage.models.activities import Activity, ActivitySignup, HoursCorrection


def served_unit() -> Any:
    """A SQL expression: the org unit where the `HoursEntry` row's hours were served."""
    task_unit = select(Task.org_unit_id).where(Task.id == HoursEntry.source_id).scalar_subquery()
    activity_unit = (select(Activity.org_unit_id).join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
                     .where(ActivitySignup.id == HoursEntry.source_id).scalar_subquery())
    corrected_unit = (select(Activity.org_unit_id)
                      .join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
                      .join(HoursCorrection, HoursCorrection.signup_id == ActivitySignup.id)
                      .where(HoursCorrection.id == HoursEntry.source_id).scalar_subquery())
    # An alias of its own: the caller's query may join `Person` already, and would otherwise swallow this FROM.
    volunteer = aliased(Person)
    home_unit = (select(volunteer.org_unit_id).where(volunteer.id == HoursEntry.volunteer_id)
                 .correlate_except(volunteer).scalar_subquery())
    return case((HoursEntry.source_type == "task", task_unit),
                (HoursEntry.source_type == "activity_signup", activity_unit),
                (HoursEntry.source_type == "hours_correction", corrected_unit), else_=home_unit)
