"""A standard's buffer rates lie above 0 and below 1, a risk-rated minimum at most its maximum:
a buffer withholding nothing is kind `none`, one withholding everything leaves the proponent
nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from carbonex.catalog.standards import load_project_catalog
from tests.catalog.support import assert_refused, edited

VCS_RISK_BUFFER = 'rate_min = "0.10"\nrate_max = "0.60"'
GS_FIXED_BUFFER = 'rate = "0.20"'

REFUSED_BUFFERS = {
    "a risk buffer whose minimum rate is zero": (
        VCS_RISK_BUFFER,
        'rate_min = "0"\nrate_max = "0.60"',
        ("('VCS') buffer", "'rate_min'", "above 0", "got 0"),
    ),
    "a risk buffer whose rates are both zero": (
        VCS_RISK_BUFFER,
        'rate_min = "0.00"\nrate_max = "0"',
        ("('VCS') buffer", "'rate_min'", "above 0"),
    ),
    "a risk buffer whose maximum rate is the whole issuance": (
        VCS_RISK_BUFFER,
        'rate_min = "0.10"\nrate_max = "1"',
        ("('VCS') buffer", "'rate_max'", "below 1"),
    ),
    "a risk buffer whose minimum rate is above its maximum": (
        VCS_RISK_BUFFER,
        'rate_min = "0.70"\nrate_max = "0.60"',
        ("('VCS') buffer", "'rate_max' 0.60 is below 'rate_min' 0.70"),
    ),
    "a fixed buffer of zero": (
        GS_FIXED_BUFFER,
        'rate = "0"',
        ("('GS') buffer", "'rate'", "above 0", "kind 'none'"),
    ),
    "a fixed buffer of the whole issuance": (
        GS_FIXED_BUFFER,
        'rate = "1.0"',
        ("('GS') buffer", "'rate'", "below 1"),
    ),
}


@pytest.mark.parametrize("case", REFUSED_BUFFERS)
def test_a_buffer_rate_out_of_bounds_is_refused(tmp_path: Path, case: str) -> None:
    old, new, words = REFUSED_BUFFERS[case]
    directory = edited(tmp_path, "standards.toml", old, new)
    assert_refused("project", directory, "standards.toml", *words)


def test_a_risk_buffer_of_one_rate_loads(tmp_path: Path) -> None:
    directory = edited(
        tmp_path, "standards.toml", VCS_RISK_BUFFER, 'rate_min = "0.2"\nrate_max = "0.2"'
    )
    buffer = load_project_catalog(directory).standards["VCS"].buffer
    assert (buffer.rate_min, buffer.rate_max) == (Decimal("0.2"), Decimal("0.2"))
