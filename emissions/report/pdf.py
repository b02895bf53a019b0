"""The human-readable ISO 14083 / GLEC route carbon report as PDF (ReportLab, pure Python).

Content follows ISO 14083:2023 §13 and the partner expectations in CONVENTIONS Part B §2.2:
scope (the chain as TCEs, hubs included), results (WTW with WTT and TTW apart, tkm,
g CO2e/tkm), the per-mode (§13.3) and per-TCE breakdowns, the method (distance basis and
adjustment rules per leg, allocation, emission factors with source and year, data type per
input, standard versions, GWP basis, factor set and data sha256), certificates beside the
emissions (never netted, §5.2.7) and a traceability footer on every page.

Page 1 is a summary a board reads: totals, intensity against the target with its distance
basis, the share per mode and, when the caller passes them (:class:`Summary`), the
cost-vs-CO2e trade-off chart. Numbers are grouped by thousands (``136,418.702``).

Text is set in DejaVu Sans (vendored in ``data/fonts``, subset-embedded), which covers Latin,
Greek, Cyrillic and symbols such as ``→``, ``ł`` and ``ı``; characters it lacks (e.g. 南京) are
set in ReportLab's built-in CID font ``STSong-Light`` (Adobe-GB1; the reader supplies the
glyphs). Output is byte-for-byte reproducible for equal inputs (``invariant=1``).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from greenlane.data import DATA_DIR
from greenlane.emissions.geo import HUB_COLOUR, MODE_COLOURS
from greenlane.emissions.model import TCE, DataType, FactorRef, Footprint, Mode
from greenlane.emissions.report._decimal import dec_str
from greenlane.emissions.report.ileap import rfc3339
from greenlane.emissions.report.tables import HUB_GROUP, as_footprints, summary_rows
from greenlane.emissions.units import PCT

CJK_FONT = "STSong-Light"
"""ReportLab built-in CID font for Chinese text (Adobe-GB1, Unicode encoding)."""
TEXT_FONT = "DejaVuSans"
TEXT_FONT_BOLD = "DejaVuSans-Bold"
"""Embedded text fonts (``data/fonts``, Bitstream Vera licence)."""
FONT_FILES = {
    TEXT_FONT: DATA_DIR / "fonts" / "DejaVuSans.ttf",
    TEXT_FONT_BOLD: DATA_DIR / "fonts" / "DejaVuSans-Bold.ttf",
}
STANDARD = "ISO 14083:2023; GLEC Framework v3"
"""Standards the numbers follow."""
CERTIFICATE_KEYS = ("registry", "serial", "kind", "volume", "unit", "vintage", "status")
"""Fields of a certificate record, as the ledger fills them."""

_PAGE = landscape(A4)
_MARGIN = 14 * mm
_WIDTH = _PAGE[0] - 2 * _MARGIN
_GRID = colors.HexColor("#BBBBBB")
_HEAD = colors.HexColor("#E8EEF3")
_TOTAL = colors.HexColor("#F4F4F4")


def _ensure_font() -> None:
    registered = pdfmetrics.getRegisteredFontNames()
    if CJK_FONT not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    for name, path in FONT_FILES.items():
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(
        TEXT_FONT,
        normal=TEXT_FONT,
        bold=TEXT_FONT_BOLD,
        italic=TEXT_FONT,
        boldItalic=TEXT_FONT_BOLD,
    )


@functools.cache
def _text_glyphs() -> frozenset[int]:
    """Code points the embedded text font has a glyph for."""
    _ensure_font()
    font: Any = pdfmetrics.getFont(TEXT_FONT)  # a TTFont; its face is not in the stubs
    return frozenset(font.face.charToGlyph)


def _latin(ch: str) -> bool:
    """``ch`` has a glyph in the embedded text font (else it is set in the CJK font)."""
    return ord(ch) in _text_glyphs() or ch in "\n\t"


def markup(text: object) -> str:
    """Paragraph markup of ``text``: XML-escaped, runs DejaVu lacks in the CJK font."""
    out: list[str] = []
    run: list[str] = []
    for ch in str(text):
        if _latin(ch):
            if run:
                out.append(f'<font name="{CJK_FONT}">{escape("".join(run))}</font>')
                run = []
            out.append(escape(ch))
        else:
            run.append(ch)
    if run:
        out.append(f'<font name="{CJK_FONT}">{escape("".join(run))}</font>')
    return "".join(out)


class _Styles:
    def __init__(self) -> None:
        base = getSampleStyleSheet()
        self.title = ParagraphStyle(
            "gl-title", parent=base["Title"], fontName=TEXT_FONT_BOLD, fontSize=16, leading=20
        )
        self.h1 = ParagraphStyle(
            "gl-h1",
            parent=base["Heading2"],
            fontName=TEXT_FONT_BOLD,
            fontSize=12,
            leading=15,
            spaceBefore=8,
            spaceAfter=4,
            keepWithNext=1,
        )
        self.h2 = ParagraphStyle(
            "gl-h2",
            parent=base["Heading3"],
            fontName=TEXT_FONT_BOLD,
            fontSize=10,
            leading=13,
            spaceBefore=6,
            spaceAfter=3,
            keepWithNext=1,
        )
        self.body = ParagraphStyle(
            "gl-body", parent=base["BodyText"], fontName=TEXT_FONT, fontSize=9, leading=11.5
        )
        self.cell = ParagraphStyle("gl-cell", parent=self.body, fontSize=7.5, leading=9)
        self.num = ParagraphStyle("gl-num", parent=self.cell, alignment=TA_RIGHT)
        self.head = ParagraphStyle("gl-head", parent=self.cell, fontName=TEXT_FONT_BOLD)
        self.figure = ParagraphStyle(
            "gl-figure", parent=self.body, fontName=TEXT_FONT_BOLD, fontSize=15, leading=18
        )
        self.label = ParagraphStyle(
            "gl-label",
            parent=self.body,
            fontSize=7.5,
            leading=9,
            textColor=colors.HexColor("#555555"),
        )


def _n(value: float | None) -> str:
    """A number to 3 dp with thousands grouped (``136,418.702``); empty for ``None``."""
    if value is None:
        return ""
    text = dec_str(value)
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, frac = text.partition(".")
    return f"{sign}{int(whole):,}" + (f".{frac}" if frac else "")


def _round(value: float, dp: int = 0) -> str:
    """A headline figure: rounded to ``dp`` with thousands grouped (``136,419``)."""
    return f"{value:,.{dp}f}"


def _table(
    st: _Styles,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    widths_mm: Sequence[float],
    numeric: Sequence[int] = (),
    total_rows: Sequence[int] = (),
    swatches: Mapping[int, str] | None = None,
) -> Table:
    """A grid table; ``numeric`` columns right-aligned, ``swatches`` row -> colour of col 0."""
    data: list[list[Any]] = [[Paragraph(markup(h), st.head) for h in header]]
    for row in rows:
        data.append(
            [Paragraph(markup(v), st.num if i in numeric else st.cell) for i, v in enumerate(row)]
        )
    scale = _WIDTH / (sum(widths_mm) * mm)
    table = Table(data, colWidths=[w * mm * scale for w in widths_mm], repeatRows=1)
    style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, _GRID),
        ("BACKGROUND", (0, 0), (-1, 0), _HEAD),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    for r in total_rows:
        style.append(("BACKGROUND", (0, r + 1), (-1, r + 1), _TOTAL))
    for r, colour in (swatches or {}).items():
        style.append(("LINEBEFORE", (0, r + 1), (0, r + 1), 5, colors.HexColor(colour)))
    table.setStyle(TableStyle(style))
    return table


def _colour(key: str) -> str:
    return HUB_COLOUR if key == HUB_GROUP else MODE_COLOURS[Mode(key)]


def _place(tce: TCE) -> str:
    if tce.kind == "hub":
        loc = tce.origin
        name = tce.hub or ""
        return f"{name} ({loc.name})" if loc and loc.name and loc.name != name else name
    o = tce.origin.name if tce.origin and tce.origin.name else ""
    d = tce.destination.name if tce.destination and tce.destination.name else ""
    return f"{o} → {d}" if o or d else ""


def _label(tce: TCE) -> str:
    """Mode or hub, with the temperature control and refrigerant CO2e when there are any."""
    label = "hub" if tce.kind == "hub" else str(tce.mode).replace("_", " ")
    if tce.temperature_control:
        label += f" ({tce.temperature_control})"
    if tce.co2e_refrigerant_kg:
        label += f", refrigerant {_n(tce.co2e_refrigerant_kg)} kg"
    return label


def _when(value: str) -> str:
    """A timestamp shortened for tables: UTC to the minute (``2026-12-01 00:00Z``)."""
    return datetime.fromisoformat(rfc3339(value)).astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def _period(fps: Sequence[Footprint]) -> str:
    starts = [rfc3339(t.departure_at) for fp in fps for t in fp.tces if t.departure_at]
    ends = [rfc3339(t.arrival_at) for fp in fps for t in fp.tces if t.arrival_at]
    if not starts or not ends:
        return "not stated (no departure and arrival times on the TCEs)"
    start = min(starts, key=datetime.fromisoformat)
    end = max(ends, key=datetime.fromisoformat)
    return f"first departure {start} to last arrival {end}"


def _scope(st: _Styles, fps: Sequence[Footprint]) -> list[Flowable]:
    tces = [t for fp in fps for t in fp.tces]
    hubs = sum(1 for t in tces if t.kind == "hub")
    out: list[Flowable] = [
        Paragraph("1 Scope", st.h1),
        Paragraph(
            markup(
                f"{len(fps)} shipment(s). Each transport chain is split into transport chain "
                f"elements (TCEs): {len(tces) - hubs} leg(s) and {hubs} hub operation(s); hub "
                "operations are in scope and included in every total. Greenhouse gases: all "
                "Kyoto gases as CO2e, well-to-wheel. Reporting period: "
                f"{_period(fps)}. Exclusions: none."
            ),
            st.body,
        ),
    ]
    for fp in fps:
        chain = " | ".join(f"{t.tce_id}: {_label(t)} {_place(t)}".rstrip() for t in fp.tces)
        out.append(
            Paragraph(markup(f"Shipment {fp.shipment_id} ({_n(fp.mass_t)} t): {chain}"), st.body)
        )
    return out


def _results(st: _Styles, fps: Sequence[Footprint]) -> list[Flowable]:
    rows = summary_rows(fps)
    mass = {fp.shipment_id: fp.mass_t for fp in fps}
    shipment = [
        [
            r.shipment_id or "",
            _n(mass.get(r.shipment_id or "")),
            r.tce_count,
            _n(r.transport_activity_tkm),
            _n(r.co2e_wtt_kg),
            _n(r.co2e_ttw_kg),
            _n(r.co2e_wtw_kg),
            _n(r.intensity_wtw_g_per_tkm),
        ]
        for r in rows
        if r.level in ("shipment", "total")
    ]
    shipment[-1][0] = "Total"
    shipment[-1][1] = _n(sum(fp.mass_t for fp in fps))
    header = [
        "Shipment",
        "Mass [t]",
        "TCEs",
        "Activity [tkm]",
        "WTT [kg CO2e]",
        "TTW [kg CO2e]",
        "WTW [kg CO2e]",
        "Intensity WTW [g CO2e/tkm]",
    ]
    wtw = sum(r.co2e_wtw_kg for r in rows if r.level == "mode")
    modes = [r for r in rows if r.level == "mode"]
    mode_rows = [
        [
            (r.mode or "").replace("_", " "),
            r.tce_count,
            _n(r.transport_activity_tkm),
            _n(r.co2e_wtt_kg),
            _n(r.co2e_ttw_kg),
            _n(r.co2e_wtw_kg),
            _n(r.intensity_wtw_g_per_tkm),
            _n(r.co2e_wtw_kg / wtw * PCT) if wtw else "",
        ]
        for r in modes
    ]
    total = rows[-1]
    mode_rows.append(
        [
            "Total",
            total.tce_count,
            _n(total.transport_activity_tkm),
            _n(total.co2e_wtt_kg),
            _n(total.co2e_ttw_kg),
            _n(total.co2e_wtw_kg),
            _n(total.intensity_wtw_g_per_tkm),
            _n(PCT) if wtw else "",
        ]
    )
    return [
        Paragraph("2 Results", st.h1),
        Paragraph(
            markup(
                "Greenhouse gas emissions in kg CO2e: well-to-wheel (WTW) = well-to-tank (WTT, "
                "energy provision) + tank-to-wheel (TTW, operation), shown separately. Transport "
                "activity in tonne-kilometres on each leg's distance; hubs add emissions but no "
                "tkm. Intensity = WTW / tkm."
            ),
            st.body,
        ),
        Spacer(0, 2 * mm),
        _table(
            st,
            header,
            shipment,
            (40, 18, 12, 25, 25, 25, 25, 30),
            numeric=range(1, 8),
            total_rows=[len(shipment) - 1],
        ),
        Paragraph("3 Breakdown per mode (ISO 14083 §13.3)", st.h1),
        _table(
            st,
            [
                "Mode",
                "TCEs",
                "Activity [tkm]",
                "WTT [kg CO2e]",
                "TTW [kg CO2e]",
                "WTW [kg CO2e]",
                "Intensity WTW [g CO2e/tkm]",
                "Share of WTW [%]",
            ],
            mode_rows,
            (30, 12, 25, 25, 25, 25, 30, 22),
            numeric=range(1, 8),
            total_rows=[len(mode_rows) - 1],
            swatches={i: _colour(r.mode or HUB_GROUP) for i, r in enumerate(modes)},
        ),
    ]


def _tce_table(st: _Styles, fps: Sequence[Footprint]) -> list[Flowable]:
    tces = [t for fp in fps for t in fp.tces]
    rows = [
        [
            t.tce_id,
            ", ".join(t.prev_tce_ids),
            _label(t),
            _place(t),
            " → ".join(_when(x) for x in (t.departure_at, t.arrival_at) if x),
            _n(t.mass_t),
            "" if t.kind == "hub" else f"{_n(t.distance_km)} {t.distance_basis or ''}".strip(),
            _n(t.activity_tkm),
            _n(t.co2e_wtt_kg),
            _n(t.co2e_ttw_kg),
            _n(t.co2e_wtw_kg),
            "" if t.kind == "hub" else _n(t.intensity_wtw_g_per_tkm),
            str(t.method),
            str(t.data_type),
        ]
        for t in tces
    ]
    header = [
        "TCE",
        "After",
        "Mode",
        "From → to / hub",
        "Departure → arrival",
        "Mass [t]",
        "Distance [km] basis",
        "Activity [tkm]",
        "WTT [kg]",
        "TTW [kg]",
        "WTW [kg]",
        "WTW [g/tkm]",
        "Method",
        "Data type",
    ]
    return [
        Paragraph("4 Transport chain elements", st.h1),
        _table(
            st,
            header,
            rows,
            (26, 24, 13, 42, 27, 12, 22, 20, 17, 17, 17, 16, 15, 17),
            numeric=(5, 6, 7, 8, 9, 10, 11),
            swatches={
                i: _colour(HUB_GROUP if t.kind == "hub" else str(t.mode))
                for i, t in enumerate(tces)
                if t.kind == "hub" or t.mode
            },
        ),
    ]


def _factor_rows(fps: Sequence[Footprint]) -> list[list[object]]:
    used: dict[FactorRef, list[str]] = {}
    for fp in fps:
        for t in fp.tces:
            for f in t.factors:
                used.setdefault(f, []).append(t.tce_id)
    return [
        [
            f.kind,
            f.key,
            dec_str(f.value),
            f.unit,
            f.source,
            "" if f.year is None else f.year,
            f.factor_set or "",
            ", ".join(dict.fromkeys(ids)),
        ]
        for f, ids in used.items()
    ]


def _method(st: _Styles, fps: Sequence[Footprint]) -> list[Flowable]:
    tces = [t for fp in fps for t in fp.tces]
    dist_rows = [
        [
            t.tce_id,
            _label(t),
            _n(t.distance_km) if t.kind != "hub" else "",
            str(t.distance_basis or ""),
            "; ".join(t.rules),
        ]
        for t in tces
    ]
    by_type = {d: [t for t in tces if t.data_type is d] for d in DataType}
    wtw = sum(t.co2e_wtw_kg for t in tces)
    primary = sum(t.co2e_wtw_kg for t in by_type[DataType.PRIMARY])
    types = "; ".join(
        f"{d}: {len(ts)} TCE(s) ({', '.join(t.tce_id for t in ts)})"
        for d, ts in by_type.items()
        if ts
    )
    factor_rows = _factor_rows(fps)
    versions = [
        ["Standard", STANDARD],
        ["GWP basis (100-year)", ", ".join(dict.fromkeys(fp.gwp_basis for fp in fps))],
        ["Factor set", ", ".join(dict.fromkeys(fp.factor_set for fp in fps))],
        ["Factor data sha256", ", ".join(dict.fromkeys(fp.data_sha256 for fp in fps))],
    ]
    return [
        Paragraph("5 Method", st.h1),
        Paragraph("5.1 Distance basis per leg and adjustment rules", st.h2),
        Paragraph(
            markup(
                "Basis: actual, SFD (shortest feasible distance) or GCD (great-circle distance). "
                "Where an intensity is stated on another basis than the leg's distance, the "
                "distance is converted with the mode's distance adjustment factor (GLEC v3) "
                "before the intensity is applied; each rule applied is listed."
            ),
            st.body,
        ),
        Spacer(0, 1.5 * mm),
        _table(
            st,
            ["TCE", "Mode", "Distance [km]", "Basis", "Rules applied"],
            dist_rows,
            (28, 16, 20, 14, 182),
            numeric=(2,),
        ),
        Paragraph("5.2 Allocation", st.h2),
        Paragraph(
            markup(
                "A leg's vehicle energy or emissions are allocated to the shipment by its share "
                "of the vehicle's transport activity (tkm), by a stated share, or through an "
                "intensity per tkm (TOC) or a modelled vehicle profile; hub operations are "
                "allocated per tonne leaving the hub (HOC). The rule used for each leg is in "
                "5.1."
            ),
            st.body,
        ),
        Paragraph("5.3 Emission factors (source and year)", st.h2),
        _table(
            st,
            ["Kind", "Key", "Value", "Unit", "Source", "Year", "Factor set", "Used by"],
            factor_rows or [["none", "", "", "", "", "", "", ""]],
            (14, 30, 18, 22, 120, 12, 24, 30),
            numeric=(2, 5),
        ),
        Paragraph("5.4 Data type per input", st.h2),
        Paragraph(
            markup(
                f"Primary, modelled or default data (GLEC v3) of each TCE's energy or "
                f"intensity input: {types}. Share of WTW emissions from primary data: "
                f"{_n(primary / wtw * PCT) if wtw else _n(0)} %."
            ),
            st.body,
        ),
        Paragraph("5.5 Standards and versions", st.h2),
        _table(st, ["Item", "Value"], versions, (50, 220)),
    ]


def _certificates(st: _Styles, certificates: Sequence[Mapping[str, Any]]) -> list[Flowable]:
    out: list[Flowable] = [
        Paragraph("6 Certificates and offsets (beside the emissions, never netted)", st.h1),
        Paragraph(
            markup(
                "Book-and-claim certificates and offsets are reported beside the emissions and "
                "are not netted: every emission figure in this report is gross (ISO 14083 "
                "§5.2.7). A carbon-neutrality claim needs a separate ISO 14068-1 assessment."
            ),
            st.body,
        ),
        Spacer(0, 1.5 * mm),
    ]
    if not certificates:
        out.append(Paragraph("Certificates: none recorded.", st.body))
        return [KeepTogether(out)]
    rows = [["" if c.get(k) is None else c[k] for k in CERTIFICATE_KEYS] for c in certificates]
    header = ["Registry", "Serial", "Kind", "Volume", "Unit", "Vintage", "Status"]
    out.append(_table(st, header, rows, (40, 60, 30, 20, 25, 20, 25), numeric=(3,)))
    return [KeepTogether(out)]


def _footer(text: str) -> Any:
    font = TEXT_FONT if all(_latin(c) for c in text) else CJK_FONT

    def draw(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(_MARGIN, 8 * mm, text)
        canvas.drawRightString(_PAGE[0] - _MARGIN, 8 * mm, f"page {doc.page}")
        canvas.restoreState()

    return draw


@dataclass(frozen=True, slots=True)
class Summary:
    """Plan context for page 1 (all optional): cost, the KPI intensity and its target, the
    cost-vs-CO2e trade-off curve.

    ``kpi_intensity_g_per_tkm`` is WTW per tonne-km on ``kpi_basis`` (the target's basis,
    e.g. the great-circle distance); the report's own intensity divides by the actual
    distance travelled, so both are printed with their basis.
    """

    cost_cny: float | None = None
    kpi_intensity_g_per_tkm: float | None = None
    kpi_basis: str = "great-circle distance origin → destination"
    target_year: int | None = None
    target_g_per_tkm: float | None = None
    tradeoff: Sequence[tuple[float, float]] = ()
    """Points ``(co2e_wtw_kg, cost_cny)`` of the non-dominated plans."""
    chosen: tuple[float, float] | None = None
    """This plan's ``(co2e_wtw_kg, cost_cny)``."""


def _figure(st: _Styles, label: str, value: str, unit: str) -> list[Paragraph]:
    return [
        Paragraph(markup(label), st.label),
        Paragraph(f"{markup(value)} <font size=8>{markup(unit)}</font>", st.figure),
    ]


def _mode_chart(fps: Sequence[Footprint]) -> Drawing:
    """Horizontal bars: WTW per mode and hubs [t CO2e]."""
    modes = [r for r in summary_rows(fps) if r.level == "mode"]
    drawing = Drawing(_WIDTH * 0.45, 30 + 16 * len(modes))
    chart = HorizontalBarChart()
    chart.x, chart.y = 70, 28
    chart.width, chart.height = int(_WIDTH * 0.45 - 90), 16 * len(modes)
    chart.data = [[float(r.co2e_wtw_kg) / 1000 for r in modes]]
    chart.categoryAxis.categoryNames = [(r.mode or HUB_GROUP).replace("_", " ") for r in modes]
    chart.categoryAxis.labels.fontName = TEXT_FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = TEXT_FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.1f}"
    chart.bars.strokeWidth = 0
    for i, r in enumerate(modes):
        chart.bars[(0, i)].fillColor = colors.HexColor(_colour(r.mode or HUB_GROUP))
    drawing.add(chart)
    drawing.add(String(70, 0, "WTW [t CO2e]", fontName=TEXT_FONT, fontSize=7))
    return drawing


def _tradeoff_chart(summary: Summary) -> Drawing:
    """Cost [CNY] against WTW [t CO2e] of the non-dominated plans; this plan as a ring."""
    drawing = Drawing(_WIDTH * 0.5, 150)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 55, 30, int(_WIDTH * 0.5 - 70), 110
    curve = sorted((kg / 1000, cost) for kg, cost in summary.tradeoff)
    data = [curve or [(0.0, 0.0)]]
    if summary.chosen is not None:
        data.append([(summary.chosen[0] / 1000, summary.chosen[1])])
    plot.data = data
    plot.lines[0].strokeColor = colors.HexColor("#0072B2")
    plot.lines[0].symbol = makeMarker("FilledCircle", size=3)  # type: ignore[no-untyped-call]
    if summary.chosen is not None:
        plot.lines[1].strokeColor = colors.HexColor("#D55E00")
        plot.lines[1].symbol = makeMarker("Circle", size=7)  # type: ignore[no-untyped-call]
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName = TEXT_FONT
        axis.labels.fontSize = 7
    plot.xValueAxis.labelTextFormat = lambda v: f"{v:,.1f}"
    plot.yValueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
    drawing.add(plot)
    drawing.add(String(55, 5, "WTW [t CO2e] →  cost [CNY] ↑", fontName=TEXT_FONT, fontSize=7))
    return drawing


def _mass(kg: float) -> tuple[str, str]:
    """A CO2e mass for a headline: kg below 10 t, else t (1 dp)."""
    return (_round(kg, 1), "kg") if kg < 10_000 else (_round(kg / 1000, 1), "t")


def _summary_page(st: _Styles, fps: Sequence[Footprint], summary: Summary | None) -> list[Any]:
    total = summary_rows(fps)[-1]
    actual = float(total.intensity_wtw_g_per_tkm or 0.0)
    figures = [
        _figure(st, "Shipments", f"{len(fps):,}", ""),
        _figure(st, "CO2e well-to-wheel", *_mass(float(total.co2e_wtw_kg))),
        _figure(st, "Transport activity", _round(float(total.transport_activity_tkm)), "tkm"),
        _figure(st, "Intensity, SFD", _round(actual, 2), "g CO2e/tkm"),
    ]
    second: list[list[Paragraph]] = []
    s = summary or Summary()
    if s.cost_cny is not None:
        second.append(_figure(st, "Cost", _round(s.cost_cny), "CNY"))
    if s.kpi_intensity_g_per_tkm is not None:
        second.append(
            _figure(st, "Intensity, KPI basis", _round(s.kpi_intensity_g_per_tkm, 2), "g CO2e/tkm")
        )
    if s.target_g_per_tkm is not None and s.target_year is not None:
        second.append(
            _figure(st, f"Target {s.target_year}", _round(s.target_g_per_tkm, 2), "g CO2e/tkm")
        )
        if s.kpi_intensity_g_per_tkm is not None:
            gap = s.kpi_intensity_g_per_tkm - s.target_g_per_tkm
            verdict = "meets the target" if gap <= 0 else "above the target"
            second.append(_figure(st, "Against the target", f"{gap:+,.2f}", f"g/tkm, {verdict}"))
    rows = [figures] + ([second + [[]] * (4 - len(second))] if second else [])
    grid = Table(rows, colWidths=[_WIDTH / 4] * 4)
    grid.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.4, _GRID),
                ("INNERGRID", (0, 0), (-1, -1), 0.4, _GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    basis = (
        f"Intensity = WTW CO2e / tonne-km. This report divides by the tonne-km of each leg's "
        f"shortest feasible distance (SFD, ISO 14083; {_round(actual, 2)} g/tkm)."
    )
    if s.kpi_intensity_g_per_tkm is not None:
        basis += (
            f" The KPI and the target divide by tonne-km on the {s.kpi_basis} "
            f"({_round(s.kpi_intensity_g_per_tkm, 2)} g/tkm): a longer route lowers the first "
            "figure, never the second."
        )
    charts: list[Any] = [[Paragraph("WTW per mode and hubs", st.h2), _mode_chart(fps)]]
    if s.tradeoff or s.chosen is not None:
        charts.append(
            [
                Paragraph("Cost vs CO2e: non-dominated plans; the ring is this plan", st.h2),
                _tradeoff_chart(s),
            ]
        )
    chart_row = Table([charts], colWidths=[_WIDTH / len(charts)] * len(charts))
    chart_row.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [
        Paragraph("Summary", st.h1),
        grid,
        Spacer(0, 3 * mm),
        Paragraph(markup(basis), st.body),
        Spacer(0, 3 * mm),
        chart_row,
        PageBreak(),
    ]


def footprint_report_pdf(
    footprints: Footprint | Sequence[Footprint],
    *,
    title: str,
    plan_id: str | None = None,
    certificates: Sequence[Mapping[str, Any]] = (),
    software_version: str,
    generated_at: datetime | str,
    summary: Summary | None = None,
    dataset: tuple[str, str] | None = None,
) -> bytes:
    """The ISO 14083 route carbon report of one or more shipment footprints, as PDF bytes.

    Parameters
    ----------
    footprints : one footprint or several (e.g. every shipment of a plan) [kg CO2e, tkm].
    title : report title (any script; CJK is set in STSong-Light).
    plan_id : the plan the footprints belong to, for the traceability footer.
    certificates : records ``{registry, serial, kind, volume, unit, vintage, status}`` listed
        beside the emissions, never netted; "none recorded" when empty.
    software_version : greenlane version for the footer.
    generated_at : time the numbers were computed (naive means UTC).
    summary : plan context for the summary page (cost, KPI intensity and target, trade-off).
    dataset : ``(id, sha256)`` of the dataset the plan was made on, printed under the title
        and in the footer.
    """
    fps = as_footprints(footprints)
    _ensure_font()
    st = _Styles()
    computed = rfc3339(generated_at)
    sha = ", ".join(dict.fromkeys(fp.data_sha256 for fp in fps))
    used = f" | dataset {dataset[0]} sha256 {dataset[1]}" if dataset else ""
    footer = (
        f"plan {plan_id or 'n/a'}{used} | data sha256 {sha} | greenlane {software_version} | "
        f"computed {computed}"
    )
    story: list[Flowable] = [
        Paragraph(markup(title), st.title),
        Paragraph(
            markup(
                f"Route carbon report | {STANDARD} | well-to-wheel GHG emissions in kg CO2e | "
                f"plan {plan_id or 'n/a'}{used} | computed {computed}"
            ),
            st.body,
        ),
        *_summary_page(st, fps, summary),
        *_scope(st, fps),
        *_results(st, fps),
        *_tce_table(st, fps),
        *_method(st, fps),
        *_certificates(st, certificates),
    ]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=_PAGE,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN + 4 * mm,
        title=title,
        author="greenlane",
        subject=f"ISO 14083 route carbon report; plan {plan_id or 'n/a'}",
        creator=f"greenlane {software_version}",
        invariant=1,
    )
    on_page = _footer(footer)
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()
