"""The inventory: where identities come from, what they are, who owns them, what became of them."""

from inventory.models.findings import (
    Finding,
    LeakedKey,
    LeakReport,
    RiskBasis,
    RiskPass,
    RiskSettings,
    RiskSettingsChange,
)
from inventory.models.identities import Credential, Identity, IdentityEvent, IdentityQuerySet
from inventory.models.snapshots import InventorySnapshot
from inventory.models.sources import (
    AWS_ACCOUNT_ID_RE,
    AWS_EXTERNAL_ID_RE,
    AWS_REGION_RE,
    AWS_ROLE_NAME_RE,
    SOURCE_NAME_RE,
    Account,
    DiscoveryRun,
    Source,
)
from inventory.models.teams import Team

__all__ = [
    "AWS_ACCOUNT_ID_RE",
    "AWS_EXTERNAL_ID_RE",
    "AWS_REGION_RE",
    "AWS_ROLE_NAME_RE",
    "SOURCE_NAME_RE",
    "Account",
    "Credential",
    "DiscoveryRun",
    "Finding",
    "Identity",
    "IdentityEvent",
    "IdentityQuerySet",
    "InventorySnapshot",
    "LeakReport",
    "LeakedKey",
    "RiskBasis",
    "RiskPass",
    "RiskSettings",
    "RiskSettingsChange",
    "Source",
    "Team",
]
