from __future__ import annotations

from typing import Any

from rest_framework import serializers

from inventory.models import Credential, DiscoveryRun, Finding, Identity, Source
from inventory.services.sources import parse_regions, source_create


class CredentialSerializer(serializers.ModelSerializer[Credential]):
    class Meta:
        model = Credential
        fields = [
            "kind",
            "native_id",
            "status",
            "created_at",
            "last_used_at",
            "last_used_service",
            "last_used_region",
            "last_rotated_at",
        ]


class IdentitySerializer(serializers.ModelSerializer[Identity]):
    account_id = serializers.CharField(source="account.account_id", read_only=True)
    owner = serializers.SerializerMethodField()
    owner_team = serializers.CharField(source="owner_team.name", read_only=True, default=None)
    credentials = CredentialSerializer(many=True, read_only=True)

    class Meta:
        model = Identity
        fields = [
            "id",
            "provider",
            "account_id",
            "kind",
            "native_id",
            "arn",
            "name",
            "path",
            "region",
            "tags",
            "created_at",
            "first_seen_at",
            "last_used_at",
            "classification",
            "classification_evidence",
            "owner",
            "owner_team",
            "owner_source",
            "owner_evidence",
            "owner_raw",
            "owner_unmatched",
            "lifecycle_state",
            "is_orphaned",
            "is_stale",
            "is_privileged",
            "permissions_summary",
            "credentials",
        ]

    def get_owner(self, obj: Identity) -> str | None:
        return (obj.owner.email or obj.owner.username) if obj.owner else None


class SourceSerializer(serializers.ModelSerializer[Source]):
    class Meta:
        model = Source
        fields = [
            "id",
            "name",
            "kind",
            "account_id",
            "role_name",
            "external_id",
            "regions",
            "schedule_minutes",
            "enabled",
            "last_run_at",
            "next_run_at",
        ]
        read_only_fields = ["last_run_at", "next_run_at"]

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("regions"), str):
            data = {**data, "regions": parse_regions(data["regions"])}
        return super().to_internal_value(data)

    def create(self, validated_data: dict[str, Any]) -> Source:
        request = self.context.get("request")
        return source_create(actor=getattr(request, "user", None), **validated_data)


class DiscoveryRunSerializer(serializers.ModelSerializer[DiscoveryRun]):
    source_name = serializers.CharField(source="source.name", read_only=True)

    class Meta:
        model = DiscoveryRun
        fields = [
            "id",
            "source_name",
            "parent",
            "account_id",
            "status",
            "trigger",
            "created_at",
            "started_at",
            "finished_at",
            "identities_seen",
            "new_count",
            "updated_count",
            "unchanged_count",
            "vanished_count",
            "reappeared_count",
            "api_calls",
            "api_calls_per_1000_identities",
            "api_calls_by_operation",
            "throttled_retries",
            "complete",
            "vanish_applied",
            "errors",
        ]


class FindingSerializer(serializers.ModelSerializer[Finding]):
    identity_name = serializers.CharField(source="identity.name", read_only=True)
    identity_arn = serializers.CharField(source="identity.arn", read_only=True)
    account_id = serializers.CharField(source="identity.account.account_id", read_only=True)
    title = serializers.SerializerMethodField()
    owasp = serializers.SerializerMethodField()
    cis = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = [
            "id",
            "identity",
            "identity_name",
            "identity_arn",
            "account_id",
            "rule_id",
            "key",
            "title",
            "severity",
            "status",
            "message",
            "evidence",
            "owasp",
            "cis",
            "first_seen_at",
            "last_seen_at",
            "resolved_at",
            "suppressed_reason",
            "suppressed_until",
        ]

    def _rule(self, obj: Finding) -> Any:
        from inventory.risk.rules import RULES

        return RULES.get(obj.rule_id)

    def get_title(self, obj: Finding) -> str:
        rule = self._rule(obj)
        return rule.title if rule else ""

    def get_owasp(self, obj: Finding) -> list[str]:
        rule = self._rule(obj)
        return list(rule.owasp) if rule else []

    def get_cis(self, obj: Finding) -> str | None:
        rule = self._rule(obj)
        return rule.cis if rule else None
