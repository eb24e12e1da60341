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
from typing import Any, Generic, Protocol, TypeVar

from django.db import OperationalError, connection, transaction
from django.db.models import Expression, F, Model, Q, QuerySet, Value
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
# Groups read per query of a group walk: each branch reads at most a page of one index range.
WALK_GROUPS = 20
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


class GroupWalk(Protocol):
    """How to read a sort on a joined column (account number, owner e-mail) group by group.

    ``ORDER BY account.number, name`` over a million rows joins and sorts them all for every
    page. But such a sort is a sequence of groups (one account, one owner), each an index range
    ordered by the columns after the group's: so a page is read as the next few groups, in the
    order of their label (read from the small accounts / users / teams tables), each branch of
    one ``UNION ALL`` reading at most a page from its index range.

    ``leading``: how many leading sort columns the group fixes (the rest order rows inside it).
    ``annotations``: expressions the group conditions filter on (the indexed expressions).
    """

    leading: int
    annotations: dict[str, Any]

    def group_of(self, values: list[Any]) -> Q:
        """The rows of the group holding a row with these sort values."""
        ...

    def following(
        self, values: list[Any] | None, descending: bool, limit: int
    ) -> list[tuple[Q, list[Any]]]:
        """Up to ``limit`` groups after the one holding ``values`` (None: from the first), in the
        sort order (``descending``: backwards), that hold at least one identity: each its rows'
        condition and sort values that place it (for the next call)."""
        ...


@dataclass(frozen=True)
class SortOrder:
    """A named sort (the ``ordering`` value in the URL, ``-name`` for the reverse).

    ``groups``: set when the leading columns are joined labels (see :class:`GroupWalk`); the
    order is the same either way, the walk is only how PostgreSQL reads it when many match.
    """

    key: str
    columns: tuple[SortColumn, ...]
    groups: GroupWalk | None = None


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
        walk_groups: bool = True,
    ) -> None:
        """``plan``: how the database should read the page on PostgreSQL, see :meth:`_read`.
        ``rows``: where the page's rows are read by key (``PLAN_BY_KEY``); the queryset itself
        by default, a lighter one (without the key list) when the caller has it.
        ``walk_groups``: whether a grouped sort may be read group by group (:meth:`_walks`)."""
        self.plan = plan
        self.walk_groups = walk_groups
        self.rows = rows if rows is not None else queryset
        self.order = order
        self.per_page = per_page
        self.reverse = reverse
        self.columns = order.columns
        self.unsorted = queryset
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

    def _walks(self) -> bool:
        """Read group by group: a grouped sort, on PostgreSQL, when many rows match.

        Not when the keys are in hand (``PLAN_BY_KEY``: sorting them is cheap), nor when the
        matches are few enough to be collected and sorted (``PLAN_MATCHES_FIRST``): a search's
        matches may all sort together far down each group's index range. Nor when the caller
        says the groups are sparse (``walk_groups=False``: an owner's identities sit in a few
        of the estate's accounts and owners, most groups would be read for nothing).
        """
        return (
            self.walk_groups
            and self.order.groups is not None
            and self.plan in (PLAN_ANY, PLAN_INDEX_ORDER)
            and connection.vendor == "postgresql"
        )

    def _walk(self, position: tuple[list[Any], int] | None, backwards: bool) -> list[M]:
        """The next ``per_page + 1`` rows of a grouped sort, group by group (:class:`GroupWalk`).

        One ``UNION ALL`` per ``WALK_GROUPS`` groups, each branch the rows of one group after the
        cursor in the order of the remaining columns, at most ``per_page + 1`` of them; then the
        rows of the groups needed are read by key, in the full sort order.
        """
        walk = self.order.groups
        assert walk is not None
        inner = SortOrder(self.order.key, self.columns[walk.leading :])
        within = KeysetPaginator(
            self.unsorted.none(), inner, per_page=self.per_page, reverse=self.reverse
        )
        base = self.unsorted.annotate(**walk.annotations)
        base = within._annotate(base).order_by(*within._order_by(backwards))
        want = self.per_page + 1
        descending = self.columns[0].descending ^ self.reverse ^ backwards
        branches: list[QuerySet[M]] = []
        if position is not None:
            values, pk = position
            branches.append(
                base.filter(walk.group_of(values)).filter(
                    within._after(values[walk.leading :], pk, backwards)
                )
            )
            start: list[Any] | None = values
        else:
            start = None
        keys: list[int] = []
        with transaction.atomic(), connection.cursor() as cursor:
            for setting in (_NO_JIT, "SET LOCAL max_parallel_workers_per_gather = 0"):
                cursor.execute(setting)
            while True:
                groups = walk.following(start, descending, WALK_GROUPS)
                branches += [base.filter(group) for group, _ in groups]
                if not branches:
                    break
                keys += _walk_keys(branches, want - len(keys))
                if len(keys) >= want or len(groups) < WALK_GROUPS:
                    break
                # Groups with nothing that matches: go on after the last one.
                start, branches = groups[-1][1], []
        if not keys:
            return []
        # A page or two of rows, put in the sort order by the database (its collation).
        rows = self._annotate(self.rows).filter(pk__in=keys)
        return list(rows.order_by(*self._order_by(backwards))[:want])

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
        if self._walks() and position is not None and None in position[0]:
            position = None  # a grouped sort has no NULL: a tampered cursor
        if position is None and not last:
            backwards = False  # no cursor, or one that does not fit: the first page
        if self._walks():
            rows = self._walk(position, backwards)
        else:
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


def _walk_keys(branches: list[QuerySet[Any]], want: int) -> list[int]:
    """The first ``want`` keys of the branches taken in turn, each branch at most ``want`` rows
    of one group's index range in its own order.

    One ``UNION ALL ... LIMIT want``: PostgreSQL runs the branches of a (non-parallel) append one
    after the other and stops once the limit is reached, so the groups after a full page cost
    nothing but their planning. The rows are put in their final order when they are read.
    """
    parts = [
        branch.annotate(_branch=Value(rank)).values_list("_branch", "pk")[:want]
        for rank, branch in enumerate(branches)
    ]
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    found: dict[int, list[int]] = {}
    for rank, pk in combined[:want]:
        found.setdefault(rank, []).append(pk)
    return [pk for rank in sorted(found) for pk in found[rank]]


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
