"""API pagination: cursors (constant time at any depth), ordered by the view's ``ordering``."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import CursorPagination


class ViewOrderedCursorPagination(CursorPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        return tuple(getattr(view, "ordering", None) or ("-id",))
