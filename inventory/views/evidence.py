"""Evidence downloads for auditors and the security team."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest
from django.utils import timezone

from inventory.evidence import inventory_snapshot_bundle
from inventory.models import Identity
from nhigov.audit import audit_record
from nhigov.evidence import zip_directory
from nhigov.permissions import current_user


@login_required
def inventory_snapshot_download(request: HttpRequest) -> FileResponse:
    """A zip of inventory.csv + manifest.json, built on disk and streamed."""
    user = current_user(request)
    if not user.sees_all_identities:
        raise PermissionDenied
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    with tempfile.TemporaryDirectory(prefix="nhigov-snapshot-") as tmp:
        manifest = inventory_snapshot_bundle(Path(tmp), Identity.objects.visible_to(user))
        archive = zip_directory(Path(tmp))
    audit_record(
        verb="export.inventory_snapshot",
        actor=user,
        request=request,
        details={"identities": manifest["subject"]["identities"]},
    )
    return FileResponse(
        archive, as_attachment=True, filename=f"nhigov-inventory-snapshot-{stamp}.zip"
    )
