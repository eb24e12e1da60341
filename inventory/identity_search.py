"""Searching and filtering identities at scale: free-text search, tags, key age.

Kept apart from the FilterSet so the SQL each filter produces (and the PostgreSQL index that
serves it, created in migration ``0004_console``) is visible in one place:

- free text matches the name, the native id (the ARN for AWS) and the tag *values*, with
  ``icontains`` on one text holding all three (``UPPER(text) LIKE UPPER('%term%')``); on
  PostgreSQL one trigram GIN index on exactly that ``UPPER(...)`` expression answers it without
  reading every row;
- a string shaped like an access key id is looked up exactly in the credentials (an index), so
  "who owns AKIA..." is a point query;
- ``tag=key=value`` uses JSON containment (``tags @> {"key": "value"}``, GIN-indexed) on
  PostgreSQL and a key lookup elsewhere (SQLite has no containment operator).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Func, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import Exact
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from inventory.choices import CredentialKind, CredentialStatus
from inventory.models import Credential, Identity

ACCESS_KEY_ID_RE = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{12,124}$")


class SearchText(Func):
    """What the search looks in, one field per line: the name, the native id (the ARN for AWS)
    and the tag values (not the keys).

    PostgreSQL: ``nhigov_search_text(name, native_id, tags)``, an immutable SQL function created
    by migration 0004_console, so that one trigram index serves the whole search. SQLite: the
    same text built inline from ``json_each``.
    """

    function = "nhigov_search_text"
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__(F("name"), F("native_id"), F("tags"))

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        parts = [compiler.compile(e) for e in self.get_source_expressions()]
        (name, p1), (native_id, p2), (tags, p3) = parts
        sql = (
            f"({name} || char(10) || {native_id} || char(10) || "  # noqa: S608 - compiled columns
            f"(SELECT coalesce(group_concat(value, ' '), '') FROM json_each({tags})))"
        )
        return sql, [*p1, *p2, *p3]


def search_identities(queryset: QuerySet[Identity], value: str) -> QuerySet[Identity]:
    """Identities whose name, native id/ARN or a tag value contains ``value`` (any case), or
    that hold the access key ``value`` exactly."""
    value = value.strip()
    if not value:
        return queryset
    if ACCESS_KEY_ID_RE.match(value):
        # A subquery, not a join: one row per identity even if the id were listed twice.
        return queryset.filter(
            id__in=Credential.objects.filter(native_id=value).values("identity_id")
        )
    # A line break would match across two fields of the searched text.
    value = " ".join(value.split())
    return queryset.alias(_searched=SearchText()).filter(_searched__icontains=value)


def filter_tag(queryset: QuerySet[Identity], value: str) -> QuerySet[Identity]:
    """``key=value``: the tag has exactly that value; ``key``: the identity has the tag."""
    key, sep, tag_value = value.partition("=")
    key, tag_value = key.strip(), tag_value.strip()
    if not key:
        return queryset
    if not sep:
        return queryset.filter(tags__has_key=key)
    if connection.vendor == "postgresql":
        return queryset.filter(tags__contains={key: tag_value})
    return queryset.filter(Exact(KeyTextTransform(key, "tags"), tag_value))


def start_of_day(day: date) -> datetime:
    """Midnight (UTC) starting ``day``: date filters compare a bare indexed column."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def with_key_older_than(queryset: QuerySet[Identity], days: int) -> QuerySet[Identity]:
    """Identities holding an active access key created more than ``days`` days ago."""
    cutoff = timezone.now() - timedelta(days=days)
    keys = Credential.objects.filter(
        kind=CredentialKind.ACCESS_KEY, status=CredentialStatus.ACTIVE, created_at__lte=cutoff
    )
    return queryset.filter(id__in=keys.values("identity_id"))
