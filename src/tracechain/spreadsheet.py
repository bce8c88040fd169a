"""Excel workbooks: sheets of rows written as .xlsx, the one module that imports openpyxl.

Each sheet gets a bold, frozen header row and an autofilter over all its columns, so the reader can sort and filter
it (the "electronic sortable spreadsheet" FSMA 204 asks for); columns are sized to their contents within limits.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from tracechain.errors import StorageError

__all__ = ["Sheet", "write_workbook"]

_MAX_WIDTH = 60
_SHEET_NAME = 31  # Excel's limit on a sheet name's length


@dataclass(frozen=True, slots=True)
class Sheet:
    """A sheet: its title, its header row and its rows (text, numbers; None for an empty cell)."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]


def write_workbook(path: str | os.PathLike[str], sheets: Sequence[Sheet]) -> None:
    """Write ``sheets`` to a new .xlsx file at ``path``; `StorageError` naming the file when it cannot be written."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for sheet in sheets:
        ws = book.create_sheet(sheet.title[:_SHEET_NAME])
        ws.append(list(sheet.header))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        widths = [len(str(h)) for h in sheet.header]
        for row in sheet.rows:
            cells = [_cell(value) for value in row]
            ws.append(cells)
            for at, value in enumerate(cells[: len(widths)]):
                widths[at] = max(widths[at], len(str(value)) if value is not None else 0)
        for at, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(at)].width = min(width + 2, _MAX_WIDTH)
        ws.freeze_panes = "A2"
        if sheet.header:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.header))}{len(sheet.rows) + 1}"
    try:
        book.save(os.fspath(path))
    except OSError as e:
        raise StorageError(f"{os.fspath(path)}: cannot write the workbook ({e.strerror})") from e


def _cell(value: Any) -> Any:
    """A value openpyxl writes as it is: text, a whole number, or a decimal as a number."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    return float(value) if hasattr(value, "as_tuple") else str(value)
