"""Cron expressions of spark.yaml turned into APScheduler triggers.

Five fields as in crontab (minute hour day month weekday), or six with a leading seconds
field. Weekday numbers follow crontab (0 and 7 = Sunday, 1 = Monday); APScheduler 3 counts
0 = Monday, so numbers are rewritten to day names before they reach it.
"""

from __future__ import annotations

import re
from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NUMBER = re.compile(r"(?<![/\d])([0-7])(?!\d)")
FIELDS_5 = ("minute", "hour", "day", "month", "day_of_week")
FIELDS_6 = ("second", *FIELDS_5)


def crontab_weekdays(field: str) -> str:
    """'1-5' -> 'mon-fri', '0,6' -> 'sun,sat'; steps ('*/2') are left as they are."""
    return _WEEKDAY_NUMBER.sub(lambda m: _WEEKDAYS[int(m.group(1))], field)


def cron_trigger(expr: str, timezone: tzinfo) -> CronTrigger:
    """Build the trigger; raises ValueError with a plain message when EXPR is not valid."""
    values = expr.split()
    names: tuple[str, ...]
    if len(values) == 5:
        names = FIELDS_5
    elif len(values) == 6:
        names = FIELDS_6
    else:
        raise ValueError(f"{expr!r} has {len(values)} fields; a cron expression has 5")
    fields = dict(zip(names, values, strict=True))
    fields["day_of_week"] = crontab_weekdays(fields["day_of_week"])
    try:
        return CronTrigger(timezone=timezone, **fields)
    except ValueError as exc:
        raise ValueError(f"{expr!r} is not a valid cron expression: {exc}") from exc
