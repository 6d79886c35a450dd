"""Cells of every table we export (CSV and xlsx): text a spreadsheet would run as a formula is defused."""

from __future__ import annotations

import re
from typing import Any

# OWASP CSV injection: Excel, LibreOffice and WPS treat a cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain number keeps its sign: "-1" is the old certificate number of an applicant who cannot give one.
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def spreadsheet_safe(value: Any) -> Any:
    """A text a spreadsheet would read as a formula, with a leading apostrophe; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.match(value):
        return "'" + value
    return value


def spreadsheet_row(values: Any) -> list[Any]:
    return [spreadsheet_safe(value) for value in values]
