"""The proposal page's "Whose work it might break" section, rendered by the console's own
template environment: the people at risk, the rest counted, names (from CloudTrail) escaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates

import alpha.web

TEMPLATES = Path(alpha.web.__file__).parent / "templates"


def section(found: dict[str, Any] | None) -> str:
    macros = Jinja2Templates(directory=str(TEMPLATES)).env.get_template("_macros.html")
    return str(macros.module.people_at_risk(found))  # type: ignore[attr-defined]


def test_the_people_at_risk_and_the_rest_counted() -> None:
    html = section(
        {
            "people": 9,
            "at_risk": [
                {
                    "person": "ann@example.com",
                    "calls": 3,
                    "last_seen": "2024-03-01T10:00:00Z",
                    "reasons": ["rare: s3:PutObject", "only user of s3:PutObject"],
                },
                {
                    "person": "<script>alert(1)</script>",
                    "calls": 1,
                    "last_seen": "2024-02-01T10:00:00Z",
                    "reasons": ["last seen 29 days before the window's end"],
                },
            ],
            "more": 4,
        }
    )
    assert "Whose work it might break" in html
    assert "<b>ann@example.com</b>: rare: s3:PutObject; only user of s3:PutObject" in html
    assert "3 calls, last seen 2024-03-01" in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "and 4 more" in html
    assert "9 people use this role." in html


def test_nothing_when_no_person_is_at_risk() -> None:
    assert section(None).strip() == ""
    assert section({"people": 2, "at_risk": [], "more": 0}).strip() == ""
