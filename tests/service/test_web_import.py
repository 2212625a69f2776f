"""The import page's check step (before anything is imported), on both stores: it finds the bad
rows the import itself finds, with the same reasons."""

from __future__ import annotations

from pathlib import Path

from tests.imports.support import corrupted_copy
from tests.service.conftest import SignIn
from tests.service.support import SIGN_IN_TABLES, nothing_changes
from tests.service.test_web import VERRA_EXPORT, fields

FAR_FUTURE_DAY = "9999-12-31"
"""A retirement date no clock has reached."""


def test_the_check_step_flags_a_retirement_date_yet_to_come_and_imports_nothing(
    signed_in: SignIn, demo_database: str, tmp_path: Path
) -> None:
    admin = signed_in("admin")
    future = corrupted_copy(VERRA_EXPORT, tmp_path / "future.csv", 3, ",2024-06-27,",
                            f",{FAR_FUTURE_DAY},")  # fmt: skip
    files = {"file": ("vcus.csv", future.read_bytes(), "text/csv")}
    with nothing_changes(demo_database, SIGN_IN_TABLES):
        refused = admin.post("/import", data=fields(admin), files=files)
    assert refused.status_code == 200, refused.text
    assert "Nothing imported" in refused.text and "line 3" in refused.text
    assert f"Retirement/Cancellation Date {FAR_FUTURE_DAY} has not begun yet" in refused.text
    assert "importing" not in refused.text  # refused by the check, before any import began
