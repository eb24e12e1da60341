"""Risk tier of an identity, and how often each tier is reviewed.

The tier is derived from the identity's OPEN findings (suppressed ones excluded by the caller)
and whether it is privileged (root, or PRIV-001/002/003 would fire):

* ``critical`` — any critical finding;
* ``high``     — any high finding, or a privileged identity with any medium finding;
* ``medium``   — any medium finding, or any privileged identity (even with no finding at all);
* ``low``      — everything else (only low findings, or none).

The tier sets the access-review cadence (:data:`REVIEW_CADENCE_DAYS`): critical monthly, high
quarterly, the rest half-yearly — PCI DSS v4.0 requirement 7.2.4 demands a review of all user
accounts and access privileges at least once every six months.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Protocol

TIERS: Final[tuple[str, ...]] = ("critical", "high", "medium", "low")

REVIEW_CADENCE_DAYS: Final[dict[str, int]] = {"critical": 30, "high": 90, "medium": 180, "low": 180}


class _Severe(Protocol):
    @property
    def severity(self) -> str: ...


def risk_tier(findings: Iterable[_Severe], *, privileged: bool) -> str:
    """The tier of one identity from its open findings and its privilege (rules above)."""
    severities = {f.severity for f in findings}
    if "critical" in severities:
        return "critical"
    if "high" in severities or (privileged and "medium" in severities):
        return "high"
    if "medium" in severities or privileged:
        return "medium"
    return "low"
