"""Certificate numbers: one gapless sequence per tenant and year.

``next_certificate_number`` must run inside the caller's write transaction (``core.db.write_transaction``),
the one that issues the certificate: the increment is then part of that transaction, so a rolled-back
sealing gives its number back, and the row lock it takes makes concurrent issuers queue for the next number
(PostgreSQL: row lock until commit or rollback; SQLite: BEGIN IMMEDIATE serialises writers). Numbers are
therefore unique and without gaps among committed certificates. Keep the transaction short after taking a
number: every other issuer of the tenant waits for it.

Two statements, from Piccolo's query builder, that run on SQLite (≥ 3.35, for RETURNING) and PostgreSQL:

1. ``UPDATE … SET "last" = "last" + 1 WHERE tenant, year RETURNING "last"`` — the usual case, one atomic
   statement;
2. for a tenant's first number of a year: ``INSERT … ("last" = 0) ON CONFLICT ("tenant", "year") DO
   NOTHING`` (the unique index of migration certificates_0002; a concurrent first issuer waits on the
   other's uncommitted row and then does nothing), then the same UPDATE again.
"""

from __future__ import annotations

import json
from typing import Any

from piccolo.query import Insert, Update

from certificates.identifiers import DEFAULT_NUMBER_PATTERN, check_number_pattern, format_certificate_number
from certificates.tables import CertificateSequence
from tenants.tables import Tenant


def _increment(tenant: Tenant, year: int) -> Update:
    return (
        CertificateSequence.update({CertificateSequence.last: CertificateSequence.last + 1})
        .where((CertificateSequence.tenant == tenant.id) & (CertificateSequence.year == year))
        .returning(CertificateSequence.last)
    )


def _create(tenant: Tenant, year: int) -> Insert:
    return CertificateSequence.insert(CertificateSequence(tenant=tenant.id, year=year, last=0)).on_conflict(
        target=(CertificateSequence.tenant, CertificateSequence.year), action="DO NOTHING"
    )


class NumberingError(RuntimeError):
    pass


def certificate_settings(tenant: Tenant) -> dict[str, Any]:
    """The tenant's ``certificate_settings`` as a mapping (whether or not the row was read with load_json)."""
    settings = getattr(tenant, "certificate_settings", None) or {}
    if isinstance(settings, str):
        settings = json.loads(settings) if settings.strip() else {}
    return settings


def number_pattern(tenant: Tenant) -> str:
    return certificate_settings(tenant).get("number_pattern") or DEFAULT_NUMBER_PATTERN


async def next_certificate_number(tenant: Tenant, year: int) -> tuple[int, str]:
    """Takes the tenant's next number for ``year``: ``(sequence number, formatted certificate number)``, e.g.
    ``(1, "2026620000000001")``. Must be called inside the caller's open write transaction."""
    if not isinstance(year, int) or isinstance(year, bool) or not 1 <= year <= 9999:
        raise ValueError(f"year must be an integer from 1 to 9999, not {year!r}")
    engine = CertificateSequence._meta.db
    if engine.current_transaction.get() is None:
        raise NumberingError(
            "next_certificate_number must run inside the issuing write transaction "
            "(core.db.write_transaction), or a failed issue would lose its number"
        )
    pattern = check_number_pattern(number_pattern(tenant))  # a bad pattern fails before taking a number
    rows = await _increment(tenant, year)
    if not rows:
        await _create(tenant, year)
        rows = await _increment(tenant, year)
    if len(rows) != 1:
        raise NumberingError(f"certificate_sequence for tenant {tenant.id}, year {year}: {len(rows)} rows")
    seq = int(rows[0]["last"])
    return seq, format_certificate_number(pattern, year, tenant.division_code, seq)
