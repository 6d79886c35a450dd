"""The case lifecycle and its chain of steps: plain functions, no database.

draft → (submit) in_review at step 0 … step k … → approved at the last step → completed;
at any step: returned to the filer with a reason (edited and resubmitted from step 0), or refused.
A reviewer may escalate a recheck: the office named by the step (e.g. the province office) reviews next,
then the chain continues (甘职改办〔2020〕2号 五(三)).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from accounts.roles import Role
from tenants.authority import OrgTree
from tenants.procedures import ProcedureDefinition, StepAt


class State(StrEnum):
    draft = "draft"
    in_review = "in_review"
    returned = "returned"
    approved = "approved"
    completed = "completed"
    refused = "refused"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


# What the applicant sees (甘人社通〔2021〕166号 三: 已退回 / 审核中).
STATE_LABELS = {
    State.draft: "草稿",
    State.in_review: "审核中",
    State.returned: "已退回",
    State.approved: "审核通过，待办结",
    State.completed: "已办结",
    State.refused: "不予办理",
}

EDITABLE_STATES = frozenset({State.draft, State.returned})
WAITING_STATES = frozenset({State.in_review, State.approved})


class Action(StrEnum):
    create = "create"
    save = "save"
    upload = "upload"
    submit = "submit"
    approve = "approve"
    return_ = "return"
    refuse = "refuse"
    recheck = "recheck"
    complete = "complete"
    withdraw = "withdraw"  # the filer takes back a submitted case nobody has acted on yet

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    Action.create: "新建",
    Action.save: "保存",
    Action.upload: "上传附件",
    Action.submit: "提交",
    Action.approve: "审核通过",
    Action.return_: "退回",
    Action.refuse: "不予办理",
    Action.recheck: "申请复查",
    Action.complete: "办结",
    Action.withdraw: "撤回",
}


# What an applicant's 办理记录 lists: the case's milestones, not every save or upload (staff see everything).
APPLICANT_MILESTONES = frozenset(
    {Action.create, Action.submit, Action.withdraw, Action.return_, Action.refuse, Action.complete}
)


class PlanError(ValueError):
    """The org tree cannot supply a step's org: a data problem the filer is told about in Chinese."""


@dataclass(frozen=True)
class PlannedStep:
    org: str  # org code
    role: Role
    label: str
    edit: bool = False
    recheck_to: str | None = None  # org code of the office a recheck goes to
    batch_day: int | None = None
    recheck: bool = False  # this step is an inserted recheck

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> PlannedStep:
        return cls(**{**value, "role": Role(value["role"])})


def plan_steps(
    definition: ProcedureDefinition,
    tree: OrgTree,
    *,
    employer: str,
    authority: str,
    filer_org: str | None,
    values: dict[str, Any],
) -> list[PlannedStep]:
    """The concrete chain of (org, role) a case climbs, from the procedure's step specs."""
    planned: list[PlannedStep] = []
    for spec in definition.steps:
        orgs: list[tuple[str, Role]] = []
        if spec.at is StepAt.authority:
            orgs = [(authority, spec.role)]  # type: ignore[list-item]
        elif spec.at is StepAt.employer:
            orgs = [(employer, spec.role)]  # type: ignore[list-item]
        elif spec.at is StepAt.root:
            orgs = [(tree.chain(employer)[-1].code, spec.role)]  # type: ignore[list-item]
        elif spec.at is StepAt.nearest:
            path = tree.walk_to(employer, [spec.kind])  # type: ignore[list-item]
            if path is None:
                if spec.optional:
                    continue
                raise PlanError(f"{tree[employer].name}之上没有{spec.kind.label}，无法办理“{spec.label}”")  # type: ignore[union-attr]
            orgs = [(path[-1].code, spec.role)]  # type: ignore[list-item]
        elif spec.at is StepAt.chain:
            for node in tree.chain(employer):
                role = spec.roles_by_kind.get(node.kind)
                if role is None:
                    raise PlanError(f"“{spec.label}”未规定{node.kind.label}（{node.name}）由哪个角色审核")
                orgs.append((node.code, role))
        elif spec.at is StepAt.field:
            chosen = values.get(spec.field or "")
            if not chosen or chosen not in tree:
                raise PlanError(f"请选择“{spec.label}”的机构")
            if filer_org is not None and chosen not in {node.code for node in tree.chain(filer_org)}:
                raise PlanError(f"{tree[chosen].name}不是本级或上级机构，不能办理“{spec.label}”")
            orgs = [(chosen, spec.role)]  # type: ignore[list-item]
        for code, role in orgs:
            recheck_to = None
            if spec.recheck_to is not None:
                path = tree.walk_to(code, [spec.recheck_to])
                if path is not None and path[-1].code != code:
                    recheck_to = path[-1].code
            planned.append(
                PlannedStep(
                    org=code,
                    role=role,
                    label=spec.label,
                    edit=spec.edit,
                    recheck_to=recheck_to,
                    batch_day=spec.batch_day,
                )
            )
    if not planned:
        raise PlanError("该事项的办理步骤为空")
    return planned


def with_recheck(plan: list[PlannedStep], step: int) -> list[PlannedStep]:
    """The plan with a recheck by the step's recheck office inserted right after ``step``."""
    current = plan[step]
    if current.recheck_to is None:
        raise PlanError("本步骤不能申请复查")
    recheck = PlannedStep(org=current.recheck_to, role=Role.reviewer, label="复查", recheck=True)
    return [*plan[: step + 1], recheck, *plan[step + 1 :]]
