"""Forms of the review pages: they parse and bound the input; the rules live in the services."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django import forms

from reviews.choices import NoResponsePolicy, Outcome


class DecisionForm(forms.Form):
    """One decision on one item (the row's form, with or without htmx)."""

    outcome = forms.ChoiceField(choices=Outcome.choices)
    justification = forms.CharField(required=False, max_length=4000)
    exception_until = forms.DateField(required=False)
    handover_to = forms.CharField(required=False, max_length=300)
    version = forms.IntegerField(required=False, min_value=0)
    on_behalf_of = forms.IntegerField(required=False, min_value=1)


class RerouteForm(forms.Form):
    to = forms.CharField(
        required=False,
        max_length=300,
        help_text="E-mail or username; empty sends it to the security queue.",
    )
    note = forms.CharField(max_length=2000)
    version = forms.IntegerField(required=False, min_value=0)


class HandoverAnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=[("accept", "Accept"), ("decline", "Decline")])
    reason = forms.CharField(required=False, max_length=2000)


class ConfirmForm(forms.Form):
    answer = forms.ChoiceField(choices=[("confirm", "Confirm"), ("reject", "Reject")])
    reason = forms.CharField(required=False, max_length=2000)


class CampaignForm(forms.Form):
    """Name, clock and policy of a new campaign; the scope comes from the inventory filter."""

    name = forms.CharField(max_length=200)
    due_days = forms.IntegerField(min_value=1, max_value=180, initial=14)
    grace_days = forms.IntegerField(min_value=0, max_value=60, initial=7)
    no_response_policy = forms.ChoiceField(
        choices=NoResponsePolicy.choices, initial=NoResponsePolicy.RECOMMENDATION
    )
    activate = forms.BooleanField(required=False, initial=True)


class ExtendForm(forms.Form):
    due_date = forms.DateField()
    reason = forms.CharField(max_length=2000)

    def due_at(self) -> datetime:
        """The end of the chosen day (UTC)."""
        return datetime.combine(self.cleaned_data["due_date"], time(23, 59, 59), tzinfo=UTC)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000)


class SignOffForm(forms.Form):
    confirm = forms.BooleanField(required=False)
    comment = forms.CharField(required=False, max_length=4000)


class ClosingForm(forms.Form):
    confirm_cutoff = forms.BooleanField(required=False)


def first_error(form: forms.Form) -> str:
    """The form's first problem in words, for a message."""
    for field, errors in form.errors.items():
        label: Any = form.fields[field].label if field in form.fields else None
        name = str(label or field.replace("_", " ")).capitalize()
        return f"{name}: {errors[0]}" if field != "__all__" else str(errors[0])
    return "Invalid input."
