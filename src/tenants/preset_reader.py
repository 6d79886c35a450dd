"""Reading reviewed YAML data files: every mapping remembers its line, repeated keys are refused, and every
complaint is a ``PresetError`` naming the file and line."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

import yaml


class PresetError(ValueError):
    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source, self.line, self.message = source, line, message
        where = f"{source} 第{line}行" if line else source
        super().__init__(f"{where}：{message}")


class Mapping(dict):
    line: int


class LineLoader(yaml.SafeLoader):
    """A safe loader whose mappings remember the (1-based) line they start on and refuse repeated keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        duplicates = {key for key in keys if keys.count(key) > 1}
        if duplicates:
            raise yaml.constructor.ConstructorError(
                None, None, f"重复的键 {sorted(map(str, duplicates))}", node.start_mark
            )
        return super().construct_mapping(node, deep=deep)


def construct_line_mapping(loader: LineLoader, node: yaml.MappingNode) -> Iterator[Mapping]:
    mapping = Mapping()
    mapping.line = node.start_mark.line + 1
    yield mapping
    mapping.update(loader.construct_mapping(node))


LineLoader.add_constructor("tag:yaml.org,2002:map", construct_line_mapping)


E = TypeVar("E", bound=StrEnum)


class Reader:
    """Checks one parsed file; every complaint names the line of the mapping it is about."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: Any, message: str) -> PresetError:
        return PresetError(self.source, getattr(where, "line", None), message)

    def mapping(self, value: Any, what: str, parent: Any, required: set[str], optional: set[str]) -> Mapping:
        if not isinstance(value, dict):
            raise self.fail(parent, f"{what} 应为映射（key: value）")
        unknown = sorted(set(value) - required - optional, key=str)
        if unknown:
            raise self.fail(value, f"{what} 含未知字段 {', '.join(map(str, unknown))}")
        missing = sorted(required - set(value))
        if missing:
            raise self.fail(value, f"{what} 缺少字段 {', '.join(missing)}")
        return value  # type: ignore[return-value]

    def text(self, mapping: Mapping, key: str, pattern: re.Pattern[str] | None = None) -> str:
        value = mapping[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(mapping, f"{key} 应为非空文本")
        if pattern is not None and not pattern.match(value):
            raise self.fail(mapping, f"{key} 的值 “{value}” 格式不正确")
        return value

    def texts(self, mapping: Mapping, key: str, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
        values = mapping.get(key, [])
        if not isinstance(values, list) or not all(isinstance(value, str) and value for value in values):
            raise self.fail(mapping, f"{key} 应为文本列表")
        for value in values:
            if pattern is not None and not pattern.match(value):
                raise self.fail(mapping, f"{key} 中的 “{value}” 格式不正确")
        return tuple(values)

    def members(self, mapping: Mapping, key: str, enum: type[E] | Callable[[str], Any]) -> tuple[Any, ...]:
        raw = mapping[key]
        values = raw if isinstance(raw, list) else [raw]
        if not values:
            raise self.fail(mapping, f"{key} 不能为空列表")
        result = []
        for value in values:
            try:
                result.append(enum(value))
            except (ValueError, TypeError):
                allowed = ", ".join(member.value for member in enum) if isinstance(enum, type) else ""
                raise self.fail(mapping, f"{key} 的值 “{value}” 不存在（可选：{allowed}）") from None
        return tuple(result)

    def day(self, mapping: Mapping, key: str) -> date:
        value = mapping[key]
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(mapping, f"{key} 应为日期 YYYY-MM-DD") from None
