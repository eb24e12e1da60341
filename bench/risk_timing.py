"""Timing of the pure rule evaluation (no database): how fast the catalogue runs per identity.

    NHIGOV_TESTING=1 .venv/bin/python bench/risk_timing.py [count] [--synthetic]

Builds ``count`` (default 100,000) identity views - 60% IAM users with access keys, 30% roles with
trust policies, 10% secrets - whose policies are drawn from ~20 realistic shapes, a third of them
with an inline document unique to the identity (its own bucket and table ARNs), and times
``evaluate`` over all of them from cold caches (with ``gc.freeze()`` after
building them). ``--synthetic`` times the records of ``bench/synthetic.py`` instead (every
inline document random).
"""

from __future__ import annotations

import gc
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from inventory.risk.evaluator import clear_caches
from inventory.risk.rules import evaluate
from inventory.risk.view import CredentialView, IdentityView
from tests.risk.builders import (
    GITHUB,
    ORG_ACCOUNT,
    OWN_ACCOUNT,
    VENDOR_ACCOUNT,
    access_key,
    allow,
    ctx,
    days_ago,
    deny,
    doc,
    identity,
    secret_credential,
    trust,
    trust_stmt,
)

MFA = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
SHAPES: list[tuple[str, dict[str, Any]]] = [
    ("AdministratorAccess", doc(allow("*"))),
    ("PowerUserAccess", doc(allow(not_action=["iam:*", "organizations:*", "account:*"]))),
    (
        "ReadOnlyAccess",
        doc(
            allow(["ec2:Describe*", "iam:Get*", "iam:List*", "s3:Get*", "s3:List*", "lambda:Get*"])
        ),
    ),
    ("AmazonS3ReadOnlyAccess", doc(allow(["s3:Get*", "s3:List*"]))),
    ("AmazonS3FullAccess", doc(allow("s3:*"), deny("s3:DeleteBucket"))),
    ("IAMFullAccess", doc(allow("iam:*"))),
    ("AWSLambdaBasicExecutionRole", doc(allow(["logs:CreateLogStream", "logs:PutLogEvents"]))),
    ("LambdaDeployer", doc(allow(["lambda:CreateFunction", "lambda:UpdateFunctionCode"]))),
    ("PassAnyRole", doc(allow("iam:PassRole"))),
    ("PassAppRoles", doc(allow("iam:PassRole", "arn:aws:iam::111111111111:role/app-*"))),
    ("InvokeLambdas", doc(allow("lambda:InvokeFunction"))),
    ("Ec2Operator", doc(allow(["ec2:RunInstances", "ec2:Describe*", "ec2:TerminateInstances"]))),
    (
        "SSMManagedInstanceCore",
        doc(allow(["ssm:UpdateInstanceInformation", "ssmmessages:*", "ec2messages:*"])),
    ),
    ("EcrReadOnly", doc(allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"]))),
    (
        "KmsViaS3",
        doc(
            allow(
                ["kms:Decrypt", "kms:GenerateDataKey"],
                condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
            )
        ),
    ),
    ("ForceMFA", doc(deny(not_action=["iam:ChangePassword", "iam:GetUser"], condition=MFA))),
    ("CrossAccountAssume", doc(allow("sts:AssumeRole", "arn:aws:iam::999999999999:role/x"))),
    ("SecretsRead", doc(allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:*:*:*"))),
    (
        "CfnDeployer",
        doc(allow(["cloudformation:*", "iam:PassRole"]), deny("iam:PassRole", "arn:aws:iam::*:*")),
    ),
    ("DynamoApp", doc(allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]))),
]


def _own_document(rng: random.Random, n: int) -> dict[str, Any]:
    bucket = f"app-{n}-data"
    return doc(
        allow(
            ["s3:GetObject", "s3:PutObject"], [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
        ),
        allow(
            ["dynamodb:GetItem", "dynamodb:Query"],
            f"arn:aws:dynamodb:us-east-1:{OWN_ACCOUNT}:table/t{n}",
        ),
        allow("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{OWN_ACCOUNT}:q{rng.randint(0, 10**6)}"),
    )


def _policies(rng: random.Random, n: int) -> list[dict[str, Any]]:
    weights = [1] + [8] * (len(SHAPES) - 1)
    chosen = {rng.choices(range(len(SHAPES)), weights)[0] for _ in range(rng.randint(1, 4))}
    out = [
        {
            "source": rng.choice(("managed", "group-managed")),
            "name": SHAPES[i][0],
            "arn": f"arn:aws:iam::aws:policy/{SHAPES[i][0]}",
            "document": SHAPES[i][1],
        }
        for i in sorted(chosen)
    ]
    if rng.random() < 0.33:
        out.append({"source": "inline", "name": f"inline-{n}", "document": _own_document(rng, n)})
    return out


def _trust(rng: random.Random, n: int) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.5:
        return trust(trust_stmt({"Service": "lambda.amazonaws.com"}))
    if roll < 0.7:
        return trust(
            trust_stmt(
                {"AWS": f"arn:aws:iam::{rng.choice((VENDOR_ACCOUNT, ORG_ACCOUNT))}:root"},
                condition={"StringEquals": {"sts:ExternalId": f"ext-{n}"}},
            )
        )
    sub = rng.choice(("repo:acme/app:ref:refs/heads/main", "repo:*", f"repo:acme/s{n}:*"))
    return trust(
        trust_stmt(
            {"Federated": GITHUB},
            "sts:AssumeRoleWithWebIdentity",
            condition={"StringLike": {"token.actions.githubusercontent.com:sub": sub}},
        )
    )


def make_views(count: int, seed: int = 1) -> list[IdentityView]:
    rng = random.Random(seed)
    views: list[IdentityView] = []
    for n in range(count):
        roll = rng.random()
        owner = {"has_owner": rng.random() < 0.8, "owner_active": rng.random() < 0.97}
        if roll < 0.6:
            keys = [
                access_key(
                    f"AKIA{n:016d}"[:20],
                    created_days=rng.uniform(1, 900),
                    used_days=rng.choice((None, rng.uniform(0, 300))),
                )
                for _ in range(rng.choice((0, 1, 1, 2)))
            ]
            views.append(
                identity(
                    "iam_user",
                    name=f"svc-{n}",
                    identity_id=n,
                    credentials=keys,
                    policies=_policies(rng, n),
                    attributes={"password_enabled": rng.random() < 0.1},
                    **owner,
                )
            )
        elif roll < 0.9:
            views.append(
                identity(
                    "iam_role",
                    name=f"role-{n}",
                    identity_id=n,
                    used_days=rng.choice((None, rng.uniform(0, 400))),
                    created_days=rng.uniform(1, 2000),
                    policies=_policies(rng, n),
                    trust_policy=_trust(rng, n),
                    **owner,
                )
            )
        else:
            rotated = rng.random() < 0.4
            views.append(
                identity(
                    "secret",
                    name=f"prod/app/{n}",
                    identity_id=n,
                    credentials=[
                        secret_credential(
                            rotation_enabled=rotated,
                            rotated_days=rng.uniform(0, 200) if rotated else None,
                        )
                    ],
                    attributes={"rotation_enabled": rotated},
                    **owner,
                )
            )
    return views


def synthetic_views(count: int) -> list[IdentityView]:
    from bench.synthetic import NOW as BENCH_NOW
    from bench.synthetic import generate

    assert BENCH_NOW  # the same clock as builders.NOW
    views = []
    for n, r in enumerate(generate(count)):
        views.append(
            IdentityView(
                id=n,
                kind=r.kind,
                name=r.name,
                arn=r.arn,
                path=r.path,
                account_id=OWN_ACCOUNT,
                classification="machine",
                created_at=r.created_at,
                last_used_at=r.last_used_at,
                tags=r.tags,
                policies=r.policies,
                trust_policy=r.trust_policy,
                attributes=r.attributes,
                credentials=tuple(CredentialView(**vars_of(c)) for c in r.credentials),
                has_owner=bool(r.tags),
                owner_active=True,
                owner_unmatched=False,
            )
        )
    return views


def vars_of(record: Any) -> dict[str, Any]:
    return {f: getattr(record, f) for f in record.__slots__}


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(args[0]) if args else 100_000
    start = time.perf_counter()
    views = synthetic_views(count) if "--synthetic" in sys.argv else make_views(count)
    built = time.perf_counter() - start
    context = ctx()
    assert days_ago(0) == context.now
    clear_caches()
    # The service layer evaluates in chunks of 2,000; don't let the cyclic GC rescan the 100k
    # views this harness keeps alive (it would time the harness, not the engine).
    gc.collect()
    gc.freeze()
    counts: Counter[str] = Counter()
    start = time.perf_counter()
    for view in views:
        for finding in evaluate(view, context):
            counts[finding.rule_id] += 1
    elapsed = time.perf_counter() - start
    print(f"built {count} views in {built:.1f} s")
    print(
        f"evaluated {count} identities in {elapsed:.2f} s "
        f"({elapsed / count * 1e6:.0f} µs per identity), {sum(counts.values())} findings"
    )
    for rule_id, n in sorted(counts.items()):
        print(f"  {rule_id:9} {n}")


if __name__ == "__main__":
    main()
