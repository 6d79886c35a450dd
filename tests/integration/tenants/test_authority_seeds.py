"""One row per bullet of the seeds' authority sections, asked through the public JSON API.

Seeds: 000 = 甘职改办〔2020〕2号 (reissue), 001 = 甘人社通〔2021〕166号 (collection),
002 = 甘人社明电〔2019〕90号 附件2 (issuance), 003 = 原人社函〔2021〕85号 (Ningxia digitization),
004 = 钦人社发〔2020〕1号 (Guangxi issuance).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

# Gansu org codes from src/tenants/presets/gansu.yaml
COUNTY_UNIT = "620102-employer-school"  # 城关区第一中学, under 城关区人社局 under 兰州市职改办
COUNTY_HR = "620102-county_hr"
LANZHOU = "620100-city_office"
CITY_UNIT = "620100-employer-hospital"
PROVINCE = "620000-province_office"
PROVINCIAL_UNIT = "620000-employer-agri-institute"  # under 省农业农村厅
PROVINCIAL_SOE = "620000-employer-soe-energy"  # directly under the province office, no department
AGRI_DEPT = "620000-department-nynct"
UNIVERSITY = "620000-university-lzu"
ARCHIVE_PROVINCE = "620000-archive_agency-rcsc"
ARCHIVE_CITY = "620100-archive_agency-rcsc"
ARCHIVE_COUNTY = "620102-archive_agency-rcsc"
COUNTY_COMMITTEE = "620102-committee-teacher-mid"
CITY_COMMITTEE = "620100-committee-engineering-mid"
TIANSHUI_COMMITTEE = "620500-committee-health-mid"
TIANSHUI = "620500-city_office"
PROVINCE_COMMITTEE_IN_DEPT = "620000-committee-agri-mid"
PROVINCE_COMMITTEE_DIRECT = "620000-committee-special-senior"
UNIVERSITY_COMMITTEE = "620000-committee-lzu-senior"
XINQU_UNIT = "620000-employer-lzxq-hospital"
XINQU = "620000-lzxq-city_office"

PAPER_ERA = "2012-07-01"

# (seed and section, query, expected office code or "refused: <fragment of the message>")
GANSU: list[tuple[str, dict[str, str], str]] = [
    # --- seed 000 二: scope ---
    (
        "000 二(三) 国证 → 省人力资源考试中心",
        {
            "procedure": "reissue",
            "route": "exam",
            "level": "intermediate",
            "employer": COUNTY_UNIT,
            "obtained": PAPER_ERA,
            "certificate": "national",
        },
        "refused: 请按省人力资源考试中心的相关要求补办",
    ),
    (
        "000 二 obtained after 2018 → refused",
        {
            "procedure": "reissue",
            "route": "review",
            "level": "junior",
            "employer": COUNTY_UNIT,
            "obtained": "2019-01-01",
        },
        "refused: 只有2018年底前取得的纸质证书可以补办",
    ),
    (
        "000 二 obtained on the last day of 2018 → qualifies",
        {
            "procedure": "reissue",
            "route": "review",
            "level": "junior",
            "employer": COUNTY_UNIT,
            "obtained": "2018-12-31",
        },
        COUNTY_HR,
    ),
    (
        "000 二 obtained date unknown → asked for",
        {"procedure": "reissue", "route": "review", "level": "junior", "employer": COUNTY_UNIT},
        "refused: 请填写取得资格时间",
    ),
    (
        "000 二(三) 省证 only intermediate/junior",
        {
            "procedure": "reissue",
            "route": "exam",
            "level": "associate_senior",
            "employer": COUNTY_UNIT,
            "obtained": PAPER_ERA,
        },
        "refused: 只有中、初级",
    ),
    (
        "000 二 reconfirmation is not a Gansu route",
        {
            "procedure": "reissue",
            "route": "reconfirmation",
            "level": "intermediate",
            "employer": COUNTY_UNIT,
            "obtained": PAPER_ERA,
        },
        "refused: 重新确认",
    ),
    # --- seed 000 三(一) county HR ---
    (
        "000 三(一) county unit, review junior → county HR",
        {
            "procedure": "reissue",
            "route": "review",
            "level": "junior",
            "employer": COUNTY_UNIT,
            "obtained": PAPER_ERA,
        },
        COUNTY_HR,
    ),
    (
        "000 三(一) county unit, recognition junior → county HR",
        {
            "procedure": "reissue",
            "route": "recognition",
            "level": "junior",
            "employer": COUNTY_UNIT,
            "obtained": PAPER_ERA,
        },
        COUNTY_HR,
    ),
    (
        "000 三(一) county archive agency, junior → county HR",
        {
            "procedure": "reissue",
            "route": "recognition",
            "level": "junior",
            "employer": ARCHIVE_COUNTY,
            "obtained": PAPER_ERA,
        },
        COUNTY_HR,
    ),
    # --- seed 000 三(二) city office ---
    (
        "000 三(二)1 county unit, review intermediate → city office",
        {
            "procedure": "reissue",
            "route": "review",
            "level": "intermediate",
            "employer": COUNTY_UNIT,
            "obtained": PAPER_ERA,
        },
        LANZHOU,
    ),
    (
        "000 三(二)1 county unit, recognition associate senior → city office",
        {
            "procedure": "reissue",
            "route": "recognition",
            "level": "associate_senior",
            "employer": COUNTY_UNIT,
            "obtained": PAPER_ERA,
        },
        LANZHOU,
    ),
    (
        "000 三(二)2 city unit, review junior → city office",
        {
            "procedure": "reissue",
            "route": "review",
            "level": "junior",
            "employer": CITY_UNIT,
            "obtained": PAPER_ERA,
        },
        LANZHOU,
    ),
    (
        "000 三(二)2 city committee, junior of a county unit → that committee's city office",
        {
            "procedure": "reissue",
            "route": "review",
            "level": "junior",
            "employer": COUNTY_UNIT,
            "committee": TIANSHUI_COMMITTEE,
            "obtained": PAPER_ERA,
        },
        TIANSHUI,
    ),
    (
        "000 三(二)3 city unit, recognition associate senior → city office",
        {
            "procedure": "reissue",
            "route": "recognition",
            "level": "associate_senior",
            "employer": CITY_UNIT,
            "obtained": PAPER_ERA,
        },
        LANZHOU,
    ),
    (
        "000 三(二) 兰州新区 acts as a city office",
        {
            "procedure": "reissue",
            "route": "review",
            "level": "intermediate",
            "employer": XINQU_UNIT,
            "obtained": PAPER_ERA,
        },
        XINQU,
    ),
    # --- seed 000 三(三) province office ---
    (
        "000 三(三)1 full senior of a county unit → province office",
        {
            "procedure": "reissue",
            "route": "review",
            "level": "senior",
            "employer": COUNTY_UNIT,
            "committee": PROVINCE_COMMITTEE_DIRECT,
            "obtained": PAPER_ERA,
        },
        PROVINCE,
    ),
    (
        "000 三(三)2 provincial unit, junior → province office",
        {
            "procedure": "reissue",
            "route": "recognition",
            "level": "junior",
            "employer": PROVINCIAL_UNIT,
            "obtained": PAPER_ERA,
        },
        PROVINCE,
    ),
    (
        "000 三(三)2 provincial enterprise, associate senior → province office",
        {
            "procedure": "reissue",
            "route": "review",
            "level": "associate_senior",
            "employer": PROVINCIAL_SOE,
            "obtained": PAPER_ERA,
        },
        PROVINCE,
    ),
    (
        "000 三(三)3 省证 intermediate before end 2018 → province office",
        {
            "procedure": "reissue",
            "route": "exam",
            "level": "intermediate",
            "employer": COUNTY_UNIT,
            "obtained": "2016-05-01",
        },
        PROVINCE,
    ),
    (
        "000 三(三)4 university teacher before autonomous review → province office",
        {
            "procedure": "reissue",
            "route": "review",
            "level": "associate_senior",
            "employer": UNIVERSITY,
            "obtained": "2010-01-01",
        },
        PROVINCE,
    ),
    (
        "000 三 unlisted: county unit's recognised full senior → refused, not guessed",
        {
            "procedure": "reissue",
            "route": "recognition",
            "level": "senior",
            "employer": COUNTY_UNIT,
            "obtained": PAPER_ERA,
        },
        "refused: 请联系省职改办确认补办机构",
    ),
    # --- seed 001 collection ---
    (
        "001 三 以考代评 titles are not collected",
        {"procedure": "collection", "route": "exam", "level": "junior", "employer": COUNTY_UNIT},
        "refused: 不列入信息采集填报范围",
    ),
    (
        "001 二(三) county unit junior → county HR (reissue permissions)",
        {"procedure": "collection", "route": "recognition", "level": "junior", "employer": COUNTY_UNIT},
        COUNTY_HR,
    ),
    (
        "001 二(三) county unit intermediate → city office (reissue permissions)",
        {"procedure": "collection", "route": "review", "level": "intermediate", "employer": COUNTY_UNIT},
        LANZHOU,
    ),
    (
        "001 二(三) provincial unit → province office (reissue permissions)",
        {"procedure": "collection", "route": "review", "level": "intermediate", "employer": PROVINCIAL_UNIT},
        PROVINCE,
    ),
    (
        "001 二(三) full senior → province office (reissue permissions)",
        {"procedure": "collection", "route": "review", "level": "senior", "employer": CITY_UNIT},
        PROVINCE,
    ),
    # --- seed 002 附件2 三(一)1 issuance, recognition route ---
    (
        "002 三(一)1(1) county unit junior → county HR",
        {"procedure": "issuance", "route": "recognition", "level": "junior", "employer": COUNTY_UNIT},
        COUNTY_HR,
    ),
    (
        "002 三(一)1(1) county unit intermediate → city office",
        {"procedure": "issuance", "route": "recognition", "level": "intermediate", "employer": COUNTY_UNIT},
        LANZHOU,
    ),
    (
        "002 三(一)1(2) city unit senior → city office",
        {"procedure": "issuance", "route": "recognition", "level": "senior", "employer": CITY_UNIT},
        LANZHOU,
    ),
    (
        "002 三(一)1(2) city unit junior → city office",
        {"procedure": "issuance", "route": "recognition", "level": "junior", "employer": CITY_UNIT},
        LANZHOU,
    ),
    (
        "002 三(一)1(3) provincial unit intermediate → its department",
        {
            "procedure": "issuance",
            "route": "recognition",
            "level": "intermediate",
            "employer": PROVINCIAL_UNIT,
        },
        AGRI_DEPT,
    ),
    (
        "002 三(一)1(3) provincial unit without a department, junior → the unit itself",
        {"procedure": "issuance", "route": "recognition", "level": "junior", "employer": PROVINCIAL_SOE},
        PROVINCIAL_SOE,
    ),
    (
        "002 三(一)1(3) provincial unit associate senior → province office",
        {
            "procedure": "issuance",
            "route": "recognition",
            "level": "associate_senior",
            "employer": PROVINCIAL_UNIT,
        },
        PROVINCE,
    ),
    (
        "002 三(一)1(4) provincial archive agency senior → province office",
        {"procedure": "issuance", "route": "recognition", "level": "senior", "employer": ARCHIVE_PROVINCE},
        PROVINCE,
    ),
    (
        "002 三(一)1(4) city archive agency intermediate → city office",
        {"procedure": "issuance", "route": "recognition", "level": "intermediate", "employer": ARCHIVE_CITY},
        LANZHOU,
    ),
    (
        "002 三(一)1(4) city archive agency senior → not set by the notice",
        {
            "procedure": "issuance",
            "route": "recognition",
            "level": "associate_senior",
            "employer": ARCHIVE_CITY,
        },
        "refused: 文件未作规定",
    ),
    (
        "002 三(一)1(4) county archive agency junior → county HR",
        {"procedure": "issuance", "route": "recognition", "level": "junior", "employer": ARCHIVE_COUNTY},
        COUNTY_HR,
    ),
    (
        "002 三(一)1(5) autonomous university issues its own",
        {"procedure": "issuance", "route": "recognition", "level": "intermediate", "employer": UNIVERSITY},
        UNIVERSITY,
    ),
    # --- seed 002 附件2 三(一)2 issuance, review route ---
    (
        "002 三(一)2(1) county committee intermediate → city office",
        {
            "procedure": "issuance",
            "route": "review",
            "level": "intermediate",
            "employer": COUNTY_UNIT,
            "committee": COUNTY_COMMITTEE,
        },
        LANZHOU,
    ),
    (
        "002 三(一)2(1) city committee intermediate → city office",
        {
            "procedure": "issuance",
            "route": "review",
            "level": "intermediate",
            "employer": COUNTY_UNIT,
            "committee": CITY_COMMITTEE,
        },
        LANZHOU,
    ),
    (
        "002 三(一)2(1) city committee senior → the committee's city office",
        {
            "procedure": "issuance",
            "route": "review",
            "level": "associate_senior",
            "employer": COUNTY_UNIT,
            "committee": TIANSHUI_COMMITTEE,
        },
        TIANSHUI,
    ),
    (
        "002 三(一)2(1) provincial committee senior → province office",
        {
            "procedure": "issuance",
            "route": "review",
            "level": "senior",
            "employer": CITY_UNIT,
            "committee": PROVINCE_COMMITTEE_IN_DEPT,
        },
        PROVINCE,
    ),
    (
        "002 三(一)2(1) provincial committee intermediate → its department",
        {
            "procedure": "issuance",
            "route": "review",
            "level": "intermediate",
            "employer": CITY_UNIT,
            "committee": PROVINCE_COMMITTEE_IN_DEPT,
        },
        AGRI_DEPT,
    ),
    (
        "002 三(一)2(1) provincial committee without a department, intermediate → province office",
        {
            "procedure": "issuance",
            "route": "review",
            "level": "intermediate",
            "employer": CITY_UNIT,
            "committee": PROVINCE_COMMITTEE_DIRECT,
        },
        PROVINCE,
    ),
    (
        "002 三(一)2(2) university's own review → the university",
        {
            "procedure": "issuance",
            "route": "review",
            "level": "senior",
            "employer": UNIVERSITY,
            "committee": UNIVERSITY_COMMITTEE,
        },
        UNIVERSITY,
    ),
    (
        "002 三(一)2 review without a committee → asked for",
        {"procedure": "issuance", "route": "review", "level": "intermediate", "employer": COUNTY_UNIT},
        "refused: 请指明评审委员会",
    ),
    (
        "002 三(一)3 以考代评 issuance → to be announced",
        {"procedure": "issuance", "route": "exam", "level": "junior", "employer": COUNTY_UNIT},
        "refused: 另行通知",
    ),
    (
        "Gansu does not offer digitization",
        {"procedure": "digitization", "route": "review", "level": "senior", "employer": COUNTY_UNIT},
        "refused: 甘肃省未开通“证书电子化换发”事项",
    ),
]

NINGXIA: list[tuple[str, dict[str, str], str]] = [
    (
        "003 一(一)/三(三) 原州区 unit, senior from region review before 2020 → region HR department",
        {
            "procedure": "digitization",
            "route": "review",
            "level": "senior",
            "employer": "640402-employer-hospital",
            "obtained": "2015-12-12",
        },
        "640000-province_office",
    ),
    (
        "003 一(一) associate senior qualifies too",
        {
            "procedure": "digitization",
            "route": "review",
            "level": "associate_senior",
            "employer": "640000-employer-agri-station",
            "obtained": "2019-12-12",
        },
        "640000-province_office",
    ),
    (
        "003 一(一) only senior certificates",
        {
            "procedure": "digitization",
            "route": "review",
            "level": "intermediate",
            "employer": "640402-employer-hospital",
            "obtained": "2015-12-12",
        },
        "refused: 只换发高级职称证书",
    ),
    (
        "003 一(一) only certificates obtained before 2020",
        {
            "procedure": "digitization",
            "route": "review",
            "level": "senior",
            "employer": "640402-employer-hospital",
            "obtained": "2020-01-01",
        },
        "refused: 2020年以前",
    ),
    (
        "003 一(一) only from the region-wide review",
        {
            "procedure": "digitization",
            "route": "recognition",
            "level": "senior",
            "employer": "640402-employer-hospital",
            "obtained": "2015-12-12",
        },
        "refused: 统一评审",
    ),
    (
        "Ningxia does not offer reissue",
        {
            "procedure": "reissue",
            "route": "review",
            "level": "senior",
            "employer": "640402-employer-hospital",
        },
        "refused: 未开通",
    ),
]

GUANGXI: list[tuple[str, dict[str, str], str]] = [
    (
        "004 一/四 钦州 committee review → region generates",
        {
            "procedure": "issuance",
            "route": "review",
            "level": "intermediate",
            "employer": "450702-employer-hospital",
            "committee": "450700-committee-engineering-mid",
        },
        "450000-province_office",
    ),
    (
        "004 一 re-confirmation → region generates",
        {
            "procedure": "issuance",
            "route": "reconfirmation",
            "level": "senior",
            "employer": "450700-employer-hospital",
        },
        "450000-province_office",
    ),
    (
        "004 一 recognition is not an e-certificate route in Guangxi",
        {
            "procedure": "issuance",
            "route": "recognition",
            "level": "junior",
            "employer": "450702-employer-hospital",
        },
        "refused: 评审、重新确认",
    ),
]


async def ask(client: httpx.AsyncClient, slug: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response = await client.get(f"/api/v1/tenants/{slug}/authority", params=query)
    return response.status_code, response.json()


def check(status: int, body: dict[str, Any], expected: str) -> None:
    if expected.startswith("refused: "):
        assert status == 422, body
        assert expected.removeprefix("refused: ") in body["refused"], body
    else:
        assert status == 200, body
        assert body["office"]["code"] == expected, body
        assert body["path"][-1] == expected


CASES = (
    [("gansu", *row) for row in GANSU]
    + [("ningxia", *row) for row in NINGXIA]
    + [("guangxi", *row) for row in GUANGXI]
)


@pytest.mark.parametrize(
    ("slug", "case", "query", "expected"), CASES, ids=[f"{row[0]}: {row[1]}" for row in CASES]
)
async def test_seed_rule(
    client: httpx.AsyncClient, slug: str, case: str, query: dict[str, str], expected: str
) -> None:
    check(*await ask(client, slug, query), expected)


async def test_answer_names_office_rule_and_path(client: httpx.AsyncClient) -> None:
    status, body = await ask(
        client,
        "gansu",
        {
            "procedure": "reissue",
            "route": "review",
            "level": "intermediate",
            "employer": COUNTY_UNIT,
            "obtained": PAPER_ERA,
        },
    )
    assert status == 200
    assert body["office"] == {"code": LANZHOU, "name": "兰州市职称改革办公室"}
    assert body["rule"] == "gs-reissue-county-mid"
    assert body["path"] == [COUNTY_UNIT, COUNTY_HR, LANZHOU]
