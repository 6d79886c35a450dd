"""The pure parts of a case: form checks, derived numbers, eligibility and the chain of steps, on the real
presets' definitions (no database)."""

from __future__ import annotations

import time
from datetime import date

import pytest

from accounts.roles import Role
from cases.forms import clean_fields, doc_no_with_id_tail, missing_fields, refusal
from cases.workflow import PlanError, plan_steps, with_recheck
from tenants.authority import OrgTree
from tenants.preset_reader import PresetError
from tenants.presets import preset_paths, read_preset
from tenants.procedures import ProcedureDefinition, definition_from_text
from tenants.vocabulary import Procedure

TODAY = date(2026, 11, 23)
PRESETS = {path.stem: read_preset(path) for path in preset_paths()}
TREE = OrgTree(PRESETS["gansu"].orgs)


def definition(slug: str, procedure: Procedure) -> tuple[ProcedureDefinition, OrgTree]:
    preset = PRESETS[slug]
    tree = OrgTree(preset.orgs)
    kinds = frozenset(node.kind for node in preset.orgs)
    return definition_from_text(preset.procedures[procedure], procedure, preset.series, kinds, slug), tree


def test_synthesized_certificate_number_of_the_seed() -> None:
    # 甘人社通〔2021〕166号 二(二)2, its own example.
    assert doc_no_with_id_tail("甘职改办〔2013〕121号", "622826198501306421") == "甘职改办〔2013〕1216421号"
    assert doc_no_with_id_tail("甘职改办〔2013〕121 号", "622826198501306421") == "甘职改办〔2013〕1216421号"


def test_collection_form_derives_the_number_when_forgotten() -> None:
    collection, tree = definition("gansu", Procedure.collection)
    known = {"id_number": "622826198501306421", "qualification_doc_no": "甘职改办〔2013〕121号"}
    raw = {
        "certificate_status": "遗失",
        "review_form_status": "有",
        "qualification_doc_status": "有",
        "certificate_no_known": "false",
        "certificate_no": "whatever was typed",
    }
    cleaned = clean_fields(collection.parts[2].fields, raw, known, tree=tree, today=TODAY)
    assert cleaned.errors == {}
    assert cleaned.values["certificate_no"] == "甘职改办〔2013〕1216421号"
    # Remembered: the typed number is required and kept.
    cleaned = clean_fields(
        collection.parts[2].fields,
        {**raw, "certificate_no_known": "true", "certificate_no": ""},
        known,
        tree=tree,
        today=TODAY,
    )
    assert cleaned.errors == {"certificate_no": "请填写证书编号"}


def test_document_number_is_checked_and_normalised() -> None:
    reissue, tree = definition("gansu", Procedure.reissue)
    fields = reissue.parts[1].fields
    # A Chinese input method types the full-width space (U+3000), which RE2's \s does not cover.
    for typed in ("甘职改办[2013]121 号", "甘职改办　〔2013〕　121号"):
        good = clean_fields(fields, {"qualification_doc_no": typed}, {}, tree=tree, today=TODAY)
        assert good.values["qualification_doc_no"] == "甘职改办〔2013〕121号"
    bad = clean_fields(fields, {"qualification_doc_no": "121号"}, {}, tree=tree, today=TODAY)
    assert bad.errors["qualification_doc_no"] == "资格文件号格式应如“甘职改办〔2013〕121号”"

    digitization, tree = definition("ningxia", Procedure.digitization)
    fields = digitization.parts[1].fields
    typings = ("宁人社函[2019]210号", "宁人社函〔2019〕210号", "宁人社函［2019］210 号")
    for typed in (*typings, "宁人社函　[2019]　210号"):
        cleaned = clean_fields(fields, {"qualification_doc_no": typed}, {}, tree=tree, today=TODAY)
        assert cleaned.values["qualification_doc_no"] == "宁人社函[2019]210号"
    cleaned = clean_fields(
        fields, {"qualification_doc_no": "原人社发〔2019〕210号"}, {}, tree=tree, today=TODAY
    )
    assert "宁人社函[XXXX]XX号" in cleaned.errors["qualification_doc_no"]


def test_each_field_type_refuses_bad_input_with_its_message() -> None:
    digitization, tree = definition("ningxia", Procedure.digitization)
    raw = {
        "holder_name": "",
        "id_number": "622826198501306422",  # wrong check digit
        "gender": "未知",
        "employer": "640000-province_office",  # not an employer
    }
    cleaned = clean_fields(digitization.parts[0].fields, raw, {}, tree=tree, today=TODAY)
    assert cleaned.errors["holder_name"] == "请填写姓名"
    assert "校验" in cleaned.errors["id_number"]
    assert cleaned.errors["gender"] == "请从列表中选择性别"
    assert cleaned.errors["employer"] == "请从列表中选择所在单位"
    raw = {"obtained_on": "2030-01-01", "issuing_body": "宁夏回族自治区教育厅", "level": "intermediate"}
    cleaned = clean_fields(digitization.parts[1].fields, raw, {}, tree=tree, today=TODAY)
    assert cleaned.errors["obtained_on"] == "发证时间不能晚于今天"
    assert cleaned.errors["issuing_body"] == "请从列表中选择发证单位"  # only the four bodies of 一(一)
    assert cleaned.errors["level"] == "请从列表中选择级别"  # 高级 only
    cleaned = clean_fields(
        digitization.parts[1].fields, {"obtained_on": "2019-13-01"}, {}, tree=tree, today=TODAY
    )
    assert cleaned.errors["obtained_on"] == "发证时间应为日期，如 2015-06-30"


def test_collection_branches_refuse_to_the_letter() -> None:
    collection, _ = definition("gansu", Procedure.collection)
    base = {
        "certificate_status": "有",
        "review_form_status": "有",
        "qualification_doc_status": "有",
        "level": "intermediate",
        "obtained_where": "我省评审或认定",
    }
    assert refusal(collection, base) is None
    both_missing = refusal(
        collection, {**base, "review_form_status": "缺失", "qualification_doc_status": "缺失"}
    )
    assert both_missing is not None and both_missing.cite == "甘人社通〔2021〕166号 二(五)"
    lost_senior = refusal(collection, {**base, "certificate_status": "遗失", "level": "associate_senior"})
    assert lost_senior is not None and "老证书管理号无法提供时填写 -1" in lost_senior.refuse
    assert (
        refusal(collection, {**base, "certificate_status": "遗失"}) is None
    )  # 中、初级: a statement instead
    out_of_province = refusal(collection, {**base, "obtained_where": "部队评审"})
    assert out_of_province is not None and out_of_province.cite == "甘人社通〔2021〕166号 三"


def test_collection_attachments_follow_the_missing_document() -> None:
    collection, _ = definition("gansu", Procedure.collection)

    def required(values: dict[str, str]) -> set[str]:
        return {spec.slot for spec in collection.attachments if spec.is_required(values)}

    complete = {"certificate_status": "有", "review_form_status": "有", "qualification_doc_status": "有"}
    assert required(complete) == {"certificate_scan", "review_form", "qualification_doc"}
    # 二(二)2 lost junior/intermediate certificate → the employer's statement in the certificate's place
    assert "certificate_statement" in required({**complete, "certificate_status": "遗失"})
    # 二(三) missing review form → the office-approved statement in the review form's place
    assert "review_form_statement" in required({**complete, "review_form_status": "缺失"})
    # 二(四) missing qualification document → appointment document + statement under "other"
    assert {"qualification_doc", "other"} <= required({**complete, "qualification_doc_status": "缺失"})


def test_missing_fields_lists_conditional_requirements() -> None:
    reissue, _ = definition("gansu", Procedure.reissue)
    missing = missing_fields(reissue, {"route": "exam"})
    assert missing["certificate"] == "请填写以考代评证书类别"
    assert "certificate" not in missing_fields(reissue, {"route": "review"})


def test_collection_chain_climbs_every_org_to_the_province() -> None:
    collection, tree = definition("gansu", Procedure.collection)
    plan = plan_steps(
        collection,
        tree,
        employer="620102-employer-school",
        authority="620100-city_office",
        filer_org=None,
        values={},
    )
    assert [(step.org, step.role) for step in plan] == [
        ("620102-employer-school", Role.org_admin),
        ("620102-county_hr", Role.reviewer),
        ("620100-city_office", Role.reviewer),
        ("620000-province_office", Role.reviewer),
    ]


def test_digitization_skips_offices_the_unit_does_not_have() -> None:
    digitization, tree = definition("ningxia", Procedure.digitization)
    county = plan_steps(
        digitization,
        tree,
        employer="640402-employer-school",
        authority="640000-province_office",
        filer_org=None,
        values={},
    )
    assert [(step.org, step.role) for step in county] == [
        ("640402-employer-school", Role.org_admin),
        ("640402-county_hr", Role.reviewer),
        ("640000-province_office", Role.reviewer),
        ("640000-province_office", Role.sealer),
    ]
    region = plan_steps(
        digitization,
        tree,
        employer="640000-employer-agri-station",
        authority="640000-province_office",
        filer_org=None,
        values={},
    )
    assert [(step.org, step.role) for step in region][:2] == [
        ("640000-employer-agri-station", Role.org_admin),
        ("640000-department-nynct", Role.org_admin),  # 二(2) 行业主管部门
    ]


def test_guangxi_review_office_must_be_own_or_superior() -> None:
    issuance, tree = definition("guangxi", Procedure.issuance)
    plan = plan_steps(
        issuance,
        tree,
        employer="450700-city_office",
        authority="450000-province_office",
        filer_org="450700-city_office",
        values={"review_office": "450000-province_office"},
    )
    assert [(step.org, step.role) for step in plan] == [
        ("450000-province_office", Role.reviewer),
        ("450000-province_office", Role.sealer),
    ]
    with pytest.raises(PlanError, match="不是本级或上级机构"):
        plan_steps(
            issuance,
            tree,
            employer="450700-city_office",
            authority="450000-province_office",
            filer_org="450700-city_office",
            values={"review_office": "450100-city_office"},
        )


def test_recheck_goes_to_the_province_office_then_back_on_the_chain() -> None:
    reissue, tree = definition("gansu", Procedure.reissue)
    plan = plan_steps(
        reissue,
        tree,
        employer="620102-employer-school",
        authority="620102-county_hr",
        filer_org="620102-employer-school",
        values={},
    )
    assert plan[1].recheck_to == "620000-province_office"
    rechecked = with_recheck(plan, 1)
    assert [(step.org, step.role, step.recheck) for step in rechecked][1:] == [
        ("620102-county_hr", Role.reviewer, False),
        ("620000-province_office", Role.reviewer, True),
        ("620102-county_hr", Role.sealer, False),
    ]
    at_province = plan_steps(
        reissue,
        tree,
        employer="620000-employer-soe-energy",
        authority="620000-province_office",
        filer_org="620000-employer-soe-energy",
        values={},
    )
    with pytest.raises(PlanError):
        with_recheck(at_province, 1)  # the province office does not recheck with itself


def test_a_broken_definition_names_its_line() -> None:
    preset = PRESETS["gansu"]
    kinds = frozenset(node.kind for node in preset.orgs)
    text = preset.procedures[Procedure.reissue].replace("at: authority", "at: somewhere", 1)
    with pytest.raises(PresetError) as error:
        definition_from_text(text, Procedure.reissue, preset.series, kinds, "reissue")
    assert error.value.line is not None and "somewhere" in str(error.value)


OLD_NUMBER_PATTERN = "pattern: ^(-1|[0-9A-Za-z][0-9A-Za-z-]{0,31})$"


def reissue_with_old_number_pattern(pattern: str) -> ProcedureDefinition:
    """The Gansu reissue definition with an administrator's own pattern for the old certificate number."""
    preset = PRESETS["gansu"]
    text = preset.procedures[Procedure.reissue]
    assert OLD_NUMBER_PATTERN in text
    kinds = frozenset(node.kind for node in preset.orgs)
    edited = text.replace(OLD_NUMBER_PATTERN, f"pattern: {pattern}", 1)
    return definition_from_text(edited, Procedure.reissue, preset.series, kinds, "reissue")


def test_a_catastrophic_pattern_answers_at_once() -> None:
    # '^(a+)+$' backtracks exponentially in Python's re: 26 characters took 7 s in the event loop.
    reissue = reissue_with_old_number_pattern("'^(a+)+$'")
    fields = reissue.parts[1].fields
    started = time.perf_counter()
    cleaned = clean_fields(fields, {"old_certificate_no": "a" * 30 + "!"}, {}, tree=TREE, today=TODAY)
    assert time.perf_counter() - started < 1
    assert cleaned.errors["old_certificate_no"].startswith("老证书管理号只能是")
    accepted = clean_fields(fields, {"old_certificate_no": "a" * 30}, {}, tree=TREE, today=TODAY)
    assert accepted.values["old_certificate_no"] == "a" * 30


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"'^(?=\d)[0-9A-Z]+$'", "(?="),  # lookahead
        (r"'^(?<!-)\d+$'", "(?<"),  # lookbehind
        (r"'^(\d)\1$'", r"\1"),  # backreference
        ("'^(a$'", "missing )"),
    ],
)
def test_a_pattern_re2_cannot_run_is_refused_with_its_line(pattern: str, problem: str) -> None:
    with pytest.raises(PresetError) as error:
        reissue_with_old_number_pattern(pattern)
    assert error.value.line is not None
    assert "old_certificate_no 的 pattern 不能使用" in error.value.message
    assert "前后断言" in error.value.message and problem in error.value.message


def test_a_normalize_template_must_name_groups_the_pattern_has() -> None:
    preset = PRESETS["gansu"]
    kinds = frozenset(node.kind for node in preset.orgs)
    text = preset.procedures[Procedure.reissue]
    text = text.replace(r"normalize: \1〔\2〕\3号", r"normalize: \1〔\2〕\4号", 1)
    with pytest.raises(PresetError) as error:
        definition_from_text(text, Procedure.reissue, preset.series, kinds, "reissue")
    assert error.value.line is not None and r"\4" in error.value.message
