"""Resource ARNs read from an event's requestParameters, per IAM service.

Each builder yields `(resource type, ARN)` candidates for everything it recognises in the
request; the resolver keeps those whose type the action takes. Names are turned into ARNs with
the catalog's own ARN formats (`RequestContext.arn`); ARNs the request already holds are used
as they are. Values of unexpected types are ignored: requestParameters is untrusted input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import unquote

Candidates = Iterator[tuple[str, str]]


class RequestContext(Protocol):
    """What a builder sees: the request, and the catalog's ARN formats filled in for the
    event's partition, region and account."""

    params: Mapping[str, Any]
    response: Mapping[str, Any]  # responseElements (an object, else empty)
    additional: Mapping[str, Any]  # additionalEventData (an object, else empty)
    role: str

    @property
    def defaults(self) -> Mapping[str, str]:
        """Partition, Region and Account of the event."""
        ...

    caller_user: str | None  # the calling IAM user's ARN, for IAM calls that default to it

    def arn(self, service: str, resource_type: str, **names: str) -> str | None: ...


def _text(params: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = params.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _items(params: Mapping[str, Any], set_key: str, item_key: str) -> list[str]:
    """Values of EC2's `{"instancesSet": {"items": [{"instanceId": ...}]}}` shapes."""
    container = params.get(set_key)
    items = container.get("items") if isinstance(container, dict) else None
    found = []
    for item in items if isinstance(items, list) else ():
        value = item.get(item_key) if isinstance(item, dict) else None
        if isinstance(value, str) and value:
            found.append(value)
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v]
    return []


def _emit(resource_type: str, arn: str | None) -> Candidates:
    if arn:
        yield resource_type, arn


# S3 ---------------------------------------------------------------------------------------------


def _s3(ctx: RequestContext) -> Candidates:
    params = ctx.params
    if ctx.role == ATHENA_RESULTS:
        yield from _athena_results(ctx)
        return
    if ctx.role == "source":
        yield from _s3_copy_source(ctx)
        return
    bucket = _text(params, "bucketName", "Bucket", "bucket")
    if bucket is None:
        return
    yield from _emit("bucket", ctx.arn("s3", "bucket", BucketName=bucket))
    key = _text(params, "key", "Key")
    if key is not None:
        yield from _emit("object", ctx.arn("s3", "object", BucketName=bucket, ObjectName=key))
    deleted = params.get("delete")
    objects = deleted.get("Object") if isinstance(deleted, dict) else None
    for item in objects if isinstance(objects, list) else ():
        name = item.get("Key") if isinstance(item, dict) else None
        if isinstance(name, str) and name:
            yield from _emit("object", ctx.arn("s3", "object", BucketName=bucket, ObjectName=name))


def _s3_copy_source(ctx: RequestContext) -> Candidates:
    """`x-amz-copy-source: /bucket/key?versionId=...` (URL-encoded, leading slash optional)."""
    source = _text(ctx.params, "x-amz-copy-source", "copySource", "CopySource")
    if source is None:
        return
    path = unquote(source.split("?", 1)[0]).lstrip("/")
    bucket, _, key = path.partition("/")
    if bucket and key:
        yield from _emit("object", ctx.arn("s3", "object", BucketName=bucket, ObjectName=key))


# Databases and queues ---------------------------------------------------------------------------


def _dynamodb(ctx: RequestContext) -> Candidates:
    params = ctx.params
    table = _text(params, "tableName", "TableName")
    if table is not None:
        if table.startswith("arn:"):
            yield "table", table
        else:
            index = _text(params, "indexName", "IndexName")
            if index is not None:
                yield from _emit(
                    "index", ctx.arn("dynamodb", "index", TableName=table, IndexName=index)
                )
            else:
                yield from _emit("table", ctx.arn("dynamodb", "table", TableName=table))
    yield from _emit("stream", _text(params, "streamArn", "StreamArn"))
    # BatchGetItem / BatchWriteItem: `requestItems` keyed by table, or a list with tableName.
    items = params.get("requestItems")
    names = list(items) if isinstance(items, dict) else []
    for item in items if isinstance(items, list) else ():
        name = item.get("tableName") or item.get("TableName") if isinstance(item, dict) else None
        if isinstance(name, str):
            names.append(name)
    for name in names:
        yield from _emit("table", ctx.arn("dynamodb", "table", TableName=name))


def _sqs(ctx: RequestContext) -> Candidates:
    url = _text(ctx.params, "queueUrl", "QueueUrl")
    if url is not None:
        # https://sqs.REGION.amazonaws.com/ACCOUNT/NAME (or queue.amazonaws.com/ACCOUNT/NAME)
        parts = url.split("://", 1)[-1].split("/")
        if len(parts) >= 3 and parts[1] and parts[2]:
            yield from _emit("queue", ctx.arn("sqs", "queue", Account=parts[1], QueueName=parts[2]))
        return
    name = _text(ctx.params, "queueName", "QueueName")
    if name is not None:
        yield from _emit("queue", ctx.arn("sqs", "queue", QueueName=name))


def _sns(ctx: RequestContext) -> Candidates:
    arn = _text(ctx.params, "topicArn", "TopicArn", "resourceArn")
    if arn is not None and arn.startswith("arn:"):
        yield "topic", arn
        return
    name = _text(ctx.params, "name", "Name")
    if name is not None:
        yield from _emit("topic", ctx.arn("sns", "topic", TopicName=name))


def _kinesis(ctx: RequestContext) -> Candidates:
    arn = _text(ctx.params, "streamARN", "StreamARN", "streamArn")
    if arn is not None:
        yield "stream", arn
        return
    name = _text(ctx.params, "streamName", "StreamName")
    if name is not None:
        yield from _emit("stream", ctx.arn("kinesis", "stream", StreamName=name))


# Compute ----------------------------------------------------------------------------------------


def _lambda(ctx: RequestContext) -> Candidates:
    """`functionName` may be a name, `name:qualifier`, `ACCOUNT:function:name` or an ARN; a
    qualified call is authorised against the qualified ARN, so that is what is recorded.
    `layers`: each layer version the function is given (lambda:GetLayerVersion on each)."""
    if ctx.role == "layers":
        for layer in _strings(ctx.params.get("layers")):
            if layer.startswith("arn:"):
                yield "layerVersion", layer
        return
    name = _text(ctx.params, "functionName", "FunctionName")
    if name is None:
        return
    qualifier = _text(ctx.params, "qualifier", "Qualifier")
    if name.startswith("arn:"):
        arn = name
    elif ":function:" in name:
        account, _, rest = name.partition(":function:")
        arn = ctx.arn("lambda", "function", Account=account, FunctionName=rest) or ""
    else:
        arn = ctx.arn("lambda", "function", FunctionName=name) or ""
    if arn and qualifier and arn.count(":") == 6:
        arn = f"{arn}:{qualifier}"
    yield from _emit("function", arn)


def _states(ctx: RequestContext) -> Candidates:
    yield from _emit("statemachine", _text(ctx.params, "stateMachineArn"))
    yield from _emit("execution", _text(ctx.params, "executionArn"))
    if "stateMachineArn" not in ctx.params:
        name = _text(ctx.params, "name")
        if name is not None and "definition" in ctx.params:  # CreateStateMachine
            yield from _emit(
                "statemachine", ctx.arn("states", "statemachine", StateMachineName=name)
            )


_EC2_IDS = {
    "vpcId": ("vpc", "VpcId"),
    "subnetId": ("subnet", "SubnetId"),
    "routeTableId": ("route-table", "RouteTableId"),
    "imageId": ("image", "ImageId"),
    "snapshotId": ("snapshot", "SnapshotId"),
    "groupId": ("security-group", "SecurityGroupId"),
    "internetGatewayId": ("internet-gateway", "InternetGatewayId"),
    "networkInterfaceId": ("network-interface", "NetworkInterfaceId"),
    "networkAclId": ("network-acl", "NaclId"),
    "allocationId": ("elastic-ip", "AllocationId"),
}


def _sets(container: Any, set_key: str) -> list[dict[str, Any]]:
    """The `items` of `container[set_key]` that are objects."""
    found = container.get(set_key) if isinstance(container, dict) else None
    items = found.get("items") if isinstance(found, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


_LAUNCH_NAMES = (("imageId", "image", "ImageId"), ("keyName", "key-pair", "KeyPairName"))


def _ec2_launch(ctx: RequestContext) -> Candidates:
    """RunInstances: the image and key pair of each `instancesSet` item, the request's
    security groups and network interfaces, the launch template; the subnet and security
    groups the instances got when the request left them to defaults (`responseElements`)."""
    params = ctx.params
    for item in _sets(params, "instancesSet"):
        for key, kind, variable in _LAUNCH_NAMES:
            value = item.get(key)
            if isinstance(value, str) and value:
                yield from _emit(kind, ctx.arn("ec2", kind, **{variable: value}))
    groups = [g.get("groupId") for g in _sets(params, "groupSet")]
    for interface in _sets(params, "networkInterfaceSet"):
        existing = interface.get("networkInterfaceId")
        if isinstance(existing, str) and existing:
            yield from _emit(
                "network-interface",
                ctx.arn("ec2", "network-interface", NetworkInterfaceId=existing),
            )
        subnet = interface.get("subnetId")
        if isinstance(subnet, str) and subnet:
            yield from _emit("subnet", ctx.arn("ec2", "subnet", SubnetId=subnet))
        groups += [g.get("groupId") for g in _sets(interface, "groupSet")]
        groups += _strings(interface.get("groupSet"))
    template = params.get("launchTemplate")
    template_id = template.get("launchTemplateId") if isinstance(template, dict) else None
    if isinstance(template_id, str) and template_id:
        yield from _emit(
            "launch-template", ctx.arn("ec2", "launch-template", LaunchTemplateId=template_id)
        )
    for instance in _sets(ctx.response, "instancesSet"):
        subnet = instance.get("subnetId")
        if isinstance(subnet, str) and subnet and "subnetId" not in params:
            yield from _emit("subnet", ctx.arn("ec2", "subnet", SubnetId=subnet))
        groups += [g.get("groupId") for g in _sets(instance, "groupSet")]
    for group in dict.fromkeys(g for g in groups if isinstance(g, str) and g):
        yield from _emit("security-group", ctx.arn("ec2", "security-group", SecurityGroupId=group))


# EC2 ids name their type by prefix (the EC2 API reference's id formats)
_EC2_ID_PREFIXES = {
    "i": ("instance", "InstanceId"),
    "ami": ("image", "ImageId"),
    "vol": ("volume", "VolumeId"),
    "snap": ("snapshot", "SnapshotId"),
    "sg": ("security-group", "SecurityGroupId"),
    "subnet": ("subnet", "SubnetId"),
    "vpc": ("vpc", "VpcId"),
    "eni": ("network-interface", "NetworkInterfaceId"),
    "igw": ("internet-gateway", "InternetGatewayId"),
    "rtb": ("route-table", "RouteTableId"),
    "acl": ("network-acl", "NaclId"),
    "eipalloc": ("elastic-ip", "AllocationId"),
    "nat": ("natgateway", "NatGatewayId"),
    "fl": ("vpc-flow-log", "VpcFlowLogId"),
    "lt": ("launch-template", "LaunchTemplateId"),
}


def _ec2_ids(ctx: RequestContext, values: list[Any]) -> Candidates:
    """Each value that is an EC2 id (`vol-0abc`), as an ARN of the type its prefix names;
    `{"tag": 1, "content": ID}` (how CloudTrail logs some newer EC2 requests) as its content."""
    for value in values:
        if isinstance(value, dict):
            value = value.get("content")
        if not isinstance(value, str) or "-" not in value:
            continue
        found = _EC2_ID_PREFIXES.get(value.rpartition("-")[0])  # eni-attach-1 is no eni
        if found is not None:
            kind, variable = found
            yield from _emit(kind, ctx.arn("ec2", kind, **{variable: value}))


def _ec2_request(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """Newer EC2 calls are logged as `{"DeleteNatGatewayRequest": {...}}`: the inner request."""
    if len(params) == 1:
        ((key, inner),) = params.items()
        if key.endswith("Request") and isinstance(inner, dict):
            return inner
    return params


def _ec2(ctx: RequestContext) -> Candidates:
    params = _ec2_request(ctx.params)
    if ctx.role.startswith("type:"):
        yield from _ec2_launch(ctx)
    # CreateTags / DeleteTags: each resource tagged; other calls: their top-level ids
    tagged = [i.get("resourceId") for i in _sets(params, "resourcesSet")]
    yield from _ec2_ids(ctx, tagged + list(params.values()))
    instances = _items(params, "instancesSet", "instanceId") + _strings(params.get("instanceId"))
    instances += _strings(params.get("instanceIds"))
    for instance in instances:
        yield from _emit("instance", ctx.arn("ec2", "instance", InstanceId=instance))
    volumes = _items(params, "volumeSet", "volumeId") + _strings(params.get("volumeId"))
    for volume in volumes:
        yield from _emit("volume", ctx.arn("ec2", "volume", VolumeId=volume))
    for key, (kind, variable) in _EC2_IDS.items():
        value = params.get(key)
        if isinstance(value, str) and value:
            yield from _emit(kind, ctx.arn("ec2", kind, **{variable: value}))


def _ec2_instance_connect(ctx: RequestContext) -> Candidates:
    for instance in _strings(ctx.params.get("instanceId")):
        yield from _emit(
            "instance", ctx.arn("ec2-instance-connect", "instance", InstanceId=instance)
        )


def _rds(ctx: RequestContext) -> Candidates:
    params = ctx.params
    for key, kind, variable in (
        ("dBInstanceIdentifier", "db", "DbInstanceName"),
        ("dBSnapshotIdentifier", "snapshot", "SnapshotName"),
        ("dBClusterIdentifier", "cluster", "DbClusterInstanceName"),
    ):
        value = _text(params, key)
        if value is None:
            continue
        if value.startswith("arn:"):
            yield kind, value
        else:
            yield from _emit(kind, ctx.arn("rds", kind, **{variable: value}))


def _cloudtrail(ctx: RequestContext) -> Candidates:
    trail = _text(ctx.params, "name", "trailName", "Name", "TrailName")
    if trail is None:
        return
    if trail.startswith("arn:"):
        yield "trail", trail
    else:
        yield from _emit("trail", ctx.arn("cloudtrail", "trail", TrailName=trail))


def _ecr(ctx: RequestContext) -> Candidates:
    name = _text(ctx.params, "repositoryName")
    if name is not None:
        account = _text(ctx.params, "registryId")
        names = {"RepositoryName": name} | ({"Account": account} if account else {})
        yield from _emit("repository", ctx.arn("ecr", "repository", **names))


# Security ---------------------------------------------------------------------------------------


def _kms_key(ctx: RequestContext, key: str) -> Candidates:
    if key.startswith("arn:"):
        yield ("alias" if ":alias/" in key else "key"), key
    elif key.startswith("alias/"):
        yield from _emit("alias", ctx.arn("kms", "alias", Alias=key.removeprefix("alias/")))
    else:
        yield from _emit("key", ctx.arn("kms", "key", KeyId=key))


# Where S3 names the KMS key of an SSE-KMS object: the request and response header of PutObject,
# CopyObject and CreateMultipartUpload (S3 API reference: `x-amz-server-side-encryption-aws-kms-
# key-id`; a real CopyObject record in tests/data/calls has it), the response header of GetObject
# and HeadObject, and CloudTrail's `additionalEventData.SSEKMSKeyARN`.
_SSE_KMS_KEYS = ("x-amz-server-side-encryption-aws-kms-key-id", "SSEKMSKeyARN")


def _sse_kms(ctx: RequestContext) -> Candidates:
    """The key S3 used on the caller's behalf (S3 user guide, "Using server-side encryption
    with AWS KMS keys": uploading needs kms:GenerateDataKey on it, downloading kms:Decrypt).
    An alias names no key ARN: `*`, which replay reports as not checkable."""
    for where in (ctx.params, ctx.response, ctx.additional):
        key = _text(where, *_SSE_KMS_KEYS)
        if key is None:
            continue
        if key.startswith("alias/") or ":alias/" in key:
            yield "key", "*"
        else:
            yield from _kms_key(ctx, key)
        return


def _kms(ctx: RequestContext) -> Candidates:
    if ctx.role == "sse-kms":
        yield from _sse_kms(ctx)
        return
    keys = {
        "source": ("sourceKeyId", "SourceKeyId"),
        "destination": ("destinationKeyId", "DestinationKeyId"),
    }.get(ctx.role, ("keyId", "KeyId", "targetKeyId", "TargetKeyId"))
    key = _text(ctx.params, *keys)
    if key is not None:
        yield from _kms_key(ctx, key)
    alias = _text(ctx.params, "aliasName", "AliasName")
    if alias is not None and ctx.role == "":
        yield from _kms_key(ctx, alias)


def _secretsmanager(ctx: RequestContext) -> Candidates:
    """A secret's ARN ends in `-` and six random characters the request does not show, so a
    name becomes the partial ARN `secret:NAME-??????` (the form AWS documents for policies).
    `items`: BatchGetSecretValue's `secretIdList`, each read with GetSecretValue."""
    if ctx.role == "items":
        secrets = _strings(ctx.params.get("secretIdList"))
    elif ctx.role == "secret":  # the RDS Data API's `secretArn`
        secrets = _strings(ctx.params.get("secretArn"))
    else:
        secrets = _strings(_text(ctx.params, "secretId", "SecretId", "name", "Name"))
    for secret in secrets:
        yield from _secret(ctx, secret)


def _secret(ctx: RequestContext, secret: str) -> Candidates:
    if secret.startswith("arn:"):
        yield "secret", secret
    else:
        yield from _emit("secret", ctx.arn("secretsmanager", "Secret", SecretId=f"{secret}-??????"))


def _rds_data(ctx: RequestContext) -> Candidates:
    yield from _emit("cluster", _text(ctx.params, "resourceArn"))


# Athena runs a query with the caller's credentials against the Glue Data Catalog and S3 (Athena
# user guide, "Fine-grained access to databases and tables in the AWS Glue Data Catalog": a
# query needs glue:GetDatabase on the catalog and database, glue:GetTable and
# glue:GetPartitions on the catalog, database and table; "Access to Amazon S3": the results
# location needs s3:GetBucketLocation on the bucket and s3:PutObject on the objects). The
# request names the database (`queryExecutionContext`) and the results location
# (`resultConfiguration.outputLocation`) when the caller gave them; the tables are in the SQL,
# so any table of the database.
ATHENA_DATABASE, ATHENA_TABLE, ATHENA_RESULTS = "athena-database", "athena-table", "athena-results"
_GLUE_CATALOG = "AwsDataCatalog"  # Athena's name of the account's Glue Data Catalog


def _athena_database(params: Mapping[str, Any]) -> str | None:
    context = params.get("queryExecutionContext")
    if not isinstance(context, dict):
        return None
    catalog = context.get("catalog")
    if catalog not in (None, _GLUE_CATALOG):  # a federated catalog is no Glue database
        return None
    return _text(context, "database")


def _glue(ctx: RequestContext) -> Candidates:
    """The Glue resources of an Athena query (`ATHENA_DATABASE`, `ATHENA_TABLE` roles)."""
    database = _athena_database(ctx.params) if ctx.role in (ATHENA_DATABASE, ATHENA_TABLE) else None
    if database is None:
        return
    yield from _emit("rootcatalog", ctx.arn("glue", "rootcatalog"))
    yield from _emit("database", ctx.arn("glue", "database", DatabaseName=database))
    if ctx.role == ATHENA_TABLE:
        yield from _emit("table", ctx.arn("glue", "table", DatabaseName=database, TableName="*"))


def _athena_results(ctx: RequestContext) -> Candidates:
    """`s3://bucket/prefix/`: the bucket, and any object under the prefix (each query writes
    its own result files there)."""
    config = ctx.params.get("resultConfiguration")
    location = _text(config, "outputLocation") if isinstance(config, dict) else None
    if location is None or not location.startswith("s3://"):
        return
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    if not bucket:
        return
    yield from _emit("bucket", ctx.arn("s3", "bucket", BucketName=bucket))
    objects = f"{prefix.rstrip('/')}/*" if prefix.strip("/") else "*"
    yield from _emit("object", ctx.arn("s3", "object", BucketName=bucket, ObjectName=objects))


def _athena(ctx: RequestContext) -> Candidates:
    """A query runs in its `workGroup`, `primary` when the request names none (Athena user
    guide, workgroups): StartQueryExecution is authorised on that workgroup."""
    group = _text(ctx.params, "workGroup", "WorkGroup")
    if group is None and ctx.role == "type:workgroup":
        group = "primary"
    if group is not None:
        yield from _emit("workgroup", ctx.arn("athena", "workgroup", WorkGroupName=group))


# A cross-region inference profile id is the model id behind a geography prefix.
_PROFILE_PREFIXES = ("us.", "eu.", "apac.", "us-gov.", "ca.", "jp.", "au.", "global.")


def _bedrock(ctx: RequestContext) -> Candidates:
    """`modelId` (InvokeModel, Converse and their streaming forms): an ARN as it is; an
    inference profile id (`us.anthropic...`) is authorised on the profile and on the
    foundation model in every region the profile routes to; else a foundation model."""
    model = _text(ctx.params, "modelId", "ModelId")
    if model is None:
        return
    if model.startswith("arn:"):
        kind = model.split(":", 5)[-1].split("/", 1)[0]
        yield kind, model
        return
    if model.startswith(_PROFILE_PREFIXES):
        yield from _emit(
            "inference-profile", ctx.arn("bedrock", "inference-profile", ResourceId=model)
        )
        base = model.partition(".")[2]
        yield from _emit(
            "foundation-model",
            ctx.arn("bedrock", "foundation-model", Region="*", ResourceId=base),
        )
        return
    yield from _emit("foundation-model", ctx.arn("bedrock", "foundation-model", ResourceId=model))


def route_arn(paths: str, ctx: RequestContext) -> str:
    """API Gateway's management resource: `arn:PARTITION:apigateway:REGION::PATH`, each
    `{member}` of the path filled from the request (case aside), `*` where it names none.
    `paths` may list alternatives (`v1|v2`, for names both APIs use): the first whose
    members the request all names, else the first."""
    lowered = {k.lower(): v for k, v in ctx.params.items() if isinstance(v, str) and v}
    options = paths.split("|")
    path = next(
        (p for p in options if all(m.lower() in lowered for m in _PATH_MEMBER.findall(p))),
        options[0],
    )

    def fill(match: re.Match[str]) -> str:
        return str(lowered.get(match.group(1).lower(), "*"))

    filled = _PATH_MEMBER.sub(fill, path)
    return f"arn:{ctx.defaults['Partition']}:apigateway:{ctx.defaults['Region']}::{filled}"


_PATH_MEMBER = re.compile(r"\{([^}]+)\}")


def _ssm(ctx: RequestContext) -> Candidates:
    params = ctx.params
    names = _strings(params.get("name")) + _strings(params.get("names"))
    names += _strings(params.get("path"))
    if params.get("resourceType") == "Parameter":  # ListTagsForResource, AddTagsToResource
        names += _strings(params.get("resourceId"))
    for name in names:
        if name.startswith("arn:"):
            yield "parameter", name
        else:
            bare = name.lstrip("/")
            yield from _emit(
                "parameter", ctx.arn("ssm", "parameter", ParameterNameWithoutLeadingSlash=bare)
            )
    # `name` is a document's for GetDocument, DescribeDocument, ... (the type filter decides)
    for document in _strings(params.get("documentName")) + _strings(params.get("name")):
        if not document.startswith("arn:"):
            yield from _emit("document", ctx.arn("ssm", "document", DocumentName=document))
    for session in _strings(params.get("sessionId")):
        yield from _emit("session", ctx.arn("ssm", "session", SessionId=session))
    instances = _strings(params.get("instanceIds")) + _strings(params.get("instanceId"))
    # StartSession's `target`: an instance id, or a managed (hybrid) instance `mi-...`
    for target in _strings(params.get("target")):
        if target.startswith("mi-"):
            yield from _emit(
                "managed-instance", ctx.arn("ssm", "managed-instance", InstanceId=target)
            )
        else:
            instances.append(target)
    for instance in instances:
        yield from _emit("instance", ctx.arn("ssm", "instance", InstanceId=instance))


def _iam_names(ctx: RequestContext, service: str) -> Candidates:
    params = ctx.params
    role = _text(params, "roleName")
    if role is not None:
        yield from _emit("role", ctx.arn(service, "role", RoleNameWithPath=role))
    user = _text(params, "userName")
    if user is not None:
        yield from _emit("user", ctx.arn(service, "user", UserNameWithPath=user))
    elif ctx.caller_user is not None:
        # GetUser, ListAccessKeys, CreateAccessKey, ... without userName act on the caller
        yield "user", ctx.caller_user
    profile = _text(params, "instanceProfileName")
    if profile is not None:
        yield from _emit(
            "instance-profile",
            ctx.arn(service, "instance-profile", InstanceProfileNameWithPath=profile),
        )
    policy = _text(params, "policyArn")
    if policy is not None:
        yield "policy", policy
    elif (name := _text(params, "policyName")) is not None and "policyDocument" in params:
        path = (_text(params, "path") or "/").strip("/")
        full = f"{path}/{name}" if path else name
        yield from _emit("policy", ctx.arn(service, "policy", PolicyNameWithPath=full))


# Request keys naming the role a call hands to a service (lambda `role`, ECS `taskRoleArn`,
# CodeBuild `serviceRole`, CloudFormation `roleARN`, ...): an ARN, or for some services a name.
_PASSED_ROLE_KEYS = (
    "role",
    "roleArn",
    "roleARN",
    "RoleArn",
    "taskRoleArn",
    "executionRoleArn",
    "serviceRole",
    "roleName",  # AddRoleToInstanceProfile
)


def _passed_roles(ctx: RequestContext) -> Candidates:
    # ECS RunTask/StartTask pass the roles of their `overrides` (ECS API reference, TaskOverride)
    overrides = ctx.params.get("overrides")
    where = [ctx.params, overrides] if isinstance(overrides, dict) else [ctx.params]
    for key in _PASSED_ROLE_KEYS:
        for value in (v for params in where for v in _strings(params.get(key))):
            if value.startswith("arn:"):
                yield "role", value
            else:
                yield from _emit("role", ctx.arn("iam", "role", RoleNameWithPath=value))


def _iam(ctx: RequestContext) -> Candidates:
    if ctx.role == "passed":  # iam:PassRole implied by another service's call
        yield from _passed_roles(ctx)
        return
    yield from _iam_names(ctx, "iam")


def _sts(ctx: RequestContext) -> Candidates:
    yield from _emit("role", _text(ctx.params, "roleArn", "RoleArn"))


# Logs and events --------------------------------------------------------------------------------


def _logs(ctx: RequestContext) -> Candidates:
    group = _text(ctx.params, "logGroupName")
    if group is None:
        return
    yield from _emit("log-group", ctx.arn("logs", "log-group", LogGroupName=group))
    stream = _text(ctx.params, "logStreamName")
    if stream is not None:
        yield from _emit(
            "log-stream",
            ctx.arn("logs", "log-stream", LogGroupName=group, LogStreamName=stream),
        )


def _events(ctx: RequestContext) -> Candidates:
    bus = _text(ctx.params, "eventBusName", "EventBusName")
    if bus is not None and bus.startswith("arn:"):
        bus_name: str | None = bus.rpartition("/")[2]
        yield "event-bus", bus
    else:
        bus_name = bus
        if bus is not None:
            yield from _emit("event-bus", ctx.arn("events", "event-bus", EventBusName=bus))
    rule = _text(ctx.params, "name", "rule", "Rule")
    if rule is None:
        return
    if bus_name and bus_name != "default":
        arn = ctx.arn("events", "rule-on-custom-event-bus", EventBusName=bus_name, RuleName=rule)
        yield from _emit("rule-on-custom-event-bus", arn)
    else:
        arn = ctx.arn("events", "rule-on-default-event-bus", RuleName=rule)
        yield from _emit("rule-on-default-event-bus", arn)


BUILDERS: dict[str, Callable[[RequestContext], Candidates]] = {
    "s3": _s3,
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "sns": _sns,
    "kinesis": _kinesis,
    "lambda": _lambda,
    "states": _states,
    "ec2": _ec2,
    "ec2-instance-connect": _ec2_instance_connect,
    "rds": _rds,
    "cloudtrail": _cloudtrail,
    "ecr": _ecr,
    "kms": _kms,
    "secretsmanager": _secretsmanager,
    "ssm": _ssm,
    "rds-data": _rds_data,
    "athena": _athena,
    "glue": _glue,
    "bedrock": _bedrock,
    "iam": _iam,
    "sts": _sts,
    "logs": _logs,
    "events": _events,
}
