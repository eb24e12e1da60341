from django.urls import path

from inventory.views import evidence, findings, identities

app_name = "inventory"

urlpatterns = [
    path("identities/", identities.identity_list, name="identity-list"),
    path("identities/<int:pk>/", identities.identity_detail, name="identity-detail"),
    path("findings/", findings.finding_list, name="finding-list"),
    path("findings/<int:pk>/suppress/", findings.finding_suppress_view, name="finding-suppress"),
    path(
        "findings/<int:pk>/unsuppress/",
        findings.finding_unsuppress_view,
        name="finding-unsuppress",
    ),
    path("rules/", findings.rule_list, name="rule-list"),
    path("rules/<str:rule_id>/", findings.rule_detail, name="rule-detail"),
    path("risk-settings/", findings.risk_settings_view, name="risk-settings"),
    path("leaks/", findings.leak_list, name="leak-list"),
    path("snapshot.zip", evidence.inventory_snapshot_download, name="inventory-snapshot"),
]
