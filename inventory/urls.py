from django.urls import path

from inventory.views import (
    dashboard,
    evidence,
    findings,
    identities,
    identity_actions,
    runs,
    sources,
    teams,
)

app_name = "inventory"

urlpatterns = [
    path("identities/", identities.identity_list, name="identity-list"),
    path("identities/<int:pk>/", identities.identity_detail, name="identity-detail"),
    # --- the security console (dashboard, bulk actions, sources, runs, teams) ---
    path("", dashboard.dashboard, name="dashboard"),
    path("mine/", identities.my_identities, name="my-identities"),
    path("identities/<int:pk>/owner/", identities.identity_owner_change, name="identity-owner"),
    path("identities/bulk/", identity_actions.identity_bulk, name="identity-bulk"),
    path("identities/export.csv", identity_actions.identity_export, name="identity-export"),
    path("sources/", sources.source_list, name="source-list"),
    path("sources/new/", sources.source_create_view, name="source-create"),
    path("sources/<int:pk>/", sources.source_detail, name="source-detail"),
    path("sources/<int:pk>/edit/", sources.source_edit, name="source-edit"),
    path("sources/<int:pk>/test/", sources.source_test, name="source-test"),
    path("sources/<int:pk>/run/", sources.source_run, name="source-run"),
    path("runs/", runs.run_list, name="run-list"),
    path("runs/<int:pk>/", runs.run_detail, name="run-detail"),
    path("teams/", teams.team_list, name="team-list"),
    path("teams/new/", teams.team_create_view, name="team-create"),
    path("teams/<int:pk>/", teams.team_detail, name="team-detail"),
    path("teams/<int:pk>/edit/", teams.team_edit, name="team-edit"),
    path("teams/<int:pk>/members/", teams.team_member_add_view, name="team-member-add"),
    path(
        "teams/<int:pk>/members/<int:user_pk>/remove/",
        teams.team_member_remove_view,
        name="team-member-remove",
    ),
    path("people/<int:pk>/deactivate/", teams.person_deactivate_view, name="person-deactivate"),
    # --- end of the security console ---
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
