from django.urls import path

from reviews.views import campaigns, evidence, queue

app_name = "reviews"

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("items/<int:pk>/", queue.item_detail, name="item-detail"),
    path("items/<int:pk>/decide/", queue.item_decide_view, name="item-decide"),
    path("items/<int:pk>/reroute/", queue.item_reroute_view, name="item-reroute"),
    path("items/<int:pk>/handover/", queue.handover_answer_view, name="item-handover"),
    path("items/<int:pk>/confirm/", queue.self_review_confirm_view, name="item-confirm"),
    path("bulk-keep/", queue.bulk_keep_view, name="bulk-keep"),
    path("campaigns/", campaigns.campaign_list, name="campaign-list"),
    path("campaigns/new/", campaigns.campaign_new, name="campaign-new"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/items/", campaigns.campaign_items, name="campaign-items"),
    path(
        "campaigns/<int:pk>/activate/", campaigns.campaign_activate_view, name="campaign-activate"
    ),
    path("campaigns/<int:pk>/remind/", campaigns.campaign_remind_view, name="campaign-remind"),
    path(
        "campaigns/<int:pk>/escalate/", campaigns.campaign_escalate_view, name="campaign-escalate"
    ),
    path("campaigns/<int:pk>/extend/", campaigns.campaign_extend_view, name="campaign-extend"),
    path("campaigns/<int:pk>/closing/", campaigns.campaign_closing_view, name="campaign-closing"),
    path(
        "campaigns/<int:pk>/sign-off/", campaigns.campaign_sign_off_view, name="campaign-sign-off"
    ),
    path("campaigns/<int:pk>/cancel/", campaigns.campaign_cancel_view, name="campaign-cancel"),
    path(
        "campaigns/<int:pk>/evidence.zip",
        evidence.campaign_evidence_download,
        name="campaign-evidence",
    ),
    path(
        "campaigns/<int:pk>/sign-off-queue/",
        queue.queue_sign_off_view,
        name="queue-sign-off",
    ),
]
