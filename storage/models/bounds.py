"""The guard every text column carries: values are cut to the column's size and cleaned before they are written.

Chat users can type anything, and not every writer remembers every column's size: a 251-character
place once passed the draft and then failed `确认` on `varchar(200)` for ever after. So the bound
lives with the column type, not with its writers — every `String(n)` and `Text` column of every
model is given `BoundedText` when its class is declared (`storage.models.base.Base`), and every
write through the ORM or a Core `insert`/`update` passes through it:

- NUL characters are removed (PostgreSQL rejects them in text; SQLite would keep them);
- unpaired surrogates (which no driver can encode as UTF-8) become U+FFFD;
- the value is cut to the column's length in characters (`Text`: `TEXT_LIMIT`).

A value *compared* with a column (`Person.name == typed`) is cleaned and cut one character past the
column's size, where no comparison with a stored value can change (`CleanText`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Enum, String, Table
from sqlalchemy.types import TypeDecorator, TypeEngine

# The bound of a column declared without a length (`Text`): far above any message or description
# the bot writes (a chat message is at most a few thousand characters), far below a runaway paste;
# one past it, even in three-byte characters, stays inside SQLite's 50,000-byte LIKE pattern limit.
TEXT_LIMIT = 16_000


def clean_text(value: str) -> str:
    """Drop NUL characters and replace unpaired surrogates, so any driver can store the text."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # Round-trip through UTF-16: a lone surrogate becomes U+FFFD, a split pair is joined again.
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def bounded_text(value: str, limit: int) -> str:
    """A text as it may be stored in a column of `limit` characters: cleaned, then cut."""
    value = clean_text(value)
    return value[:limit] if len(value) > limit else value


class CleanText(TypeDecorator[str]):
    """A text compared with a column of `limit` characters: cleaned like a stored one, cut to `limit + 1`.

    Every stored value has at most `limit` characters, so the characters past `limit + 1` can
    change no comparison (equal, contains, starts with, orders before): the value is still longer
    than anything stored. Cutting there keeps a 100 KB search within SQLite's LIKE pattern limit.
    """

    impl = String
    cache_ok = True

    def __init__(self, inner: TypeEngine[Any] | None = None, limit: int = TEXT_LIMIT) -> None:
        super().__init__()
        self.inner = inner if inner is not None else String()
        self.impl = self.inner
        self.limit = limit

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return bounded_text(value, self.limit + 1) if isinstance(value, str) else value


class BoundedText(TypeDecorator[str]):
    """A column's text type that cleans every value written and cuts it to the column's size."""

    impl = String
    cache_ok = True

    def __init__(self, inner: TypeEngine[Any] | None = None) -> None:
        super().__init__()
        self.inner = inner if inner is not None else String()
        self.impl = self.inner  # the DDL stays the declared VARCHAR(n) / TEXT
        self.limit: int = getattr(self.inner, "length", None) or TEXT_LIMIT

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return bounded_text(value, self.limit) if isinstance(value, str) else value

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        return CleanText(self.inner, self.limit)


def guard_text_columns(table: Table) -> None:
    """Give every text column of a table the bounded type (enumerations keep theirs: they are checked already)."""
    for column in table.columns:
        kind = column.type
        if isinstance(kind, String) and not isinstance(kind, Enum):
            column.type = BoundedText(kind)
