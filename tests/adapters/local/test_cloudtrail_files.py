from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alpha.adapters.local.cloudtrail_files import LocalCloudTrailFiles
from alpha.usage.errors import UsageError
from alpha.usage.ports import TimeWindow


def touch(root: Path, relative: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


def names(root: Path, window: TimeWindow | None = None) -> list[str]:
    window = window or TimeWindow()
    source = LocalCloudTrailFiles(root)
    return [Path(b.key).relative_to(root.resolve()).as_posix() for b in source.batches(window)]


TRAIL = "AWSLogs/111122223333/CloudTrail/eu-west-1"
ORG = "AWSLogs/o-abc123/444455556666/CloudTrail/us-east-1"


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    for day in ("2024/02/28", "2024/03/01", "2024/03/02", "2024/03/05", "2023/12/31"):
        touch(tmp_path, f"{TRAIL}/{day}/log_{day.replace('/', '')}.json.gz")
    touch(tmp_path, f"{ORG}/2024/03/02/org.json.gz")
    touch(tmp_path, "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/03/02/d.json.gz")
    touch(tmp_path, "manifest.json")  # beside AWSLogs/: not a log
    return tmp_path


def test_every_log_file_without_a_window(bucket: Path) -> None:
    assert names(bucket) == sorted(
        [
            "AWSLogs/o-abc123/444455556666/CloudTrail/us-east-1/2024/03/02/org.json.gz",
            *(
                f"{TRAIL}/{d}/log_{d.replace('/', '')}.json.gz"
                for d in ("2023/12/31", "2024/02/28", "2024/03/01", "2024/03/02", "2024/03/05")
            ),
        ]
    )


def test_only_date_folders_near_the_window_are_walked(bucket: Path) -> None:
    window = TimeWindow(datetime(2024, 3, 2, tzinfo=UTC), datetime(2024, 3, 3, tzinfo=UTC))
    assert names(bucket, window) == [
        f"{TRAIL}/2024/03/01/log_20240301.json.gz",  # a day of slack for late delivery
        f"{TRAIL}/2024/03/02/log_20240302.json.gz",
        f"{ORG}/2024/03/02/org.json.gz",
    ]


def test_an_open_window_end(bucket: Path) -> None:
    window = TimeWindow(since=datetime(2024, 3, 4, tzinfo=UTC))
    assert names(bucket, window) == [f"{TRAIL}/2024/03/05/log_20240305.json.gz"]


def test_any_folder_of_logs(tmp_path: Path) -> None:
    for name in ("a.json", "b.json.gz", "c.jsonl", "d.ndjson", "notes.txt", ".hidden.json"):
        touch(tmp_path, f"x/{name}")
    assert names(tmp_path / "x") == ["a.json", "b.json.gz", "c.jsonl", "d.ndjson"]


def test_a_single_file_whatever_its_name(tmp_path: Path) -> None:
    path = touch(tmp_path, "export.log")
    [batch] = LocalCloudTrailFiles(path).batches(TimeWindow())
    assert batch.key == str(path.resolve())
    assert LocalCloudTrailFiles(path).read(batch) == b"{}"


def test_the_version_follows_size_and_mtime(tmp_path: Path) -> None:
    path = touch(tmp_path, "a.json")
    source = LocalCloudTrailFiles(tmp_path)
    [before] = source.batches(TimeWindow())
    os.utime(path, ns=(1, path.stat().st_mtime_ns + 5))
    [after] = source.batches(TimeWindow())
    assert before.key == after.key
    assert before.version != after.version


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nowhere"):
        list(LocalCloudTrailFiles(tmp_path / "nowhere").batches(TimeWindow()))


def test_a_fifo_among_the_logs_is_reported_not_waited_on(tmp_path: Path) -> None:
    import os

    import pytest

    from alpha.usage.errors import UsageError

    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "a.json").write_text('{"Records": []}')
    os.mkfifo(folder / "b.json")
    source = LocalCloudTrailFiles(folder)
    batches = list(source.batches(TimeWindow()))
    assert [Path(b.key).name for b in batches] == ["a.json", "b.json"]
    assert source.read(batches[0]) == b'{"Records": []}'
    with pytest.raises(UsageError, match="not a regular file"):
        source.read(batches[1])  # returns at once: a blocking open would wait forever


UNLISTABLE = """
import sys
from pathlib import Path
from alpha.adapters.local.cloudtrail_files import LocalCloudTrailFiles
from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
from alpha.usage.errors import UsageError
from alpha.usage.ingest import ingest
from alpha.usage.ports import TimeWindow

folder, store_path = Path(sys.argv[1]), Path(sys.argv[2])
source = LocalCloudTrailFiles(folder)
print([Path(b.key).name for b in source.batches(TimeWindow())])
with DuckDBUsageStore(store_path) as store:
    print([p.describe() for p in ingest([source], store, TimeWindow(), workers=1).problems])
    try:
        ingest([source], store, TimeWindow(), strict=True, workers=1)
    except UsageError as exc:
        print("strict:", exc)
"""


def test_a_folder_that_cannot_be_listed_is_reported_and_strict_stops() -> None:
    import shutil
    import subprocess
    import sys
    import tempfile

    # Root lists every folder, so as root the check runs as `nobody` (setpriv).
    drop = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: no folder is unlistable")
    base = Path(tempfile.mkdtemp())
    try:
        base.chmod(0o777)
        folder = base / "logs"
        (folder / "locked").mkdir(parents=True)
        (folder / "a.json").write_text('{"Records": []}')
        folder.chmod(0o755)
        (folder / "locked").chmod(0)
        command = [sys.executable, "-c", UNLISTABLE, str(folder), str(base / "u.duckdb")]
        ran = subprocess.run(
            [*drop, *command] if os.geteuid() == 0 else command,
            capture_output=True,
            text=True,
            check=True,
        )
        listed, problems, strict = ran.stdout.splitlines()
        assert listed == "['a.json', 'locked']"
        assert "locked: unreadable file (" in problems
        assert "cannot list this folder: Permission denied" in problems
        assert strict.startswith("strict: ")
        assert "cannot list this folder" in strict
    finally:
        (base / "logs" / "locked").chmod(0o755)
        shutil.rmtree(base)
