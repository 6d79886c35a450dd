"""The fixed vocabulary of DESIGN.md §2, with the Chinese labels the UI shows."""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    @property
    def label(self) -> str:
        return LABELS[self]


class Procedure(LabelledEnum):
    issuance = "issuance"
    reissue = "reissue"
    digitization = "digitization"
    collection = "collection"


class Route(LabelledEnum):
    review = "review"
    recognition = "recognition"
    exam = "exam"
    reconfirmation = "reconfirmation"


class Level(LabelledEnum):
    junior = "junior"
    intermediate = "intermediate"
    associate_senior = "associate_senior"
    senior = "senior"


class OrgKind(LabelledEnum):
    province_office = "province_office"
    city_office = "city_office"
    county_hr = "county_hr"
    department = "department"
    committee = "committee"
    university = "university"
    archive_agency = "archive_agency"
    employer = "employer"


class Jurisdiction(LabelledEnum):
    """Which level of government an org answers to, found by walking up its tree (see OrgTree)."""

    county = "county"
    city = "city"
    province = "province"
    university = "university"


class CertificateScope(LabelledEnum):
    """省证 (valid province-wide, the only exam certificates we handle) or 国证 (national exam)."""

    provincial = "provincial"
    national = "national"


LABELS: dict[LabelledEnum, str] = {
    Procedure.issuance: "发证",
    Procedure.reissue: "遗失补办",
    Procedure.digitization: "证书电子化换发",
    Procedure.collection: "信息采集填报",
    Route.review: "评审类",
    Route.recognition: "考核认定类",
    Route.exam: "以考代评",
    Route.reconfirmation: "重新确认",
    Level.junior: "初级",
    Level.intermediate: "中级",
    Level.associate_senior: "副高级",
    Level.senior: "正高级",
    OrgKind.province_office: "省级职改办/人社厅",
    OrgKind.city_office: "市（州）职改办",
    OrgKind.county_hr: "县（市、区）人社局",
    OrgKind.department: "省直部门",
    OrgKind.committee: "评审委员会",
    OrgKind.university: "自主评审高校",
    OrgKind.archive_agency: "档案托管机构",
    OrgKind.employer: "用人单位",
    Jurisdiction.county: "县级",
    Jurisdiction.city: "市级",
    Jurisdiction.province: "省级",
    Jurisdiction.university: "自主评审高校",
    CertificateScope.provincial: "省证",
    CertificateScope.national: "国证",
}
