"""Call accounting of the AWS connector: :class:`_CallMeter` counts logical API calls and
throttled retries through botocore events; :data:`THROTTLING_CODES` are the error codes that
count as throttling.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.client import BaseClient

# Error codes AWS (and botocore's retry handlers) use for throttling.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "LimitExceededException",
        "PriorRequestNotComplete",
    }
)
_THROTTLES_KEY = "nhigov_throttled_responses"


# --- call accounting ---------------------------------------------------------------------------


class _CallMeter:
    """Counts logical API calls (one per page) and throttled retries through botocore events."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.throttled_retries = 0

    def attach(self, client: BaseClient) -> None:
        events = client.meta.events
        events.register("needs-retry", self._on_needs_retry)
        events.register("after-call", self._on_after_call)
        events.register("after-call-error", self._on_after_call_error)

    def _on_needs_retry(self, response: Any = None, request_dict: Any = None, **_: Any) -> None:
        # Called after every attempt; botocore's own retry handler decides whether to retry.
        if not response or not isinstance(request_dict, dict):
            return
        http_response, parsed = response
        code = parsed.get("Error", {}).get("Code", "") if isinstance(parsed, dict) else ""
        if code in THROTTLING_CODES or getattr(http_response, "status_code", 0) == 429:
            context = request_dict.setdefault("context", {})
            context[_THROTTLES_KEY] = context.get(_THROTTLES_KEY, 0) + 1

    def _on_after_call(
        self, model: Any = None, parsed: Any = None, context: Any = None, **_: Any
    ) -> None:
        if model is not None:
            self.calls[model.name] += 1
        retries = 0
        if isinstance(parsed, dict):
            retries = int(parsed.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)
        throttles = context.get(_THROTTLES_KEY, 0) if isinstance(context, dict) else 0
        # A final throttled response that was not retried is not a retry.
        self.throttled_retries += min(retries, throttles)

    def _on_after_call_error(self, event_name: str = "", **_: Any) -> None:
        # The request failed without a response (connection error...): still a call made.
        self.calls[event_name.rsplit(".", 1)[-1]] += 1
