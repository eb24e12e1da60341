"""Keyset pagination and capped counts: list pages that stay fast at a million rows.

``OFFSET 500000`` reads and throws away half a million rows, and ``COUNT(*)`` of a broad filter
reads every matching row, on every page view. Instead:

- a page is "the next N rows after this one in the sort order": ``WHERE (sort columns, id) >
  (cursor) ORDER BY sort columns, id LIMIT N + 1``, an index range scan at any depth. The cursor
  (``?after=`` / ``?before=``) is the boundary row's sort values, opaque in the URL; a stale or
  tampered cursor falls back to the first page, never to an error;
- the count is capped: the matching keys are read with ``LIMIT cap + 1`` (at most ``cap + 1``
  rows) and shown as "10,000+". Past the cap, PostgreSQL's planner estimate for the same query
  (``EXPLAIN``, no rows read) gives the order of magnitude. Under the cap the keys themselves
  are the page's filter (``WHERE id IN (...)``): a selective filter or search is then read by
  primary key, instead of the sort index scan a planner may bet on (``ORDER BY name LIMIT 51``
  walking the name index in the hope that matches are spread evenly, when a search for
  "payments-prod" matches only names that sort together).

Sort orders are declared (:class:`SortOrder`); ``id`` always ends the order so it is total. NULL
sorts as the smallest value (``ASC NULLS FIRST``/``DESC NULLS LAST``), matching the PostgreSQL
indexes created for nullable sort columns.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db import OperationalError, connection, transaction
from django.db.models import Expression, F, Model, Q, QuerySet
from psycopg.errors import QueryCanceled

M = TypeVar("M", bound=Model)

COUNT_CAP = 10_000
# Reading the matching keys (the count) gives up after this long: a very common search term
# makes trigram indexes build huge bitmaps, and a slow count means many matches anyway.
COUNT_BUDGET_MS = 250
PLAN_ANY, PLAN_BY_KEY, PLAN_MATCHES_FIRST, PLAN_INDEX_ORDER = (
    "any",
    "by_key",
    "matches_first",
    "index_order",
)
# Past the cap: up to this many estimated matches, collect them and sort (cost grows with the
# matches); beyond, walk the sort index (they are dense: a page is near).
MATCHES_FIRST_MAX = 100_000
# JIT compilation (10-20 ms) pays off for long analytical queries, never for a page: the key
# lists make cost estimates high enough to trigger it.
_NO_JIT = "SET LOCAL jit = off"
_PLAN_SETTINGS: dict[str, tuple[str, ...]] = {
    PLAN_BY_KEY: (
        _NO_JIT,
        "SET LOCAL enable_indexscan = off",
        "SET LOCAL max_parallel_workers_per_gather = 0",
    ),
    PLAN_MATCHES_FIRST: (_NO_JIT, "SET LOCAL enable_indexscan = off"),
    PLAN_INDEX_ORDER: (
        _NO_JIT,
        "SET LOCAL enable_bitmapscan = off",
        "SET LOCAL enable_seqscan = off",
        "SET LOCAL enable_sort = off",
    ),
}


@dataclass(frozen=True)
class SortColumn:
    """One column of a sort order: a field path or an expression, its type, its direction."""

    expression: str | Expression
    kind: str = "str"  # how a cursor value decodes: str, int, bool, datetime
    nullable: bool = False
    descending: bool = False

    def decode(self, value: Any) -> Any:
        if value is None:
            return None
        if self.kind == "datetime":
            return datetime.fromisoformat(str(value))
        if self.kind == "int":
            return int(value)
        if self.kind == "bool":
            return bool(value)
        return str(value)


@dataclass(frozen=True)
class SortOrder:
    """A named sort (the ``ordering`` value in the URL, ``-name`` for the reverse)."""

    key: str
    columns: tuple[SortColumn, ...]


@dataclass
class KeysetPage(Generic[M]):
    object_list: list[M]
    has_next: bool
    has_previous: bool
    next_cursor: str
    previous_cursor: str
    number: int | None  # for display only; None when unknown (the last page)

    def __iter__(self) -> Any:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


@dataclass(frozen=True)
class CappedCount:
    """How many rows match: exact up to the cap, else "more than" plus an estimate if known.

    When exact, ``ids`` holds the matching primary keys (read instead of counted, at the same
    cost): the page is then read by primary key, which no planner misestimate can slow down.
    """

    value: int
    capped: bool
    estimate: int | None = None
    ids: tuple[int, ...] | None = None
    timed_out: bool = False  # gave up counting: many match, how many is the estimate

    @property
    def exact(self) -> bool:
        return not self.capped


def _alias(i: int) -> str:
    return f"_sort{i}"


def _encode(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


class KeysetPaginator(Generic[M]):
    """Pages of ``queryset`` in ``order`` (``reverse`` flips every column), ``per_page`` rows."""

    def __init__(
        self,
        queryset: QuerySet[M],
        order: SortOrder,
        *,
        per_page: int,
        reverse: bool = False,
        plan: str = PLAN_ANY,
        rows: QuerySet[M] | None = None,
    ) -> None:
        """``plan``: how the database should read the page on PostgreSQL, see :meth:`_read`.
        ``rows``: where the page's rows are read by key (``PLAN_BY_KEY``); the queryset itself
        by default, a lighter one (without the key list) when the caller has it."""
        self.plan = plan
        self.rows = rows if rows is not None else queryset
        self.order = order
        self.per_page = per_page
        self.reverse = reverse
        self.columns = order.columns
        self.queryset = self._annotate(queryset)

    def _annotate(self, queryset: QuerySet[M]) -> QuerySet[M]:
        return queryset.annotate(
            **{
                _alias(i): F(c.expression) if isinstance(c.expression, str) else c.expression
                for i, c in enumerate(self.columns)
            }
        )

    @property
    def sort_value(self) -> str:
        return f"-{self.order.key}" if self.reverse else self.order.key

    def _descending(self, column: SortColumn, backwards: bool) -> bool:
        return column.descending ^ self.reverse ^ backwards

    def _order_by(self, backwards: bool) -> list[Any]:
        terms: list[Any] = []
        for i, column in enumerate(self.columns):
            ref = F(_alias(i))
            desc = self._descending(column, backwards)
            if column.nullable:  # NULL is the smallest value
                terms.append(ref.desc(nulls_last=True) if desc else ref.asc(nulls_first=True))
            else:
                terms.append(ref.desc() if desc else ref.asc())
        pk_desc = self.reverse != backwards
        terms.append(F("pk").desc() if pk_desc else F("pk").asc())
        return terms

    def _after(self, values: list[Any], pk: int, backwards: bool) -> Q:
        """Rows strictly after (values, pk) in the order being read."""
        condition = Q(pk__lt=pk) if self.reverse != backwards else Q(pk__gt=pk)
        for i in reversed(range(len(self.columns))):
            column, value, name = self.columns[i], values[i], _alias(i)
            desc = self._descending(column, backwards)
            if value is None:
                beyond = Q() if desc else Q(**{f"{name}__isnull": False})
                equal = Q(**{f"{name}__isnull": True})
                if desc:  # nothing is smaller than NULL: only the tie-break remains
                    condition = equal & condition
                    continue
            else:
                beyond = Q(**{f"{name}__lt" if desc else f"{name}__gt": value})
                if column.nullable and desc:
                    beyond |= Q(**{f"{name}__isnull": True})
                equal = Q(**{name: value})
            condition = beyond | (equal & condition)
        first, first_value = self.columns[0], values[0]
        if first_value is not None and not first.nullable:
            # A redundant bound on the leading column, so the database starts the index scan at
            # the cursor rather than filtering from the first row.
            desc = self._descending(first, backwards)
            bound = Q(**{f"{_alias(0)}__lte" if desc else f"{_alias(0)}__gte": first_value})
            condition = bound & condition
        return condition

    def _cursor_for(self, obj: M) -> str:
        values = [getattr(obj, _alias(i)) for i in range(len(self.columns))]
        return _encode({"s": self.sort_value, "v": values, "id": obj.pk})

    def _parse(self, cursor: str) -> tuple[list[Any], int] | None:
        payload = _decode(cursor) if cursor else None
        if not payload or payload.get("s") != self.sort_value:
            return None
        raw = payload.get("v")
        if not isinstance(raw, list) or len(raw) != len(self.columns):
            return None
        try:
            values = [c.decode(v) for c, v in zip(self.columns, raw, strict=True)]
            pk = int(payload["id"])
        except (KeyError, TypeError, ValueError):
            return None
        return values, pk

    def _read(self, qs: QuerySet[M]) -> list[M]:
        """Read ``per_page + 1`` rows, steering PostgreSQL's plan when the caller knows better.

        The planner assumes matching rows are spread evenly through the sort order, and that a
        filter matches what its statistics say; both fail with correlated filters. The caller
        knows how many rows match (the capped count), so:

        - ``PLAN_BY_KEY``, few rows, given by primary key: read them by key and sort them, never
          walk the sort index hoping matches come early;
        - ``PLAN_MATCHES_FIRST``, more than the cap but not many (up to ``MATCHES_FIRST_MAX``
          estimated): collect the matches through their indexes and sort them (a search for
          "payments" matches names that all sort together, far down the name index);
        - ``PLAN_INDEX_ORDER``, many rows: walk the sort index and stop after a page, never build
          a bitmap of every match and sort it.
        """
        settings = _PLAN_SETTINGS.get(self.plan, ()) if connection.vendor == "postgresql" else ()
        if not settings:
            return list(qs[: self.per_page + 1])
        with transaction.atomic(), connection.cursor() as cursor:
            for setting in settings:
                cursor.execute(setting)
            if self.plan != PLAN_BY_KEY:
                return list(qs[: self.per_page + 1])
            # Sort the keys alone (narrow rows, no joins), then read the page's rows by key.
            keys = list(qs.values_list("pk", flat=True)[: self.per_page + 1])
        rows = self._annotate(self.rows).filter(pk__in=keys) if keys else []
        by_pk = {row.pk: row for row in rows}
        return [by_pk[k] for k in keys if k in by_pk]

    def page(
        self, *, after: str = "", before: str = "", last: bool = False, number: int | None = None
    ) -> KeysetPage[M]:
        """One query: ``per_page + 1`` rows, to know whether there is more.

        ``after``: the page following that cursor; ``before``: the page preceding it; ``last``:
        the last page (the order read backwards from the end). ``number`` is only displayed.
        """
        if before:
            position, backwards = self._parse(before), True
        elif after:
            position, backwards = self._parse(after), False
        else:
            position, backwards = None, last
        if position is None and not last:
            backwards = False  # no cursor, or one that does not fit: the first page
        qs = self.queryset.order_by(*self._order_by(backwards))
        if position is not None:
            qs = qs.filter(self._after(*position, backwards))
        rows = self._read(qs)
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if backwards:
            rows.reverse()
            has_previous, has_next = more, position is not None
        else:
            has_previous, has_next = position is not None, more
        if position is None and not backwards:
            number = 1
        elif last and position is None:
            number = None
        return KeysetPage(
            object_list=rows,
            has_next=has_next and bool(rows),
            has_previous=has_previous and bool(rows),
            next_cursor=self._cursor_for(rows[-1]) if rows else "",
            previous_cursor=self._cursor_for(rows[0]) if rows else "",
            number=number if number is None else max(1, number),
        )


def read_plan(count: CappedCount) -> str:
    """How to read a filtered page, from what the count learnt (``KeysetPaginator._read``)."""
    if count.ids is not None:
        return PLAN_BY_KEY
    if count.estimate is not None and count.estimate <= MATCHES_FIRST_MAX and not count.timed_out:
        return PLAN_MATCHES_FIRST
    return PLAN_INDEX_ORDER


def capped_count(
    queryset: QuerySet[Any], *, cap: int = COUNT_CAP, budget_ms: int | None = COUNT_BUDGET_MS
) -> CappedCount:
    """Read the matching keys up to ``cap + 1`` (never more rows); past the cap, the planner's
    estimate of the total. The same read serves the count and, when few match, the page.

    On PostgreSQL the read gives up after ``budget_ms``: the count is then "many", with the
    estimate (a slow read of at most 10,001 keys means a broad match).
    """
    keys = queryset.order_by().values_list("pk", flat=True)[: cap + 1]
    if connection.vendor != "postgresql" or not budget_ms:
        ids = tuple(keys)
    else:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(budget_ms)}")
                cursor.execute(_NO_JIT)
                ids = tuple(keys)
        except OperationalError as exc:
            if not isinstance(exc.__cause__, QueryCanceled):
                raise
            return CappedCount(
                value=cap,
                capped=True,
                estimate=planner_estimate(queryset.order_by()),
                timed_out=True,
            )
    if len(ids) <= cap:
        return CappedCount(value=len(ids), capped=False, ids=ids)
    return CappedCount(value=cap, capped=True, estimate=planner_estimate(queryset.order_by()))


def planner_estimate(queryset: QuerySet[Any]) -> int | None:
    """PostgreSQL's estimate of the rows a query returns (reads no rows); None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    try:
        plan = json.loads(queryset.explain(format="json"))
        return int(plan[0]["Plan"]["Plan Rows"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None
