"""A campaign's evidence bundle as a zip download, for the security team and auditors."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest

from nhigov.audit import audit_record
from nhigov.evidence import zip_directory
from nhigov.permissions import current_user
from reviews.evidence import campaign_evidence_bundle
from reviews.models import Campaign
from reviews.views.common import security_only


@login_required
def campaign_evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """items.csv + summary.pdf + manifest.json, built on disk, zipped, streamed.

    Security and auditors only (a bundle holds every item of the campaign, whoever owns it);
    reading it changes nothing but the audit trail, which records the download.
    """
    user = current_user(request)
    security_only(user)
    campaign = Campaign.objects.visible_to(user).filter(pk=pk).first()
    if campaign is None:
        raise Http404("No such campaign.")
    with tempfile.TemporaryDirectory(prefix="nhigov-campaign-evidence-") as tmp:
        manifest = campaign_evidence_bundle(Path(tmp), campaign)
        archive = zip_directory(Path(tmp))
    audit_record(
        verb="export.campaign_evidence",
        actor=user,
        obj=campaign,
        request=request,
        details={
            "items": manifest["subject"]["items"],
            "files": {name: f["sha256"] for name, f in manifest["files"].items()},
            "audit_head_seq": manifest["audit_chain_head"]["seq"],
        },
    )
    stamp = manifest["subject"]["exported_at"][:19].replace("-", "").replace(":", "")
    return FileResponse(
        archive,
        as_attachment=True,
        filename=f"nhigov-campaign-{campaign.pk}-evidence-{stamp}Z.zip",
    )
