"""A small organisation folder built from the repository's sample accounts (tests/data/
accounts): the generated account 455383650158 (whose CloudTrail sample is tests/scan/data)
in OU Prod, the hand-written edge-cases account 111122223333 as the management account, an
account in Prod with no file (a read failure) and a suspended one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.sample_accounts import EDGE_CASES_ACCOUNT, GENERATED_ACCOUNT

GENERATED_LOGS = (
    Path(__file__).resolve().parent.parent / "scan" / "data" / "cloudtrail-455383650158"
)
ROOT = "r-ab12"
PROD = "ou-ab12-prod0001"
GENERATED = "455383650158"
MANAGEMENT = "111122223333"
NO_FILE = "999999999999"
SUSPENDED = "888888888888"
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def organization_json() -> dict[str, Any]:
    return {
        "Id": "o-sample0001",
        "ManagementAccountId": MANAGEMENT,
        "Units": [{"Id": ROOT, "Name": "Root"}, {"Id": PROD, "Name": "Prod", "ParentId": ROOT}],
        "Accounts": [
            {"Id": MANAGEMENT, "Name": "management", "Status": "ACTIVE", "ParentId": ROOT},
            {
                "Id": GENERATED,
                "Name": "platform",
                "Status": "ACTIVE",
                "ParentId": PROD,
                "Tags": [{"Key": "env", "Value": "prod"}],
            },
            {"Id": NO_FILE, "Name": "forgotten", "Status": "ACTIVE", "ParentId": PROD},
            {"Id": SUSPENDED, "Name": "closed", "Status": "SUSPENDED", "ParentId": PROD},
        ],
        "Policies": [
            {
                "Id": "p-FullAWSAccess",
                "Name": "FullAWSAccess",
                "Type": "SERVICE_CONTROL_POLICY",
                "Content": ALLOW_ALL,
                "Targets": [ROOT, PROD, MANAGEMENT, GENERATED, NO_FILE, SUSPENDED],
            }
        ],
    }


def write_sample_folder(folder: Path, document: dict[str, Any] | None = None) -> Path:
    (folder / "accounts").mkdir(parents=True, exist_ok=True)
    (folder / "organization.json").write_text(json.dumps(document or organization_json()))
    shutil.copy(GENERATED_ACCOUNT, folder / "accounts" / f"{GENERATED}.json")
    shutil.copy(EDGE_CASES_ACCOUNT, folder / "accounts" / f"{MANAGEMENT}.json")
    return folder
