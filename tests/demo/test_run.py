"""`alpha demo` end to end: the CI's proof that the demo works."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.workflow_helpers import alpha


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo") / "alpha-demo"


def test_the_demo_runs_the_whole_loop(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPHA_BAKE", "1m")  # the demo ignores the user's settings
    ran = alpha("demo", "--dir", str(demo_dir), "--format", "json")
    assert ran.code == 0, ran.err
    result = ran.json()
    assert result["final"] == {
        "orders-api": "succeeded",
        "report-builder": "rolled_back",
        "ci-deployer": "proposed",
    }
    refusals = {
        (d["by"], d["principal"].rpartition("/")[2]): d["refused"] for d in result["decisions"]
    }
    assert "separation of duties" in refusals[("dana", "orders-api")]
    assert "blocking guardrail violations" in refusals[("sam", "ci-deployer")]
    assert refusals[("sam", "orders-api")] is None
    stages = [(s["principal"].rpartition("/")[2], s["stage"], s["state"]) for s in result["stages"]]
    assert stages == [  # side by side: time only runs forwards in a store
        ("orders-api", "sandbox", "sandbox"),
        ("report-builder", "sandbox", "sandbox"),
        ("orders-api", "canary", "canary"),
        ("report-builder", "canary", "rolled_back"),
        ("orders-api", "production", "succeeded"),
    ]
    assert [s["at"][11:16] for s in result["stages"]] == [
        "00:00",
        "00:00",
        "06:00",
        "06:00",
        "12:00",
    ]
    flags = {s["principal"].rpartition("/")[2]: s["flags"] for s in result["scan"]}
    assert {f["code"] for f in flags["legacy-batch"]} == {"unused"}
    assert "admin" in {f["code"] for f in flags["ci-deployer"]}
    assert result["try"][0].startswith("cd ")


def test_the_store_it_leaves_is_found_from_its_folder(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (demo_dir / ".alpha").is_dir():
        alpha("demo", "--dir", str(demo_dir), "--format", "json")
    monkeypatch.chdir(demo_dir)
    monkeypatch.delenv("ALPHA_STORE", raising=False)
    listed = alpha("proposals", "list", "--format", "json").json()
    assert sorted(row["state"] for row in listed) == ["proposed", "rolled_back", "succeeded"]
    shown = alpha("status").out
    assert "succeeded" in shown


def test_rerunning_starts_clean_and_a_foreign_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    assert alpha("demo", "--dir", str(folder), "--format", "json").code == 0
    (folder / "leftover.txt").write_text("from the last run")
    assert alpha("demo", "--dir", str(folder)).code == 0
    assert not (folder / "leftover.txt").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    refused = alpha("demo", "--dir", str(mine))
    assert refused.code == 2
    assert refused.err.count("\n") == 1
    assert (mine / "notes.txt").read_text() == "keep me"
