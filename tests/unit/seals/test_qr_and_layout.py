"""The QR symbol equals segno's for the chosen mask; layouts are checked."""

from __future__ import annotations

import json

import numpy as np
import pytest
import segno

from seals.layout import Layout, LayoutError, default_layout, parse_layout
from seals.qr import _matrix, _tables, make_symbol


@pytest.mark.parametrize("text", ["https://zc.example.cn/v/abc", "https://zc.example.cn/v/" + "x9-" * 90])
def test_every_mask_candidate_equals_segnos_symbol(text: str) -> None:
    symbol = make_symbol(text)
    tables = _tables(symbol.version)
    unmasked = _matrix(segno.make_qr(text, error="m", mask=0, boost_error=False)) ^ tables.patterns[0]
    for mask in range(8):
        candidate = unmasked ^ tables.patterns[mask]
        candidate[tables.format_cells] = tables.format_values[mask]
        assert np.array_equal(
            candidate, _matrix(segno.make_qr(text, error="m", mask=mask, boost_error=False))
        )
    assert np.array_equal(
        symbol.modules, _matrix(segno.make_qr(text, error="m", mask=symbol.mask, boost_error=False))
    )


def test_a_280_character_url_stays_within_version_12() -> None:
    symbol = make_symbol("https://zc.example.cn/v/" + "a" * 256)  # 280 bytes: 12-M holds 287
    assert symbol.version <= 12
    assert symbol.modules.shape[0] >= 21  # never a Micro QR


def test_layout_round_trips_through_json() -> None:
    layout = default_layout()
    assert Layout.from_json(layout.to_json()) == layout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda data: data["qr"].update(w=25, h=25), "至少 30 mm"),
        (lambda data: data["seal"].update(x=280), "超出了页面"),
        (lambda data: data["fields"].append({**data["fields"][0], "key": "shoe_size"}), "未知的字段"),
        (lambda data: data["fields"].append(dict(data["fields"][0])), "重复"),
        (lambda data: data["fields"][0].update(align="justify"), "对齐方式"),
        (lambda data: data["fields"][0].update(size=200), "size"),
    ],
    ids=["small qr", "off the page", "unknown field", "duplicate field", "bad alignment", "huge font"],
)
def test_bad_layouts_are_refused_with_a_reason(change: object, message: str) -> None:
    data = json.loads(default_layout().to_json())
    change(data)  # type: ignore[operator]
    with pytest.raises(LayoutError, match=message):
        parse_layout(data)
