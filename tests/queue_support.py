"""Staff signed in over HTTP with the grants a queue test needs, and Gansu reissue cases made quickly through
the case services (the files of one fully uploaded case are shared by the others: storage is
content-addressed, so the rows point at the same checked files)."""

from __future__ import annotations

import itertools
from typing import Any

from accounts.sessions import Principal
from cases.services import load_case, save_part, start_case, submit_case, upload_attachment
from cases.tables import Attachment
from tenants.vocabulary import Procedure
from tests.cases_support import REISSUE_TITLE, id_number, pdf_file, photo, tenant

_serial = itertools.count(1)

CITY = "620100-city_office"
EMPLOYER = "620102-employer-school"
TITLE = REISSUE_TITLE


class ReissueFactory:
    """Gansu reissue cases filed by one employer clerk and submitted to the Lanzhou city office."""

    def __init__(self, filer: Principal) -> None:
        self.filer = filer
        self.files: list[dict[str, Any]] | None = None

    async def case(
        self,
        name: str,
        *,
        serial: int = 1,
        level: str = "intermediate",
        series: str = "中小学教师系列",
        submit: bool = True,
    ) -> int:
        gansu = await tenant("gansu")
        case_id = await start_case(gansu, self.filer, Procedure.reissue)
        holder = {"holder_name": name, "id_number": id_number(serial=serial), "gender": "男"}
        for index, raw in enumerate((holder, {**TITLE, "level": level, "series": series})):
            version = (await load_case(gansu, case_id)).row["version"]
            cleaned = await save_part(gansu, self.filer, case_id, index, raw, version)
            assert not cleaned.errors, cleaned.errors
        if self.files is None:
            await upload_attachment(gansu, self.filer, case_id, "photo", "photo.jpg", photo())
            await upload_attachment(gansu, self.filer, case_id, "qualification_doc", "doc.pdf", pdf_file())
            await upload_attachment(gansu, self.filer, case_id, "review_form", "form.pdf", pdf_file())
            self.files = await Attachment.select().where(Attachment.case == case_id)
        else:
            for row in self.files:
                values = {key: value for key, value in row.items() if key not in ("id", "case")}
                await Attachment(**values, case=case_id).save()
        if submit:
            version = (await load_case(gansu, case_id)).row["version"]
            await submit_case(gansu, self.filer, case_id, version)
        return case_id
