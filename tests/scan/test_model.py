from __future__ import annotations

import json

from alpha.catalog import load_catalog
from alpha.scan import scan
from tests.scan.factories import allow, role, snapshot


def test_to_dict_is_plain_json_with_the_documented_keys() -> None:
    account = snapshot(role("app", allow(["iam:PassRole", "ec2:RunInstances"])))
    (score,) = scan(account, [], load_catalog()).scores
    data = json.loads(json.dumps(score.to_dict()))
    assert {"rank", "principal", "kind", "score", "unused_share", "granted", "used"} <= set(data)
    assert data["by_access_level"].keys() == {
        "List",
        "Read",
        "Write",
        "Permissions management",
        "Tagging",
    }
    codes = [flag["code"] for flag in data["flags"]]
    assert codes == ["escalation", "unused"]
    assert data["flags"][0]["methods"][0]["method"] == "iam:PassRole + ec2:RunInstances"
    assert data["flags"][1]["last_used"] is None
    assert data["unused_share"] == 1.0
