"""The published IAM privilege-escalation combinations (PRIV-003).

Sources: Rhino Security Labs, "AWS IAM Privilege Escalation - Methods and Mitigations" (the 21
original methods), and the later additions catalogued by Bishop Fox's ``iam-vulnerable`` and
pathfinding.cloud (SageMaker jobs, CodeBuild, ECS, Auto Scaling, Glue jobs, App Runner,
CloudFormation change sets, permissions boundaries, Lambda layers, SSM).

A path is present when EVERY one of its ``actions`` is allowed, unconditionally, on
``Resource: "*"`` by the identity's effective permissions (all of its policies together, Deny
honoured); see :func:`inventory.risk.evaluator.escalation_paths`. ``sts:AssumeRole`` on ``*`` is
deliberately not a path of its own: whether it escalates depends on other roles' trust policies,
which a per-identity evaluation cannot see, and flagging it critical everywhere would drown the
real paths.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EscalationPath:
    """One escalation method: a stable id, a short name, the actions it needs, what it does."""

    id: str
    name: str
    actions: tuple[str, ...]
    description: str


def _p(id_: str, name: str, actions: tuple[str, ...], description: str) -> EscalationPath:
    return EscalationPath(id=id_, name=name, actions=actions, description=description)


_PASS = "iam:PassRole"  # noqa: S105 (an action name)

ESCALATION_PATHS: tuple[EscalationPath, ...] = (
    # --- Rhino Security Labs' original list --------------------------------------------------
    _p(
        "iam-create-policy-version",
        "Create a new version of a managed policy",
        ("iam:CreatePolicyVersion",),
        "Publishes a new default version of a policy already attached to the identity, "
        "granting itself any permission (SetAsDefault needs no separate permission).",
    ),
    _p(
        "iam-set-default-policy-version",
        "Switch a managed policy to an older version",
        ("iam:SetDefaultPolicyVersion",),
        "Makes a non-default, possibly more permissive version of an attached policy the "
        "default one.",
    ),
    _p(
        "iam-create-access-key",
        "Create an access key for another user",
        ("iam:CreateAccessKey",),
        "Mints a long-lived access key for any user, including administrators, and acts as them.",
    ),
    _p(
        "iam-create-login-profile",
        "Create a console password for another user",
        ("iam:CreateLoginProfile",),
        "Gives a console password to a user that has none and signs in as that user.",
    ),
    _p(
        "iam-update-login-profile",
        "Change another user's console password",
        ("iam:UpdateLoginProfile",),
        "Resets the console password of any user and signs in as that user.",
    ),
    _p(
        "iam-attach-user-policy",
        "Attach a managed policy to a user",
        ("iam:AttachUserPolicy",),
        "Attaches AdministratorAccess (or any managed policy) to itself or another user.",
    ),
    _p(
        "iam-attach-group-policy",
        "Attach a managed policy to a group",
        ("iam:AttachGroupPolicy",),
        "Attaches an administrator policy to a group the identity belongs to.",
    ),
    _p(
        "iam-attach-role-policy",
        "Attach a managed policy to a role",
        ("iam:AttachRolePolicy",),
        "Attaches an administrator policy to its own role or to a role it can assume.",
    ),
    _p(
        "iam-put-user-policy",
        "Write an inline policy on a user",
        ("iam:PutUserPolicy",),
        "Adds an inline policy granting anything to itself or another user.",
    ),
    _p(
        "iam-put-group-policy",
        "Write an inline policy on a group",
        ("iam:PutGroupPolicy",),
        "Adds an inline policy granting anything to a group the identity belongs to.",
    ),
    _p(
        "iam-put-role-policy",
        "Write an inline policy on a role",
        ("iam:PutRolePolicy",),
        "Adds an inline policy granting anything to its own role or to a role it can assume.",
    ),
    _p(
        "iam-add-user-to-group",
        "Add a user to a group",
        ("iam:AddUserToGroup",),
        "Joins an administrators group and inherits its permissions.",
    ),
    _p(
        "iam-update-assume-role-policy",
        "Rewrite a role's trust policy",
        ("iam:UpdateAssumeRolePolicy",),
        "Rewrites a privileged role's trust policy to trust itself, then assumes the role (in "
        "the same account a trust policy naming the caller is enough; sts:AssumeRole in the "
        "caller's own policy is not required).",
    ),
    _p(
        "lambda-create-and-invoke",
        "Pass a role to a new Lambda function and invoke it",
        (_PASS, "lambda:CreateFunction", "lambda:InvokeFunction"),
        "Creates a function running as a privileged role and invokes it to act as that role.",
    ),
    _p(
        "lambda-create-with-event-source",
        "Pass a role to a new Lambda function triggered by an event source",
        (_PASS, "lambda:CreateFunction", "lambda:CreateEventSourceMapping"),
        "Creates a function running as a privileged role and triggers it from a DynamoDB stream "
        "or queue instead of invoking it directly.",
    ),
    _p(
        "lambda-update-function-code",
        "Replace the code of an existing Lambda function",
        ("lambda:UpdateFunctionCode",),
        "Rewrites a function that already runs as a privileged role and acts as that role.",
    ),
    _p(
        "ec2-run-instances",
        "Pass a role to a new EC2 instance",
        (_PASS, "ec2:RunInstances"),
        "Launches an instance with a privileged instance profile and reads its credentials from "
        "the instance metadata service.",
    ),
    _p(
        "cloudformation-create-stack",
        "Pass a role to a new CloudFormation stack",
        (_PASS, "cloudformation:CreateStack"),
        "Creates a stack whose service role is privileged; the template creates whatever the "
        "role may create.",
    ),
    _p(
        "datapipeline-create-pipeline",
        "Pass a role to a new Data Pipeline",
        (
            _PASS,
            "datapipeline:CreatePipeline",
            "datapipeline:PutPipelineDefinition",
            "datapipeline:ActivatePipeline",
        ),
        "Creates and activates a pipeline that runs commands as a privileged role.",
    ),
    _p(
        "glue-create-dev-endpoint",
        "Pass a role to a new Glue development endpoint",
        (_PASS, "glue:CreateDevEndpoint"),
        "Creates a Glue dev endpoint running as a privileged role and logs in to it over SSH.",
    ),
    _p(
        "glue-update-dev-endpoint",
        "Take over an existing Glue development endpoint",
        ("glue:UpdateDevEndpoint",),
        "Adds its own SSH key to an existing dev endpoint and uses the endpoint's role.",
    ),
    # --- later additions ---------------------------------------------------------------------
    _p(
        "codestar-create-project",
        "Pass a role to a new CodeStar project",
        (_PASS, "codestar:CreateProject"),
        "Creates a CodeStar project whose service role deploys a template of its choosing.",
    ),
    _p(
        "codestar-create-project-from-template",
        "Create a CodeStar project from a template",
        ("codestar:CreateProjectFromTemplate",),
        "Uses CodeStar's own service role to create resources, including IAM policies.",
    ),
    _p(
        "codestar-associate-team-member",
        "Create a CodeStar project and join it as owner",
        ("codestar:CreateProject", "codestar:AssociateTeamMember"),
        "Becomes owner of a new project and receives the project's IAM policy.",
    ),
    _p(
        "sagemaker-create-notebook",
        "Pass a role to a new SageMaker notebook",
        (
            _PASS,
            "sagemaker:CreateNotebookInstance",
            "sagemaker:CreatePresignedNotebookInstanceUrl",
        ),
        "Creates a notebook running as a privileged role and opens it in a browser.",
    ),
    _p(
        "sagemaker-presigned-notebook-url",
        "Open an existing SageMaker notebook",
        ("sagemaker:CreatePresignedNotebookInstanceUrl",),
        "Opens an existing notebook and runs code as the notebook's role.",
    ),
    _p(
        "sagemaker-create-training-job",
        "Pass a role to a SageMaker training job",
        (_PASS, "sagemaker:CreateTrainingJob"),
        "Runs a container of its choosing as a privileged role.",
    ),
    _p(
        "sagemaker-create-processing-job",
        "Pass a role to a SageMaker processing job",
        (_PASS, "sagemaker:CreateProcessingJob"),
        "Runs a container of its choosing as a privileged role.",
    ),
    _p(
        "codebuild-create-project",
        "Pass a role to a new CodeBuild project",
        (_PASS, "codebuild:CreateProject", "codebuild:StartBuild"),
        "Creates a build project running as a privileged role with a buildspec of its choosing.",
    ),
    _p(
        "ecs-run-task",
        "Pass a role to a new ECS task",
        (_PASS, "ecs:RegisterTaskDefinition", "ecs:RunTask"),
        "Registers a task definition with a privileged task role and runs it.",
    ),
    _p(
        "autoscaling-launch-configuration",
        "Pass a role to instances started by Auto Scaling",
        (_PASS, "autoscaling:CreateLaunchConfiguration", "autoscaling:CreateAutoScalingGroup"),
        "Starts instances with a privileged instance profile through a new Auto Scaling group.",
    ),
    _p(
        "glue-create-job",
        "Pass a role to a new Glue job",
        (_PASS, "glue:CreateJob", "glue:StartJobRun"),
        "Creates and starts a Glue job whose script runs as a privileged role.",
    ),
    _p(
        "apprunner-create-service",
        "Pass a role to a new App Runner service",
        (_PASS, "apprunner:CreateService"),
        "Deploys a service whose instance role is privileged.",
    ),
    _p(
        "cloudformation-change-set",
        "Pass a role to a CloudFormation change set",
        (_PASS, "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"),
        "Executes a change set with a privileged service role on an existing or new stack.",
    ),
    _p(
        "lambda-update-function-configuration",
        "Add a layer to an existing Lambda function",
        ("lambda:UpdateFunctionConfiguration",),
        "Attaches a malicious layer (or environment) to a function running as a privileged role.",
    ),
    _p(
        "iam-delete-user-permissions-boundary",
        "Remove a user's permissions boundary",
        ("iam:DeleteUserPermissionsBoundary",),
        "Removes the boundary that limits a user's attached policies.",
    ),
    _p(
        "iam-delete-role-permissions-boundary",
        "Remove a role's permissions boundary",
        ("iam:DeleteRolePermissionsBoundary",),
        "Removes the boundary that limits a role's attached policies.",
    ),
    _p(
        "iam-put-user-permissions-boundary",
        "Replace a user's permissions boundary",
        ("iam:PutUserPermissionsBoundary",),
        "Replaces a user's boundary with a permissive one.",
    ),
    _p(
        "iam-put-role-permissions-boundary",
        "Replace a role's permissions boundary",
        ("iam:PutRolePermissionsBoundary",),
        "Replaces a role's boundary with a permissive one.",
    ),
    _p(
        "ssm-send-command",
        "Run commands on managed instances",
        ("ssm:SendCommand",),
        "Runs shell commands on any SSM-managed instance and uses the instance profile's role.",
    ),
    _p(
        "ssm-start-session",
        "Open a shell on managed instances",
        ("ssm:StartSession",),
        "Opens an interactive shell on any SSM-managed instance and uses its role.",
    ),
)

ESCALATION_BY_ID: dict[str, EscalationPath] = {p.id: p for p in ESCALATION_PATHS}

# Every action any path needs, lowercased (the evaluator's fast pre-filter).
ESCALATION_ACTIONS: frozenset[str] = frozenset(
    a.lower() for p in ESCALATION_PATHS for a in p.actions
)
