"""Rows written in one plain statement on the hot paths of settlement and the ledger.

``bulk_create`` spends more Python time compiling its statement than the database spends running
it; these build the same multi-row INSERT directly from the models' concrete fields.
"""

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def insert_statement(objects: Sequence[Model], *, returning_pk: bool = False) -> tuple[str, list]:
    """``INSERT INTO table (columns) VALUES (...), (...)`` for ``objects`` (all of one model, pk unset)."""
    meta = objects[0]._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES {', '.join([row] * len(objects))}"
    )
    if returning_pk:
        sql += f" RETURNING {quote(meta.pk.column)}"
    values = [field.get_db_prep_save(field.pre_save(obj, add=True), connection) for obj in objects for field in fields]
    return sql, values


def insert_rows(objects: Sequence[Model]) -> None:
    """Insert new ``objects`` in one statement and give each its primary key, in order."""
    if not objects:
        return
    sql, values = insert_statement(objects, returning_pk=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        keys = [row[0] for row in cursor.fetchall()]
    for obj, key in zip(objects, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
