"""The risk engine: policy evaluation, the rule catalogue and risk tiers (pure, no database).

The database side (findings, suppressions, thresholds, leak reports) lives in
``inventory.models.findings`` and ``inventory.services.risk``.
"""
