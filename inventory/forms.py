"""Forms of the console: they parse and check input; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from inventory.choices import SourceKind
from inventory.models import Source, Team
from nhigov.models import User


def find_person(value: str) -> User | None:
    """A person by username or e-mail (any case); the username wins over a shared e-mail."""
    value = (value or "").strip()
    if not value:
        return None
    people = list(
        get_user_model().objects.filter(Q(username__iexact=value) | Q(email__iexact=value))[:5]
    )
    for person in people:
        if person.username.lower() == value.lower():
            return person
    return people[0] if len(people) == 1 else None


class PersonField(forms.CharField):
    """A person entered by e-mail or username; cleans to the ``User`` (or None if blank)."""

    def __init__(self, *, active_only: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)
        self.active_only = active_only

    def clean(self, value: Any) -> User | None:
        text = super().clean(value)
        if not text:
            return None
        person = find_person(text)
        if person is None:
            raise forms.ValidationError(f"No person with the e-mail or username {text!r}.")
        if self.active_only and not person.is_active:
            raise forms.ValidationError(f"{person} has left (deactivated).")
        return person


class OwnerAssignmentForm(forms.Form):
    """Who owns the identities from now on, and why (the reason is kept with the change)."""

    owner = PersonField(required=False, label="Owner (e-mail or username)")
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, empty_label="No team"
    )
    reason = forms.CharField(max_length=2000, label="Reason")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and data.get("owner") is None and data.get("team") is None:
            raise forms.ValidationError("Choose an owner, a team, or both.")
        return data


class SourceForm(forms.Form):
    """A discovery source's settings. The model's rules are applied by the service on save."""

    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=SourceKind.choices)
    account_id = forms.CharField(
        max_length=12,
        required=False,
        label="Account id",
        help_text="12 digits. Required for an AWS account; for an Organization, optional (the "
        "management account, read from the credentials when blank).",
    )
    role_name = forms.CharField(
        max_length=64,
        required=False,
        label="Role name",
        help_text="Role assumed in each account (Organization default: "
        "OrganizationAccountAccessRole). Blank for an AWS account: its default credentials.",
    )
    external_id = forms.CharField(
        max_length=1224,
        required=False,
        label="External id",
        help_text="Optional sts:AssumeRole ExternalId.",
    )
    clear_external_id = forms.BooleanField(required=False, label="Remove the external id")
    regions = forms.CharField(
        required=False,
        max_length=500,
        help_text="Comma-separated, e.g. us-east-1, eu-west-1 (for Secrets Manager). "
        "Blank: the default region.",
    )
    schedule_minutes = forms.IntegerField(
        required=False,
        min_value=5,
        max_value=43200,
        label="Discover every (minutes)",
        help_text="1440 is daily. Empty: only when run by hand.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Enabled")

    def __init__(self, *args: Any, source: Source | None = None, **kwargs: Any) -> None:
        self.source = source
        if source is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": source.name,
                "kind": source.kind,
                "account_id": source.account_id,
                "role_name": source.role_name,
                "regions": ", ".join(source.regions),
                "schedule_minutes": source.schedule_minutes,
                "enabled": source.enabled,
            }
        super().__init__(*args, **kwargs)
        if source is not None:
            # The external id is never echoed back into the page: blank keeps the current one.
            self.fields["external_id"].help_text = (
                "Set: leave blank to keep it." if source.external_id else "Not set."
            )
        else:
            del self.fields["clear_external_id"]

    def settings(self) -> dict[str, Any]:
        """The cleaned values as the source services take them."""
        from inventory.services.sources import parse_regions

        data = self.cleaned_data
        values: dict[str, Any] = {
            "name": data["name"],
            "kind": data["kind"],
            "account_id": data.get("account_id") or "",
            "role_name": data.get("role_name") or "",
            "regions": parse_regions(data.get("regions") or ""),
            "schedule_minutes": data.get("schedule_minutes"),
            "enabled": bool(data.get("enabled")),
        }
        external_id = data.get("external_id") or ""
        if self.source is None or external_id:
            values["external_id"] = external_id
        elif data.get("clear_external_id"):
            values["external_id"] = ""
        return values

    def add_model_errors(self, errors: dict[str, list[str]]) -> None:
        """Put the model's validation messages on the matching fields."""
        for name, messages in errors.items():
            field = name if name in self.fields else None
            for message in messages:
                self.add_error(field, message)


class TeamForm(forms.Form):
    name = forms.CharField(
        max_length=150,
        help_text="Identities tagged team=<name> are matched to this team at discovery.",
    )
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)
    manager = PersonField(
        required=False,
        label="Manager (e-mail or username)",
        help_text="Where reviews escalate when the team does not answer.",
    )


class TeamMemberForm(forms.Form):
    person = PersonField(label="Person (e-mail or username)")
