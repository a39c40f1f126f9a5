"""Hot statements, compiled once per database and run straight on the driver's connection.

SQLAlchemy Core spends about 12 µs a statement on its own bookkeeping (cache keys,
execution context, result object): a tenth of a post, whose few statements each take a
few µs in SQLite. `Prepared` keeps what Core would do that matters here, the SQL text
for the database at hand and the column types' conversions (SQLite keeps datetimes and
booleans as text and integers), and runs inside the session's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

Converter = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters, in the order a positional driver wants them
    positional: bool
    to_db: dict[str, Converter]
    fixed: dict[str, Any]  # values the statement holds itself (a literal 0 or 1)
    returned: tuple[Any, ...]  # the columns a SELECT or a RETURNING gives back
    #: Their conversions, known at the first answer: some depend on the driver's types.
    from_db: list[tuple[Converter, ...]]


class Prepared:
    """One Core statement, run as the driver's own SQL.

    `columns` names the keys a statement binds when they are not its own bind parameters
    (an INSERT's columns). Results come back as plain tuples, converted per column type.
    """

    def __init__(self, statement: ClauseElement, columns: Sequence[str] = ()) -> None:
        self.statement = statement
        self.columns = list(columns)
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, connection: Connection) -> _Compiled:
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            done = cast(
                SQLCompiler,
                self.statement.compile(dialect=dialect, column_keys=self.columns or None),
            )
            names = tuple(done.positiontup or ()) if dialect.positional else tuple(done.binds)
            to_db: dict[str, Converter] = {
                name: done.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                for name in names
            }
            returned = tuple(getattr(self.statement, "exported_columns", ()))
            fixed = {name: done.binds[name].effective_value for name in names}
            compiled = _Compiled(done.string, names, dialect.positional, to_db, fixed, returned, [])
            self._compiled[dialect.name] = compiled
        return compiled

    def _run(self, connection: Connection, params: dict[str, Any]) -> tuple[Any, _Compiled]:
        compiled = self._for(connection)
        values = {name: params.get(name, compiled.fixed[name]) for name in compiled.to_db}
        for name, convert in compiled.to_db.items():
            if convert is not None:
                values[name] = convert(values[name])
        args: Any = (
            tuple(values[name] for name in compiled.names) if compiled.positional else values
        )
        driver = connection.connection.driver_connection
        dialect = connection.dialect
        cursor = None
        try:
            cursor = driver.cursor()  # type: ignore[union-attr]
            cursor.execute(compiled.sql, args)
        except dialect.loaded_dbapi.Error as exc:
            # As Core would: the error as SQLAlchemy's own class (a lost or locked database
            # is a 503, not a 500), a lost connection out of the pool, no values in the log.
            if cursor is not None:
                cursor.close()
            if dialect.is_disconnect(exc, driver, cursor):
                connection.invalidate(exc)
            raise DBAPIError.instance(
                compiled.sql, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True
            ) from exc
        return cursor, compiled

    def execute(self, connection: Connection, params: dict[str, Any]) -> None:
        cursor, _ = self._run(connection, params)
        cursor.close()

    def first(self, connection: Connection, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row, its values converted as the statement's column types say."""
        cursor, compiled = self._run(connection, params)
        row = cursor.fetchone()
        if not compiled.from_db:
            dialect = connection.dialect
            compiled.from_db.append(
                tuple(
                    column.type.dialect_impl(dialect).result_processor(dialect, described[1])
                    for column, described in zip(compiled.returned, cursor.description, strict=True)
                )
            )
        cursor.close()
        if row is None:
            return None
        return tuple(
            convert(value) if convert else value
            for value, convert in zip(row, compiled.from_db[0], strict=True)
        )

    def scalar(self, connection: Connection, params: dict[str, Any]) -> Any:
        row = self.first(connection, params)
        return None if row is None else row[0]


def dialect_insert(dialect_name: str, table: Any) -> Any:
    """An INSERT that knows ON CONFLICT: PostgreSQL's or SQLite's (the only two Parley runs
    on; config refuses others)."""
    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)
