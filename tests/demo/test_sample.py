from __future__ import annotations

import hashlib
from pathlib import Path

from alpha.adapters.local.authorization_details import read_authorization_details
from alpha.demo.sample import ACCOUNT, ROLLOUT_AT, write_sample


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def test_sample_is_deterministic(tmp_path: Path) -> None:
    write_sample(tmp_path / "a")
    write_sample(tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_sample_account_reads_back(tmp_path: Path) -> None:
    paths = write_sample(tmp_path)
    snapshot = read_authorization_details(paths.account)
    names = sorted(role.name for role in snapshot.roles)
    assert names == ["ci-deployer", "legacy-batch", "orders-api", "report-builder"]
    assert snapshot.account_id == ACCOUNT


def test_bake_logs_start_at_the_rollout(tmp_path: Path) -> None:
    paths = write_sample(tmp_path)
    day = ROLLOUT_AT.strftime("%Y/%m/%d")
    files = list(paths.bake.rglob("*.json.gz"))
    assert len(files) == 1
    assert day in files[0].as_posix()
    observed = list(paths.observed.rglob("*.json.gz"))
    assert len(observed) == 30
    assert all(day not in f.as_posix() for f in observed)
