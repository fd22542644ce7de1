"""Adds to src/alpha/usage/data/event_actions.json the entries that need more than the generic
rule: API Gateway's management events (from botocore's apigateway and apigatewayv2 models: each
operation is `apigateway:METHOD` on its request path) and the calls AWS authorises on several
resources or with further actions (issue 10). Run from the repository root:

    /work/main/.venv/bin/python scripts/authorisation_entries.py

It rewrites the table in place, keeping every other entry; entries it owns are replaced.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore.session

TABLE = Path("src/alpha/usage/data/event_actions.json")
OWNER = "issue-10"
_URI_VAR = re.compile(r"\{([^}+]+)\+?\}")

SOURCES = {
    "rdsdata.amazonaws.com": {
        "prefix": "rds-data",
        "why": "botocore rds-data: endpointPrefix rds-data, CloudTrail eventSource rdsdata",
    },
}

WHY_RUN = (
    "EC2 user guide, RunInstances: IAM authorises the call on every resource it touches: the "
    "instance (new), image, subnet, security groups, network interface, volumes (new), the key "
    "pair and launch template when named (Service Authorization Reference: image, instance, "
    "network-interface, security-group, subnet required)"
)
DATA_API = "secretsmanager:GetSecretValue@secret"
WHY_DATA = (
    "RDS Data API: the caller needs rds-data:ACTION on the cluster and "
    "secretsmanager:GetSecretValue on the secretArn the service reads with its credentials"
)

WHY_TAGS = (
    "Tagging on create: a request with tags also needs the service's tagging action on the "
    "new resource (IAM user guide, permissions for tagging; Service Authorization Reference)"
)
WHY_LAYERS = (
    "Lambda developer guide, layers: using a layer version needs lambda:GetLayerVersion on it"
)
TAGGED = [
    ("iam.amazonaws.com", "CreateUser", "iam:TagUser@tags"),
    ("iam.amazonaws.com", "CreateRole", "iam:TagRole@tags"),
    ("iam.amazonaws.com", "CreatePolicy", "iam:TagPolicy@tags"),
    ("iam.amazonaws.com", "CreateInstanceProfile", "iam:TagInstanceProfile@tags"),
    ("secretsmanager.amazonaws.com", "CreateSecret", "secretsmanager:TagResource@tags"),
    ("ssm.amazonaws.com", "PutParameter", "ssm:AddTagsToResource@tags"),
    ("logs.amazonaws.com", "CreateLogGroup", "logs:TagResource@tags"),
    ("rds.amazonaws.com", "CreateDBSnapshot", "rds:AddTagsToResource@tags:snapshot"),
    ("sts.amazonaws.com", "AssumeRole", "sts:TagSession@tags"),
]

ENTRIES = [
    (
        "ec2.amazonaws.com",
        "RunInstances",
        [
            "ec2:RunInstances@new:instance",
            "ec2:RunInstances@type:image",
            "ec2:RunInstances@type:subnet",
            "ec2:RunInstances@type:security-group",
            "ec2:RunInstances@type:network-interface",
            "ec2:RunInstances@new:volume",
            "ec2:RunInstances@type:key-pair",
            "ec2:RunInstances@type:launch-template",
        ],
        WHY_RUN,
    ),
    (
        "secretsmanager.amazonaws.com",
        "BatchGetSecretValue",
        ["secretsmanager:BatchGetSecretValue", "secretsmanager:GetSecretValue@items"],
        "Secrets Manager API reference, BatchGetSecretValue: requires "
        "secretsmanager:BatchGetSecretValue and secretsmanager:GetSecretValue for each secret",
    ),
    (
        "athena.amazonaws.com",
        "StartQueryExecution",
        ["athena:StartQueryExecution@type:workgroup"],
        "Athena: a query runs in its workGroup, `primary` when none is named",
    ),
    (
        "bedrock.amazonaws.com",
        "Converse",
        ["bedrock:InvokeModel"],
        "Bedrock API reference, Converse: requires bedrock:InvokeModel on the model",
    ),
    (
        "bedrock.amazonaws.com",
        "ConverseStream",
        ["bedrock:InvokeModelWithResponseStream"],
        "Bedrock API reference, ConverseStream: requires bedrock:InvokeModelWithResponseStream",
    ),
    (
        "s3.amazonaws.com",
        "CopyObject",
        ["s3:GetObject@source", "s3:PutObject@destination"],
        "S3 API reference, CopyObject: s3:GetObject on the x-amz-copy-source object, "
        "s3:PutObject on the destination (bucketName/key), never PutObject on the source",
    ),
    (
        "s3.amazonaws.com",
        "UploadPartCopy",
        ["s3:GetObject@source", "s3:PutObject@destination"],
        "S3 API reference, UploadPartCopy: s3:GetObject on the source, s3:PutObject on the "
        "destination",
    ),
    (
        "macie.amazonaws.com",
        "UpdateMacieSession",
        ["macie2:UpdateMacieSession"],
        "Amazon Macie API reference (macie2) names UpdateMacieSession; some trails log Macie "
        "under macie.amazonaws.com, and the retired classic Macie has no IAM service left",
    ),
    *[
        (source, name, [f"{source.split('.')[0]}:{name}", tagging], WHY_TAGS)
        for source, name, tagging in TAGGED
    ],
    (
        "iam.amazonaws.com",
        "AddRoleToInstanceProfile",
        ["iam:AddRoleToInstanceProfile", "iam:PassRole@passed"],
        "IAM API reference, AddRoleToInstanceProfile: the caller needs iam:PassRole on the role",
    ),
    *[
        (
            "lambda.amazonaws.com",
            name,
            [f"lambda:{action}", "iam:PassRole@passed", "lambda:GetLayerVersion@layers"],
            f"{WHY_LAYERS}; the role passed needs iam:PassRole",
        )
        for name, action in (
            ("CreateFunction", "CreateFunction"),
            ("CreateFunction20150331", "CreateFunction"),
            ("UpdateFunctionConfiguration", "UpdateFunctionConfiguration"),
            ("UpdateFunctionConfiguration20150331v2", "UpdateFunctionConfiguration"),
        )
    ],
    *[
        ("rdsdata.amazonaws.com", name, [f"rds-data:{name}", DATA_API], WHY_DATA)
        for name in (
            "ExecuteStatement",
            "BatchExecuteStatement",
            "BeginTransaction",
            "CommitTransaction",
            "RollbackTransaction",
            "ExecuteSql",
        )
    ],
]


def _route(operation: botocore.model.OperationModel) -> tuple[str, str]:
    """(method, IAM path with `{member}` parts) of one operation."""
    members = operation.input_shape.members.items() if operation.input_shape else ()
    names = {
        shape.serialization.get("name", member): member
        for member, shape in members
        if shape.serialization.get("location") == "uri"
    }
    uri = operation.http["requestUri"].split("?", 1)[0].removeprefix("/v2")
    path = _URI_VAR.sub(lambda m: "{" + names.get(m.group(1), m.group(1)) + "}", uri)
    return operation.http["method"], path


def apigateway_entries() -> list[dict[str, object]]:
    session = botocore.session.get_session()
    routes: dict[str, list[tuple[str, str]]] = {}
    out: list[dict[str, object]] = []
    for service in ("apigateway", "apigatewayv2"):
        model = session.get_service_model(service)
        for name in model.operation_names:
            routes.setdefault(name, []).append(_route(model.operation_model(name)))
    for name, found in sorted(routes.items()):
        # v1 and v2 share 40 names: the path whose members the request names decides (when
        # the two differ in method too, v1's, listed first, is kept)
        method = found[0][0]
        paths = "|".join(path for m, path in found if m == method)
        out.append(
            {
                "source": "apigateway.amazonaws.com",
                "event": name,
                "actions": [f"apigateway:{method}@route:{paths}"],
                "why": "API Gateway management events are apigateway:HTTP-METHOD on the "
                "resource path (botocore apigateway/apigatewayv2 requestUri; Service "
                "Authorization Reference, Amazon API Gateway Management)",
                "owner": OWNER,
            }
        )
    return out


def main() -> None:
    table = json.loads(TABLE.read_text())
    table["sources"].update(SOURCES)
    kept = [e for e in table["events"] if e.get("owner") != OWNER]
    owned = {(s, e) for s, e, _, _ in ENTRIES} | {
        (e["source"], e["event"]) for e in apigateway_entries()
    }
    kept = [e for e in kept if (e["source"], e["event"]) not in owned]
    new: list[dict[str, object]] = [
        {"source": s, "event": e, "actions": a, "why": w, "owner": OWNER} for s, e, a, w in ENTRIES
    ]
    table["events"] = kept + new + apigateway_entries()
    TABLE.write_text(json.dumps(table, indent=1) + "\n")


if __name__ == "__main__":
    main()
