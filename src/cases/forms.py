"""Checking what a filer typed against a procedure's form (tenants.procedures): plain functions, no database.

Every value is checked on the server; a bad value gives a Chinese message for its field and the raw input is
kept by the caller, so the form comes back as it was typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from accounts.identity import IdNumberError, normalize_id_number
from tenants.authority import OrgTree
from tenants.procedures import (
    Derivation,
    Eligibility,
    FieldSpec,
    FieldType,
    ProcedureDefinition,
    holds,
)

EARLIEST_DATE = date(1949, 10, 1)
NAME_MAX = 32
FLAG_LABELS = {True: "是", False: "否"}


@dataclass(frozen=True)
class Cleaned:
    values: dict[str, Any]  # field name → stored value (dates as ISO text, flags as bool)
    errors: dict[str, str]  # field name → message
    # Why the values entered so far make the case ineligible (cases.services.screen), and its field.
    refusal: str = ""
    refusal_field: str | None = None


def doc_no_with_id_tail(doc_no: str, id_number: str) -> str:
    """甘人社通〔2021〕166号 二(二)2: 资格文件号 + 身份证后四位, e.g. 甘职改办〔2013〕121号 + …6421 →
    甘职改办〔2013〕1216421号."""
    stem = re.sub(r"\s*号\s*$", "", doc_no.strip())
    return f"{stem}{id_number[-4:]}号"


def _derive(spec: FieldSpec, values: Mapping[str, Any]) -> str | None:
    if spec.derive is Derivation.doc_no_with_id_tail and spec.derive_from:
        source, id_number = values.get(spec.derive_from), values.get("id_number")
        if source and id_number:
            return doc_no_with_id_tail(str(source), str(id_number))
    return None


def _clean_value(spec: FieldSpec, raw: str, tree: OrgTree, today: date) -> Any:
    """The stored value of one non-empty input; raises ValueError with the message for the field."""
    if spec.type is FieldType.id_number:
        try:
            return normalize_id_number(raw, today=today)
        except IdNumberError as error:
            raise ValueError(str(error)) from None
    if spec.type is FieldType.name:
        name = " ".join(raw.split())
        if len(name) > NAME_MAX:
            raise ValueError(f"{spec.label}最多{NAME_MAX}个字")
        return name
    if spec.type is FieldType.date:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{spec.label}应为日期，如 2015-06-30") from None
        if day < EARLIEST_DATE:
            raise ValueError(f"{spec.label}不能早于 {EARLIEST_DATE.isoformat()}")
        if spec.not_after_today and day > today:
            raise ValueError(f"{spec.label}不能晚于今天")
        return day.isoformat()
    if spec.type is FieldType.flag:
        if raw not in ("true", "false"):
            raise ValueError(f"请选择“{spec.label}”：是或否")
        return raw == "true"
    if spec.type is FieldType.org:
        if raw not in tree or tree[raw].kind not in spec.org_kinds:
            raise ValueError(f"请从列表中选择{spec.label}")
        return raw
    if spec.choices:
        if raw not in {value for value, _ in spec.choices}:
            raise ValueError(f"请从列表中选择{spec.label}")
        return raw
    if len(raw) > spec.max_length:
        raise ValueError(f"{spec.label}最多{spec.max_length}个字")
    if spec.pattern is not None:
        match = spec.pattern.fullmatch(raw)
        if match is None:
            raise ValueError(spec.pattern_message or f"{spec.label}格式不正确")
        if spec.normalize is not None:
            return match.expand(spec.normalize)
    return raw


def clean_fields(
    fields: tuple[FieldSpec, ...],
    raw: Mapping[str, str],
    known: Mapping[str, Any],
    *,
    tree: OrgTree,
    today: date,
    locked: frozenset[str] = frozenset(),
) -> Cleaned:
    """Checks ``fields`` from ``raw`` input; ``known`` holds the case's other values (for conditions that
    look at earlier parts). ``locked`` fields keep their known value whatever was sent (the applicant's own
    name and ID number)."""
    values: dict[str, Any] = dict(known)
    errors: dict[str, str] = {}
    for spec in fields:
        if spec.name in locked:
            continue
        if spec.derive_when is not None and holds(spec.derive_when, values):
            derived = _derive(spec, values)
            if derived is not None:
                values[spec.name] = derived
                continue
        text = (raw.get(spec.name) or "").strip()
        if not text:
            values.pop(spec.name, None)
            if spec.is_required(values):
                chosen = spec.choices or spec.type in (FieldType.org, FieldType.flag)
                errors[spec.name] = f"请{'选择' if chosen else '填写'}{spec.label}"
            continue
        try:
            values[spec.name] = _clean_value(spec, text, tree, today)
        except ValueError as error:
            values.pop(spec.name, None)
            errors[spec.name] = str(error)
    return Cleaned(values, errors)


def missing_fields(definition: ProcedureDefinition, values: Mapping[str, Any]) -> dict[str, str]:
    """Required fields still empty, for the final check before submission."""
    return {
        spec.name: f"请填写{spec.label}"
        for spec in definition.fields
        if spec.is_required(dict(values)) and values.get(spec.name) in (None, "")
    }


def refusal(
    definition: ProcedureDefinition, values: Mapping[str, Any], entered: frozenset[str] | None = None
) -> Eligibility | None:
    """The first eligibility rule on the form's values that refuses the case; with ``entered``, only the rules
    whose inputs are all among those fields (the form so far)."""
    for rule in definition.eligibility:
        if rule.when is None or (entered is not None and not set(rule.when) <= entered):
            continue
        if holds(rule.when, dict(values)):
            return rule
    return None


def display_value(spec: FieldSpec, value: Any, tree: OrgTree) -> str:
    """How a stored value reads in Chinese (choices by label, orgs by name, flags as 是/否)."""
    if value is None or value == "":
        return ""
    if spec.type is FieldType.flag:
        return FLAG_LABELS[bool(value)]
    if spec.type is FieldType.org:
        return tree[value].name if value in tree else str(value)
    for choice, label in spec.choices:
        if choice == value:
            return label
    return str(value)
