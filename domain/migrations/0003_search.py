"""Full-text index of published announcements: FTS5 on SQLite, a GIN tsvector table on PostgreSQL.

See domain/publication/search.py for the design. The index lives outside the ORM's models, so
this migration writes its DDL by hand and fills it from the announcements already published.

The filling is frozen here as domain/publication/search.py did it when this migration was written (jieba's
search-mode words of the title, the stored segmentation's rest or the body's words, weights A and D): the
title's words come from jieba, which SQL cannot run, so it is Python; it imports nothing of the domain.
"""

import re

import jieba
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE announcement_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 0')",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS announcement_fts"]

POSTGRES_FORWARD = [
    "CREATE TABLE announcement_search ("
    " announcement_id BIGINT PRIMARY KEY REFERENCES announcement (id) ON DELETE CASCADE,"
    " vector TSVECTOR NOT NULL"
    ")",
    "CREATE INDEX announcement_search_vector ON announcement_search USING GIN (vector)",
]
POSTGRES_BACKWARD = ["DROP TABLE IF EXISTS announcement_search"]


def _postgres(schema_editor: BaseSchemaEditor) -> bool:
    dialect = schema_editor.client.capabilities.dialect
    if dialect not in ("sqlite", "postgres"):
        raise RuntimeError(f"no full-text index for {dialect}")
    return bool(dialect == "postgres")


_KEEP = re.compile(r"[\w\u4e00-\u9fff]+")
_SELECT_SQLITE = "SELECT id, title, body_text, search_text FROM announcement WHERE status = ?"
_SELECT_POSTGRES = "SELECT id, title, body_text, search_text FROM announcement WHERE status = $1"
_INSERT_SQLITE = "INSERT OR REPLACE INTO announcement_fts (rowid, title, body) VALUES (?, ?, ?)"
_INSERT_POSTGRES = (
    "INSERT INTO announcement_search (announcement_id, vector) "
    "VALUES ($1, setweight(to_tsvector('simple', $2), 'A') || setweight(to_tsvector('simple', $3), 'D')) "
    "ON CONFLICT (announcement_id) DO UPDATE SET vector = EXCLUDED.vector"
)


def _words(tokenizer: jieba.Tokenizer, text: str) -> list[str]:
    """jieba's search-mode words, lower-cased, punctuation dropped."""
    out = []
    for word in tokenizer.cut_for_search(text):
        word = word.strip().lower()
        if word and _KEEP.fullmatch(word):
            out.append(word)
    return out


def _title_and_body(tokenizer: jieba.Tokenizer, title: str, body_text: str, search_text: str) -> tuple[str, str]:
    """The indexed words of the title and of the body, reusing the stored segmentation when it fits."""
    head = _words(tokenizer, title)
    words = search_text.split()
    if words[: len(head)] == head:
        return " ".join(head), " ".join(words[len(head) :])
    return " ".join(head), " ".join(_words(tokenizer, body_text))


async def create_index(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    postgres = _postgres(schema_editor)
    for statement in POSTGRES_FORWARD if postgres else SQLITE_FORWARD:
        await client.execute_script(statement)
    rows = await client.execute_query_dict(_SELECT_POSTGRES if postgres else _SELECT_SQLITE, ["published"])
    if not rows:
        return
    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for row in rows:
        title, body = _title_and_body(tokenizer, row["title"], row["body_text"], row["search_text"] or "")
        await client.execute_query(_INSERT_POSTGRES if postgres else _INSERT_SQLITE, [row["id"], title, body])


async def drop_index(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    for statement in POSTGRES_BACKWARD if _postgres(schema_editor) else SQLITE_BACKWARD:
        await schema_editor.client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0002_publication")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.RunPython(create_index, drop_index),
    ]
