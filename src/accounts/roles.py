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

    @property
    def rank(self) -> int:
        return ROLE_RANKS[self]

    @property
    def tenant_wide(self) -> bool:
        """A tenant admin acts over the whole tenant, wherever the grant was recorded."""
        return self is Role.tenant_admin


ROLE_LABELS = {
    Role.clerk: "录入员",
    Role.reviewer: "审核员",
    Role.sealer: "用印员",
    Role.org_admin: "单位管理员",
    Role.tenant_admin: "地区管理员",
}

# Who may manage whom (accounts.services.ensure_manages): an administrator manages only accounts whose every
# role ranks below their own, or ranks the same at an org below theirs. The three roles that act on cases rank
# alike; none of them manages accounts.
ROLE_RANKS = {
    Role.clerk: 1,
    Role.reviewer: 1,
    Role.sealer: 1,
    Role.org_admin: 2,
    Role.tenant_admin: 3,
}
ADMIN_ROLES = frozenset({Role.org_admin, Role.tenant_admin})


class AccountKind(StrEnum):
    applicant = "applicant"  # 专业技术人员, signs in with ID number + name + password
    staff = "staff"  # signs in with a user name, acts through role grants
