"""What a reviewer should probably do with an identity, and why, in words (pure, no database).

The recommendation is shown next to each item ("not used for 120 days: deprovision"; "used
yesterday, key 30 days old: keep"), stored with every decision (what the reviewer was shown),
and followed by the no-response policy ``recommendation``. The rules, first match wins:

1. an access key found in a code repository (LEAK-001) -> deprovision (or rotate and keep);
2. unused for ``unused_days`` or more (never used: counted from creation) -> deprovision;
3. no owner, or an owner who left -> hand over;
4. critical findings and not used in the last 30 days -> deprovision;
5. otherwise keep, saying how recently it was used, how old its oldest key is, and what to fix
   (critical findings, a key older than ``key_max_age_days``).

Identity kinds the provider records no use for (instance profiles: their role carries the use)
are never recommended for deprovisioning on age alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

KEEP: Final = "keep"
DEPROVISION: Final = "deprovision"
HANDOVER: Final = "handover"

# Kinds for which "never used" means "no usage data", not "unused".
NO_USAGE_DATA_KINDS: Final[frozenset[str]] = frozenset({"instance_profile"})
# Kinds that hold long-lived access keys (their age is part of the advice).
KEY_HOLDING_KINDS: Final[frozenset[str]] = frozenset(
    {"iam_user", "service_account", "bot", "token"}
)
RECENT_USE_DAYS: Final = 30


@dataclass(frozen=True, slots=True)
class IdentityFacts:
    """What the recommendation looks at, as plain values."""

    kind: str
    last_used_at: datetime | None
    created_at: datetime | None
    oldest_key_age_days: int | None = None
    active_keys: int = 0
    findings: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (rule id, severity)
    has_owner: bool = True
    owner_active: bool = True


@dataclass(frozen=True, slots=True)
class Advice:
    action: str
    reason: str


def _ago(days: int) -> str:
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{days} days ago"


def _days(now: datetime, then: datetime | None) -> int | None:
    if then is None:
        return None
    return max(0, (now - then).days)


def _key_phrase(facts: IdentityFacts) -> str:
    if facts.kind not in KEY_HOLDING_KINDS:
        return ""
    if not facts.active_keys or facts.oldest_key_age_days is None:
        return "no active access key"
    if facts.active_keys == 1:
        return f"key {facts.oldest_key_age_days} days old"
    return f"{facts.active_keys} keys, oldest {facts.oldest_key_age_days} days old"


def recommend(  # noqa: PLR0911 - one return per rule reads best
    facts: IdentityFacts,
    *,
    now: datetime,
    unused_days: int = 90,
    key_max_age_days: int = 90,
) -> Advice:
    """The advice for one identity (see the module docstring for the rules)."""
    rules = {rule for rule, _severity in facts.findings}
    critical = sorted(rule for rule, severity in facts.findings if severity == "critical")
    idle = _days(now, facts.last_used_at)
    age = _days(now, facts.created_at)

    if "LEAK-001" in rules:
        return Advice(
            DEPROVISION,
            "access key found in a code repository: deprovision (or rotate the key and keep)",
        )
    no_usage_data = facts.kind in NO_USAGE_DATA_KINDS and idle is None
    if idle is not None and idle >= unused_days:
        return Advice(DEPROVISION, f"not used for {idle} days: deprovision")
    if idle is None and not no_usage_data and age is not None and age >= unused_days:
        return Advice(
            DEPROVISION, f"never used in the {age} days since it was created: deprovision"
        )
    if not facts.has_owner:
        return Advice(HANDOVER, "no owner: hand it over to whoever runs it")
    if not facts.owner_active:
        return Advice(HANDOVER, "its owner left the company: hand it over to whoever runs it")
    if critical and (idle is None or idle > RECENT_USE_DAYS) and not no_usage_data:
        when = "never used" if idle is None else f"not used for {idle} days"
        return Advice(
            DEPROVISION, f"critical findings ({', '.join(critical)}) and {when}: deprovision"
        )

    parts: list[str] = []
    if no_usage_data:
        parts.append("AWS records no use for this kind (check the role it carries)")
    elif idle is None:
        parts.append(f"never used, created {_ago(age)}" if age is not None else "never used")
    else:
        parts.append(f"used {_ago(idle)}")
    key = _key_phrase(facts)
    if key:
        parts.append(key)
    advice = "keep"
    if critical:
        advice = f"keep only with a justification, and fix {', '.join(critical)}"
    elif (
        facts.kind in KEY_HOLDING_KINDS
        and facts.oldest_key_age_days is not None
        and facts.oldest_key_age_days > key_max_age_days
    ):
        advice = "keep, and rotate the key"
    return Advice(KEEP, f"{', '.join(parts)}: {advice}")
