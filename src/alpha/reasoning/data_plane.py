"""Which actions are data plane: the calls CloudTrail logs only when data events are enabled.

A trail logs management events by default; object-, item- and message-level calls are data
events, logged only when the trail selects them. When the logs hold no data events, a
principal's use of these actions cannot have been seen, so their absence is no evidence.

The classification, by service (names as the catalog spells them):

- s3: every action that takes the `object` resource type (Get/Put/Delete/Restore*Object*,
  multipart uploads, object ACLs, tags, retention, replication), plus `ListBucket`,
  `ListBucketVersions` and `ListBucketMultipartUploads` (ListObjects* is a data event).
- dynamodb: item-level reads and writes (Get/Put/Update/Delete/ConditionCheckItem, the Batch
  calls, Query, Scan, PartiQL*) and stream reads (GetRecords, GetShardIterator).
- lambda: InvokeFunction, InvokeAsync, InvokeFunctionUrl.
- sqs: SendMessage, ReceiveMessage, DeleteMessage, ChangeMessageVisibility.
- sns: Publish.
- kinesis: PutRecord(s), GetRecords, GetShardIterator, SubscribeToShard.
- kms: the cryptographic operations (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, Sign,
  Verify, GenerateMac, VerifyMac). CloudTrail logs these as management events, but trails
  routinely exclude KMS events for volume, so they are treated as unseen with the data events.
"""

from __future__ import annotations

from functools import lru_cache
from types import MappingProxyType

from alpha.catalog import Catalog

__all__ = ["is_data_plane"]


_S3_OBJECT_TYPE = "object"

DATA_PLANE_NAMES: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        "s3": frozenset({"listbucket", "listbucketversions", "listbucketmultipartuploads"}),
        "dynamodb": frozenset(
            {
                "getitem",
                "putitem",
                "updateitem",
                "deleteitem",
                "conditioncheckitem",
                "batchgetitem",
                "batchwriteitem",
                "query",
                "scan",
                "partiqlselect",
                "partiqlinsert",
                "partiqlupdate",
                "partiqldelete",
                "getrecords",
                "getsharditerator",
            }
        ),
        "lambda": frozenset({"invokefunction", "invokeasync", "invokefunctionurl"}),
        "sqs": frozenset(
            {"sendmessage", "receivemessage", "deletemessage", "changemessagevisibility"}
        ),
        "sns": frozenset({"publish"}),
        "kinesis": frozenset(
            {"putrecord", "putrecords", "getrecords", "getsharditerator", "subscribetoshard"}
        ),
        "kms": frozenset(
            {
                "encrypt",
                "decrypt",
                "reencryptfrom",
                "reencryptto",
                "generatedatakey",
                "generatedatakeywithoutplaintext",
                "generatedatakeypair",
                "generatedatakeypairwithoutplaintext",
                "sign",
                "verify",
                "generatemac",
                "verifymac",
            }
        ),
    }
)

DATA_PLANE_SERVICES = tuple(sorted(DATA_PLANE_NAMES))


@lru_cache(maxsize=65_536)
def is_data_plane(action_key: str, catalog: Catalog) -> bool:
    """Whether `service:Name` is a data-plane action (see the module docstring). Cached:
    proposals for a whole account ask it of the same removed actions over and over."""
    service, _, name = action_key.partition(":")
    service, name = service.lower(), name.lower()
    names = DATA_PLANE_NAMES.get(service)
    if names is None:
        return False
    if name in names:
        return True
    if service != "s3":
        return False
    action = catalog.action(action_key)
    return action is not None and any(r.name == _S3_OBJECT_TYPE for r in action.resources)
