"""factory_boy factories for the suite."""

from __future__ import annotations

from datetime import UTC, datetime

import factory
from django.contrib.auth import get_user_model

from inventory.choices import Classification, IdentityKind, SourceKind
from inventory.models import Account, Identity, Source, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    role = "owner"
    password = factory.django.Password("pw-for-tests-1")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"team{n}")


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"source-{n}")
    kind = SourceKind.AWS_ACCOUNT
    account_id = "123456789012"
    regions = ["us-east-1"]


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        django_get_or_create = ("provider", "account_id")

    provider = "aws"
    account_id = factory.Sequence(lambda n: f"{100000000000 + n}")
    name = factory.Sequence(lambda n: f"account-{n}")


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    account = factory.SubFactory(AccountFactory)
    kind = IdentityKind.IAM_ROLE
    name = factory.Sequence(lambda n: f"role-{n}")
    native_id = factory.LazyAttribute(
        lambda o: f"arn:aws:iam::{o.account.account_id}:role/{o.name}"
    )
    arn = factory.LazyAttribute(lambda o: o.native_id)
    classification = Classification.MACHINE
    first_seen_at = factory.LazyFunction(lambda: datetime(2026, 1, 1, tzinfo=UTC))
    updated_at = factory.LazyFunction(lambda: datetime(2026, 1, 1, tzinfo=UTC))
    content_hash = "0" * 32
