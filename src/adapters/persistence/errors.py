"""How to tell, from the driver's exceptions, that PostgreSQL refused a value rather than failed."""

from __future__ import annotations

from sqlalchemy.exc import DataError

# asyncpg's exceptions for values PostgreSQL cannot hold, by name (they sit deep in the exception chain).
UNSTORABLE = frozenset(
    {
        "CharacterNotInRepertoireError",
        "UntranslatableCharacterError",
        "StringDataRightTruncationError",
        "NumericValueOutOfRangeError",
        "InvalidTextRepresentationError",
        "DatetimeFieldOverflowError",
        "DataError",
    }
)


def is_unstorable_value(error: BaseException) -> bool:
    """PostgreSQL refused a value itself (NUL characters, overlong text, out-of-range numbers): the
    client's input, however deep in the driver's exception chain the reason sits."""
    seen: BaseException | None = error
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, DataError) or any(kind.__name__ in UNSTORABLE for kind in type(seen).__mro__):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False
