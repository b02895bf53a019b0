"""PACT v2 ProductFootprint carrying an iLEAP ShipmentFootprint in ``extensions[]``.

Mapping rules from the iLEAP technical specification, "PACT Integration / ShipmentFootprint":
``productIds`` = ``urn:pathfinder:product:customcode:<vendor|buyer>-assigned:shipment:<id>``;
``productCategoryCpc`` = ``83117`` (logistics services); ``declaredUnit`` = ``ton kilometer``;
``unitaryProductAmount`` = the sum of the TCEs' ``transportActivity`` [tkm];
``pCfExcludingBiogenic`` = ``fossilGhgEmissions`` = the sum of the TCEs' ``co2eWTW``
[kg CO2e, the shipment total]; ``biogenicCarbonContent`` = ``"0"``; ``pCfIncludingBiogenic``
left undefined; ``packagingEmissionsIncluded`` = ``false``; ``productMassPerDeclaredUnit`` =
the shipment mass [kg]; the extension's ``specVersion`` = ``2.0.0`` and ``dataSchema`` the
iLEAP ShipmentFootprint schema URL. The sums are taken over the exported Decimal strings, so
the wrapper and its extension agree to the gram.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

from greenlane.emissions.errors import InputError
from greenlane.emissions.model import DataType, Footprint
from greenlane.emissions.report.ileap import rfc3339, to_ileap_shipment_footprint
from greenlane.emissions.units import PCT

PACT_SPEC_VERSION = "2.0.0"
"""PACT Technical Specification version of the ProductFootprint."""
EXTENSION_SPEC_VERSION = "2.0.0"
"""Version of the PACT data model extensions specification (iLEAP: MUST be 2.0.0)."""
SHIPMENT_FOOTPRINT_SCHEMA = "https://api.ileap.sine.dev/shipment-footprint.json"
"""``dataSchema`` of the ShipmentFootprint extension."""
ILEAP_DOCUMENTATION = "https://sine-fdn.github.io/ileap-extension/"
"""``documentation`` of the extension (iLEAP: if set, MUST be this URL)."""
CPC_LOGISTICS = "83117"
"""UN CPC code of logistics services."""

_GWP_TO_IPCC = {"AR6": "AR6", "AR5": "AR5", "FEEMS": "AR6"}
"""greenlane GWP basis -> PACT characterisation factors (FEEMS uses AR6 values 27/273)."""


def _pct(part: Decimal, whole: Decimal) -> float:
    return 0.0 if whole <= 0 else round(float(part / whole) * PCT, 2)


def _utc(value: datetime | str) -> str:
    """RFC 3339 in UTC (``...Z``), as PACT DateTimes are; naive means UTC."""
    dt = datetime.fromisoformat(rfc3339(value))
    return rfc3339(dt.astimezone(UTC))


def _reference_period(fp: Footprint, created: datetime | str) -> tuple[str, str]:
    starts = [_utc(t.departure_at) for t in fp.tces if t.departure_at]
    ends = [_utc(t.arrival_at) for t in fp.tces if t.arrival_at]
    if starts and ends:
        return min(starts, key=datetime.fromisoformat), max(ends, key=datetime.fromisoformat)
    year = datetime.fromisoformat(_utc(created)).year
    return _utc(datetime(year, 1, 1, tzinfo=UTC)), _utc(datetime(year + 1, 1, 1, tzinfo=UTC))


def to_pact_product_footprint(
    footprint: Footprint,
    *,
    company_name: str,
    company_ids: Sequence[str],
    pf_id: str,
    created: datetime | str,
    version: int = 0,
    status: Literal["Active", "Deprecated"] = "Active",
    assigned_by: Literal["vendor", "buyer"] = "vendor",
    reference_period_start: datetime | None = None,
    reference_period_end: datetime | None = None,
    product_description: str | None = None,
    product_name_company: str | None = None,
    comment: str | None = None,
) -> dict[str, Any]:
    """Wrap the footprint's iLEAP ShipmentFootprint in a PACT v2 ``ProductFootprint``.

    Parameters
    ----------
    footprint : the shipment footprint [kg CO2e, tkm].
    company_name, company_ids : the data owner; ids are URNs (``urn:...``).
    pf_id : the ProductFootprint id, a UUID string.
    created : creation time, a datetime or ISO 8601 text (naive means UTC).
    assigned_by : ``vendor`` when the transport service organiser assigned the shipment id,
        ``buyer`` when the transport service user did (selects the productIds URN).
    reference_period_start, reference_period_end : the period covered; by default the
        earliest departure to the latest arrival of the TCEs, else the calendar year of
        ``created`` (as in the iLEAP examples).
    comment : free text; by default the factor set, GWP basis and data sha256.
    """
    try:
        pid = str(uuid.UUID(pf_id))
    except (ValueError, TypeError, AttributeError):
        raise InputError(f"not a UUID: {pf_id!r}", field="pf_id") from None
    ids = list(dict.fromkeys(company_ids))
    if not ids or any(not i.lower().startswith("urn:") for i in ids):
        raise InputError("company ids must be URNs (urn:...), at least one", field="company_ids")
    if not company_name:
        raise InputError("company name is empty", field="company_name")
    ileap = to_ileap_shipment_footprint(footprint)
    tkm = sum((Decimal(t["transportActivity"]) for t in ileap["tces"]), Decimal(0))
    wtw = sum((Decimal(t["co2eWTW"]) for t in ileap["tces"]), Decimal(0))
    if tkm <= 0:
        raise InputError("a PACT footprint needs transport activity > 0 tkm", field="tces")
    if wtw < 0:
        raise InputError("PACT cannot carry a negative WTW total", field="tces")
    primary = sum(
        (
            Decimal(t["co2eWTW"])
            for t, tce in zip(ileap["tces"], footprint.tces, strict=True)
            if tce.data_type is DataType.PRIMARY
        ),
        Decimal(0),
    )
    if reference_period_start is not None and reference_period_end is not None:
        start, end = _utc(reference_period_start), _utc(reference_period_end)
    else:
        start, end = _reference_period(footprint, created)
    ipcc = _GWP_TO_IPCC.get(footprint.gwp_basis, "AR6")
    sources = sorted(
        {(f.source, str(f.year)) for t in footprint.tces for f in t.factors if f.year is not None}
    )
    n_legs = sum(1 for t in footprint.tces if t.kind != "hub")
    n_hubs = len(footprint.tces) - n_legs
    sid = footprint.shipment_id
    pcf: dict[str, Any] = {
        "declaredUnit": "ton kilometer",
        "unitaryProductAmount": format(tkm, "f"),
        "productMassPerDeclaredUnit": ileap["mass"],
        "pCfExcludingBiogenic": format(wtw, "f"),
        "fossilGhgEmissions": format(wtw, "f"),
        "fossilCarbonContent": "0",
        "biogenicCarbonContent": "0",
        "characterizationFactors": ipcc,
        "ipccCharacterizationFactorsSources": [ipcc],
        "crossSectoralStandardsUsed": ["GHG Protocol Product standard"],
        "productOrSectorSpecificRules": [
            {
                "operator": "Other",
                "ruleNames": ["ISO 14083:2023", "GLEC Framework v3"],
                "otherOperatorName": "ISO; Smart Freight Centre",
            }
        ],
        "boundaryProcessesDescription": (
            "ISO 14083:2023 / GLEC Framework v3 conforming well-to-wheel (WTT + TTW) GHG "
            f"emissions in kg CO2e of the whole transport chain: {n_legs} leg(s) and "
            f"{n_hubs} hub operation(s); certificates and offsets not netted"
        ),
        "referencePeriodStart": start,
        "referencePeriodEnd": end,
        "exemptedEmissionsPercent": 0,
        "exemptedEmissionsDescription": "",
        "packagingEmissionsIncluded": False,
        "allocationRulesDescription": (
            "Vehicle emissions allocated to the shipment by transport activity (tkm) or by "
            "the stated share, hub emissions per tonne leaving the hub (ISO 14083)"
        ),
        "primaryDataShare": _pct(primary, wtw),
    }
    if sources:
        pcf["secondaryEmissionFactorSources"] = [{"name": s, "version": y} for s, y in sources]
    return {
        "id": pid,
        "specVersion": PACT_SPEC_VERSION,
        "version": version,
        "created": _utc(created),
        "status": status,
        "companyName": company_name,
        "companyIds": ids,
        "productDescription": product_description
        or f"Logistics emissions related to shipment with ID {sid}",
        "productIds": [
            f"urn:pathfinder:product:customcode:{assigned_by}-assigned:shipment:"
            f"{quote(sid, safe='')}"
        ],
        "productCategoryCpc": CPC_LOGISTICS,
        "productNameCompany": product_name_company or f"Shipment with ID {sid}",
        "comment": comment
        if comment is not None
        else (
            f"greenlane; factor set {footprint.factor_set}; GWP {footprint.gwp_basis}; "
            f"data sha256 {footprint.data_sha256}"
        ),
        "pcf": pcf,
        "extensions": [
            {
                "specVersion": EXTENSION_SPEC_VERSION,
                "dataSchema": SHIPMENT_FOOTPRINT_SCHEMA,
                "documentation": ILEAP_DOCUMENTATION,
                "data": ileap,
            }
        ],
    }
