"""Certificate layouts: where each field, the seal, the QR code and the photo go, in millimetres from the
page's top-left corner (how administrators measure a printed certificate). Stored as JSON and checked here."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

# The fields of the regional sample certificate (钦人社发〔2020〕1号 附件1), in its order, with their labels.
FIELD_LABELS: dict[str, str] = {
    "certificate_number": "证号",
    "name": "姓名",
    "gender": "性别",
    "id_number": "身份证号",
    "series": "职称系列",
    "title_name": "职称名称",
    "specialty": "专业名称",
    "obtained_on": "取得资格时间",
    "review_body": "评审机构",
    "issuer": "发证机关",
    "url": "证书网址",
    "issue_date": "发证日期",
}
ALIGNMENTS = ("left", "center", "right")
MM = 72 / 25.4  # PDF points per millimetre


class LayoutError(ValueError):
    """Chinese, shown next to the layout editor's field."""


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    def points(self, page_height_mm: float) -> tuple[float, float, float, float]:
        """(x, y, w, h) in PDF points with the origin at the bottom left."""
        return (self.x * MM, (page_height_mm - self.y - self.h) * MM, self.w * MM, self.h * MM)


@dataclass(frozen=True)
class FieldBox(Box):
    key: str
    size: float = 12.0
    align: str = "left"

    @property
    def label(self) -> str:
        return FIELD_LABELS[self.key]


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    fields: tuple[FieldBox, ...]
    seal: Box
    qr: Box
    photo: Box | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Layout:
        return parse_layout(json.loads(text))


def _number(data: dict[str, Any], key: str, where: str, low: float, high: float) -> float:
    value = data.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        raise LayoutError(f"{where}的 {key} 应为 {low:g} 到 {high:g} 之间的数")
    return float(value)


def _box(data: Any, where: str, width: float, height: float) -> Box:
    if not isinstance(data, dict):
        raise LayoutError(f"缺少{where}")
    box = Box(
        _number(data, "x", where, 0, width),
        _number(data, "y", where, 0, height),
        _number(data, "w", where, 1, width),
        _number(data, "h", where, 1, height),
    )
    if box.x + box.w > width + 0.01 or box.y + box.h > height + 0.01:
        raise LayoutError(f"{where}超出了页面")
    return box


def parse_layout(data: Any) -> Layout:
    if not isinstance(data, dict):
        raise LayoutError("版式应为 JSON 对象")
    width = _number(data, "width", "页面", 50, 600)
    height = _number(data, "height", "页面", 50, 600)
    fields = []
    seen = set()
    for entry in data.get("fields") or []:
        key = entry.get("key") if isinstance(entry, dict) else None
        if key not in FIELD_LABELS:
            raise LayoutError(f"未知的字段 {key!r}")
        if key in seen:
            raise LayoutError(f"字段“{FIELD_LABELS[key]}”重复")
        seen.add(key)
        box = _box(entry, f"字段“{FIELD_LABELS[key]}”", width, height)
        align = entry.get("align", "left")
        if align not in ALIGNMENTS:
            raise LayoutError(f"字段“{FIELD_LABELS[key]}”的对齐方式应为 left、center 或 right")
        size = _number(entry, "size", f"字段“{FIELD_LABELS[key]}”", 5, 48) if "size" in entry else 12.0
        fields.append(FieldBox(box.x, box.y, box.w, box.h, key, size, align))
    seal = _box(data.get("seal"), "印章框", width, height)
    qr = _box(data.get("qr"), "二维码框", width, height)
    if min(qr.w, qr.h) < 30:
        raise LayoutError("二维码框至少 30 mm 宽，手机才能可靠识别")
    photo = _box(data["photo"], "照片框", width, height) if data.get("photo") else None
    return Layout(width, height, tuple(fields), seal, qr, photo)


def default_layout() -> Layout:
    """A4 landscape: labels in a left column, values beside them, photo top right, seal over the issuer and
    date, QR code bottom left."""
    rows = list(FIELD_LABELS)
    fields = tuple(
        FieldBox(x=68, y=52 + index * 10.5, w=120, h=8, key=key, size=12 if key != "url" else 9)
        for index, key in enumerate(rows)
    )
    return Layout(
        width=297,
        height=210,
        fields=fields,
        seal=Box(x=196, y=124, w=42, h=42),
        qr=Box(x=244, y=150, w=36, h=36),
        photo=Box(x=232, y=52, w=35, h=45),
    )


def layout_from_form(values: dict[str, str], current: Layout) -> dict[str, Any]:
    """The layout editor's form (``<key>.x`` … for fields, ``seal.x`` …, ``qr.x`` …, ``photo.x`` …) as layout
    data for parse_layout; a box the form leaves out keeps its current values."""
    data: dict[str, Any] = json.loads(current.to_json())

    def number(name: str, fallback: float) -> float:
        raw = values.get(name, "").strip()
        if not raw:
            return fallback
        try:
            return float(raw)
        except ValueError:
            raise LayoutError(f"“{raw}”不是数字（{name}）") from None

    for entry in data["fields"]:
        for part in ("x", "y", "w", "h", "size"):
            entry[part] = number(f"{entry['key']}.{part}", entry[part])
        entry["align"] = values.get(f"{entry['key']}.align", entry["align"])
    for name in ("seal", "qr", "photo"):
        if data.get(name):
            for part in ("x", "y", "w", "h"):
                data[name][part] = number(f"{name}.{part}", data[name][part])
    return data
