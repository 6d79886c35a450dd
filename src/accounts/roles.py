"""Staff roles (DESIGN.md §2) with their Chinese names."""

from enum import StrEnum


class Role(StrEnum):
    clerk = "clerk"
    reviewer = "reviewer"
    sealer = "sealer"
    org_admin = "org_admin"
    tenant_admin = "tenant_admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.clerk: "录入员",
    Role.reviewer: "审核员",
    Role.sealer: "用印员",
    Role.org_admin: "单位管理员",
    Role.tenant_admin: "地区管理员",
}


class AccountKind(StrEnum):
    applicant = "applicant"  # 专业技术人员, signs in with ID number + name + password
    staff = "staff"  # signs in with a user name, acts through role grants
