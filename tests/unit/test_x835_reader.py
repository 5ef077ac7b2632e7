"""The fast 835 reader against a straightforward reference, field by field (issue 12).

``read_835`` reads segment texts, remembers segments it has seen (``known``) and builds frozen
dataclasses through drafts. :func:`reference_read` below reads the same transaction sets the plain
way: ``ts.segments`` (split lists), one ``if`` per segment id, every object through its public
constructor, :func:`balance_claim` for the findings. Every field is compared, ``segment_number``
(left out of ``==``) and the written form of each Decimal (24 vs 24.00) included, on every case
``benchmarks/gen_835.py`` writes (denials, crossovers, reversals with their corrections, PLB, several
sets and interchanges), the 835 fixtures, other delimiters, and a file of the segments and places
the generator never writes. Also here: the segment-text layer the reader stands on
(:meth:`SegmentReader.texts`, :attr:`TransactionSet.texts`) and its envelope search.
"""

from __future__ import annotations

import dataclasses
import io
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from benchmarks.gen_835 import generate
from edi.errors import EnvelopeError, TransactionError
from edi.x12 import DEFAULT_DELIMITERS, Delimiters, Envelope, Segment, SegmentReader, TransactionSet, open_x12
from edi.x835 import (
    Adjustment,
    BalanceFinding,
    ClaimPayment,
    EnvelopeSpec,
    Name,
    ProviderAdjustment,
    ServiceLine,
    balance_claim,
    build_835,
    read_835,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "835"
CREATED = datetime(2026, 11, 20, 8, 0)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# --------------------------------------------------------------------------------------------
# The reference
# --------------------------------------------------------------------------------------------


def _money(text: str) -> Decimal:
    d = Decimal(text)
    q = d.quantize(CENT)
    return q if q == d else d


def _date(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _composite(text: str, comp: str) -> tuple[str, str, tuple[str, ...], str]:
    """SVC01 / SVC06: qualifier, code, modifiers, description."""
    p = text.split(comp)
    if len(p) > 2:
        return p[0], p[1], tuple(m for m in p[2:6] if m), p[6] if len(p) > 6 else ""
    return p[0], p[1] if len(p) > 1 else "", (), ""


def reference_read(ts: TransactionSet) -> tuple[list[ClaimPayment], list[ProviderAdjustment], list[BalanceFinding]]:
    """The claims, PLB adjustments and balance findings of an 835 set, read the plain way."""
    comp = ts.delimiters.component
    n = ts.segment_number - 1
    claims: list[ClaimPayment] = []
    plb: list[ProviderAdjustment] = []
    claim: dict[str, Any] | None = None
    line: dict[str, Any] | None = None
    lx: int | None = None
    in_header = True
    bpr: Segment = []

    def finish_line() -> None:
        assert claim is not None and line is not None
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in line.items()}
        claim["lines"].append(ServiceLine(**values))

    def finish_claim() -> None:
        assert claim is not None
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in claim.items()}
        claims.append(ClaimPayment(**values))

    for seg in ts.segments:
        n += 1
        sid = seg[0]
        s = seg + [""] * 24
        if in_header:
            if sid == "BPR":
                bpr = s
            if sid not in ("LX", "CLP", "PLB", "SE", "TS3", "TS2"):
                continue
            in_header = False
        if sid in ("SVC", "CLP", "LX", "PLB", "SE"):
            if line is not None:
                finish_line()
                line = None
            if sid != "SVC" and claim is not None:
                finish_claim()
                claim = None
        if sid == "CLP":
            claim = {"claim_id": s[1], "status_code": s[2], "charge": _money(s[3]), "paid": _money(s[4]),
                     "patient_responsibility": _money(s[5]) if s[5] else ZERO, "filing_indicator": s[6],
                     "payer_claim_number": s[7], "facility_code": s[8], "frequency_code": s[9],
                     "drg_code": s[11], "header_number": lx, "adjustments": [], "patient": None, "insured": None,
                     "other_names": [], "moa": (), "mia": (), "references": [], "dates": [], "amounts": [],
                     "quantities": [], "lines": [], "segment_number": n}
        elif sid == "SVC":
            assert claim is not None
            qual, code, mods, desc = _composite(s[1], comp)
            oq, oc, om, _ = _composite(s[6], comp) if s[6] else ("", "", (), "")
            line = {"procedure": code, "charge": _money(s[2]), "paid": _money(s[3]), "procedure_qualifier": qual,
                    "modifiers": mods, "description": desc, "revenue_code": s[4],
                    "units": Decimal(s[5]) if s[5] else Decimal(1), "original_qualifier": oq,
                    "original_procedure": oc, "original_modifiers": om,
                    "original_units": Decimal(s[7]) if s[7] else None, "dates": [], "line_control_number": None,
                    "references": [], "adjustments": [], "remarks": [], "other_remarks": [], "amounts": [],
                    "quantities": [], "segment_number": n}
        elif sid == "LX":
            lx = int(s[1])
        elif sid == "PLB":
            for i in range(3, min(len(seg), 15), 2):
                if s[i]:
                    reason, _, reference = s[i].partition(comp)
                    plb.append(ProviderAdjustment(s[1], _date(s[2]) if s[2] else None, reason, reference,
                                                  _money(s[i + 1])))
        elif sid == "SE":
            break
        elif claim is None:
            continue  # between LX and CLP, after PLB: not kept
        elif sid == "LQ":
            if line is not None:
                (line["remarks"].append(s[2]) if s[1] == "HE" else line["other_remarks"].append((s[1], s[2])))
        elif sid == "MOA":
            claim["moa"] = tuple(seg[1:])
        elif sid == "MIA":
            claim["mia"] = tuple(seg[1:])
        elif sid == "NM1":
            name = Name(s[1], s[2], s[3], s[4], s[5], s[7], s[8], s[9])
            if s[1] == "QC" and claim["patient"] is None:
                claim["patient"] = name
            elif s[1] == "IL" and claim["insured"] is None:
                claim["insured"] = name
            else:
                claim["other_names"].append(name)
        else:
            at = line if line is not None else claim
            if sid == "CAS":
                for i in range(2, len(seg), 3):
                    if seg[i]:
                        at["adjustments"].append(Adjustment(seg[1], seg[i], _money(seg[i + 1]),
                                                            Decimal(s[i + 2]) if s[i + 2] else None))
            elif sid == "DTM":
                at["dates"].append((seg[1], _date(seg[2])))
            elif sid == "AMT":
                at["amounts"].append((seg[1], _money(seg[2])))
            elif sid == "QTY":
                at["quantities"].append((seg[1], Decimal(seg[2])))
            elif sid == "REF":
                if line is not None and seg[1] == "6R" and line["line_control_number"] is None:
                    line["line_control_number"] = seg[2]
                else:
                    at["references"].append((seg[1], seg[2]))
    findings = [f for c in claims for f in balance_claim(c)]
    paid = sum((c.paid for c in claims), ZERO) - sum((p.amount for p in plb), ZERO)
    bpr02 = _money(bpr[2])
    if paid != (-bpr02 if bpr[3] == "D" else bpr02):
        findings.append(BalanceFinding("transaction", None, None, paid, bpr02, "transaction"))
    return claims, plb, findings


# --------------------------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------------------------


def canon(o: Any) -> Any:
    """Every field, compare=False ones included; Decimals as written (24.00 is not 24)."""
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return (type(o).__name__, *((f.name, canon(getattr(o, f.name))) for f in dataclasses.fields(o)))
    if isinstance(o, tuple | list):
        return tuple(canon(x) for x in o)
    if isinstance(o, Decimal):
        return ("Decimal", str(o))
    return o


def assert_reads_like_reference(data: bytes | str) -> int:
    """Read every 835 in ``data`` with both readers (two passes over the file); the claim count."""
    fast = []
    for ts in open_x12(data):
        reader = read_835(ts)
        claims = list(reader)
        fast.append((claims, list(reader.provider_adjustments), reader.balance()))
    slow = [reference_read(ts) for ts in open_x12(data)]
    assert len(fast) == len(slow) > 0
    count = 0
    for (claims, plb, findings), (ref_claims, ref_plb, ref_findings) in zip(fast, slow, strict=True):
        assert len(claims) == len(ref_claims)
        for got, want in zip(claims, ref_claims, strict=True):
            assert type(got) is ClaimPayment and all(type(ln) is ServiceLine for ln in got.lines)
            assert canon(got) == canon(want), want.claim_id
        assert canon(plb) == canon(ref_plb)
        assert [(f.level, f.claim_id, f.line_index, f.expected, f.actual) for f in findings] == \
            [(f.level, f.claim_id, f.line_index, f.expected, f.actual) for f in ref_findings]
        count += len(claims)
    return count


def generated(claims: int, seed: int, per_set: int, delimiters: Delimiters = DEFAULT_DELIMITERS,
              newline: bool = True) -> str:
    """What benchmarks/gen_835.py writes, in memory: one interchange per set of ``per_set`` claims."""
    return "".join(
        build_835(rem, envelope=EnvelopeSpec(isa_control=k, gs_control=k, created=CREATED, sender="PAYERSENDER",
                                             receiver="SUNRISE01"), delimiters=delimiters, newline=newline)
        for k, rem in enumerate(generate(claims, seed, per_set=per_set), start=1))


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------

# Segments and places gen_835.py never writes, each in a claim of its own (balanced: CLP03 = CLP04).
EDGE_CLAIMS = """\
CLP*E1*1*100*100*0*MC*P1*11*1*A*DRG7~
NM1*QC*1*DOE*JANE*Q*JR*MI*M1~
NM1*IL*1*DOE*JOHN****MI*M2~
NM1*QC*1*SECOND*PATIENT****MI*M3~
NM1*74*1*CORRECTED~
NM1*82*1*CLINICIAN*ALEX****XX*1679576722~
MIA*0**12.5*3*N1*******************R1*R2*R3~
MOA***MA01*MA02~
REF*EA*PCN1~
REF*1K*X~
QTY*CA*2~
DTM*472*20261102~
AMT*AU*100~
LQ*HE*N1~
SVC*HC:90837:HO:95:GT:AJ:THERAPY*60*60*0100*2*HC:90834:HO*1~
DTM*472*20261102~
REF*6R*L1~
REF*6R*L2~
REF*G1*AUTH~
LQ*HE*N54~
LQ*RX*A1~
QTY*ZK*1.5~
AMT*B6*60~
CAS*PR*1*10*1*2*5**3*0~
CAS*PR*3*-15~
SVC*HC:90785*40*40~
CAS*CO**99**45*0~
CLP*E2*22*-50*-50*0*12~
DTM*232*20261102~
CAS*CO*45*0.00~
CAS*CO*45*0~
SVC*NU:0100*-50*-50**-1*NU:0101~
DTM*472*20261102~
CLP*E3*1*1.005*1.005*0~
SVC*HC:90837*1.005*1.005~
LX*2~
DTM*472*20261103~
LQ*HE*N381~
CLP*E4*4*10*10*0*12*P4~
NM1*82*1*CLINICIAN*ALEX****XX*1679576722~
NM1~
SVC*HC:90837*10*10~
DTM*472*20261102~
DTM*472*20261102~
CAS*CO*45*0~
CLP*E5*1*0*0~
"""


def edge_file(delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
    """A built 835 with EDGE_CLAIMS after its first LX, SE01 recounted, in ``delimiters``."""
    rem = next(generate(1, 1, per_set=1))
    text = build_835(dataclasses.replace(rem, claims=(), provider_adjustments=(),
                                         payment=dataclasses.replace(rem.payment, amount=Decimal("61.005"))),
                     envelope=EnvelopeSpec(isa_control=1, gs_control=1, created=CREATED, sender="PAYERSENDER",
                                           receiver="SUNRISE01"))
    text = with_body(text, "LX*1~\n" + EDGE_CLAIMS)
    table = str.maketrans({"*": delimiters.element, ":": delimiters.component, "~": delimiters.segment})
    return text.translate(table)


def with_body(text: str, extra: str) -> str:
    """``text`` (one 835 set, default delimiters) with ``extra`` segments added before SE, SE01 recounted."""
    head, _, tail = text.partition("SE*")
    body = head + extra
    return body + f"SE*{body[body.index('ST*835*'):].count('~') + 1}*" + tail.split("*", 1)[1]


def set_count(text: str) -> int:
    """The segments from ST to SE of the one set in ``text`` (default delimiters)."""
    segs = [t.strip() for t in text.split("~")]
    st = next(i for i, t in enumerate(segs) if t.startswith("ST*"))
    return next(i for i, t in enumerate(segs) if i > st and (t.startswith("SE*") or t == "SE")) - st + 1


class TestAgainstReference:
    @pytest.mark.parametrize(("claims", "seed", "per_set"), [(300, 1, 300), (400, 7, 120), (250, 12, 9), (60, 3, 1)],
                             ids=["one_set", "several_sets", "small_sets", "one_claim_sets"])
    def test_generated_files(self, claims: int, seed: int, per_set: int) -> None:
        """Every claim gen_835.py writes (denials, crossovers, reversal + correction pairs, PLB, several
        sets and interchanges) reads exactly as the reference reads it, every field."""
        text = generated(claims, seed, per_set)
        assert text.count("\nCLP*") == claims
        for case in ("*22*-", "*19*", "CAS*CO*197*", "LQ*HE*N54", "PLB*"):  # reversal, crossover, denial
            assert case in text
        assert assert_reads_like_reference(text) == claims

    def test_other_delimiters_and_no_line_breaks(self) -> None:
        """Generated sets with |, > and ! as delimiters and no line breaks read like the reference."""
        d = Delimiters(element="|", repetition="^", component=">", segment="!")
        text = generated(120, 5, 50, d, newline=False)
        assert "\n" not in text and "CLP|" in text
        assert assert_reads_like_reference(text) == 120

    @pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.x12")), ids=lambda p: p.stem)
    def test_fixtures(self, path: Path) -> None:
        """The 835 fixtures read like the reference."""
        assert assert_reads_like_reference(path.read_bytes()) > 0

    @pytest.mark.parametrize("delimiters", [Delimiters(), Delimiters(element="|", component=">", segment="\n")],
                             ids=["default", "newline_terminated"])
    def test_segments_the_generator_never_writes(self, delimiters: Delimiters) -> None:
        """Second NM1*QC, NM1*IL and *74, a short NM1, MIA, MOA, claim and line REF and QTY, REF*6R twice,
        LQ*RX, LQ before any line, SVC01 with four modifiers and a description, SVC04 to SVC07, CAS with
        quantities, several triples and an empty reason, amounts with three decimals, LX between claims,
        segments between LX and CLP, the same DTM at claim and line level: all as the reference reads them."""
        text = edge_file(delimiters)
        assert assert_reads_like_reference(text) == 5
        c = next(iter(read_835(next(iter(open_x12(text))))))
        assert (c.patient and c.patient.last_name, c.insured and c.insured.first_name) == ("DOE", "JOHN")
        assert [n.entity_code for n in c.other_names] == ["QC", "74", "82"]
        assert c.lines[0].line_control_number == "L1" and c.lines[0].references == (("6R", "L2"), ("G1", "AUTH"))
        assert c.lines[0].modifiers == ("HO", "95", "GT", "AJ") and c.lines[0].description == "THERAPY"
        assert c.lines[0].remarks == ("N54",) and c.lines[0].other_remarks == (("RX", "A1"),)

    def test_a_known_segment_is_read_per_set(self) -> None:
        """Two interchanges with the same SVC texts but different component separators (ISA16 : then
        ^): each set reads its own meaning, nothing the reader remembers is shared between sets."""
        plain = generated(30, 2, 30)
        isa = plain[:plain.index("~")].split("*")
        isa[11], isa[16] = "U", "^"
        other = "*".join(isa) + plain[plain.index("~"):]
        text = plain + other
        assert assert_reads_like_reference(text) == 60
        first, second = (list(read_835(ts)) for ts in open_x12(text))
        assert {ln.procedure_qualifier for c in first for ln in c.lines} == {"HC"}
        assert {ln.procedure for c in second for ln in c.lines} == {""}  # SVC01 "HC:90837" is one component


class TestErrorsThroughTheCache:
    @pytest.mark.parametrize(("prefix", "new", "segment_id", "element"), [
        ("AMT*B6*", "AMT*B6*X", "AMT", 2),
        ("DTM*472*", "DTM*472*2O261102", "DTM", 2),
        ("CAS*CO*45*", "CAS*CO*45*-", "CAS", 3),
        ("SVC*HC:", "SVC*HC:90837*1OO*1**1", "SVC", 2),
    ], ids=["amount", "date", "cas_amount", "svc_charge"])
    def test_a_bad_copy_of_a_known_segment(self, prefix: str, new: str, segment_id: str, element: int) -> None:
        """The 40th segment of a kind (the well-formed texts before it remembered) made malformed: a
        TransactionError naming that segment's number, id and element, after the claims before it
        were handed out."""
        text = generated(60, 4, 60)
        at = -1
        for _ in range(40):
            at = text.index("\n" + prefix, at + 1)
        at += 1
        bad = text[:at] + new + text[text.index("~", at):]
        bad_segment = bad[:at].count("~") + 1
        reader = read_835(next(iter(open_x12(bad))))
        read = 0
        with pytest.raises(TransactionError) as err:
            for _ in reader:
                read += 1
        assert (err.value.segment_number, err.value.segment_id, err.value.element) == (bad_segment, segment_id, element)
        assert read > 0


class TestSegmentTexts:
    def test_texts_split_are_the_batches(self) -> None:
        """SegmentReader.texts() split on the element separator are batches(), for files with several
        interchanges, line breaks or none, and other delimiters."""
        d = Delimiters(element="|", repetition="^", component=">", segment="!")
        for text in (generated(40, 1, 15), generated(40, 1, 15, d, newline=False), edge_file()):
            data = text.encode("latin-1")
            texts = list(SegmentReader(io.BytesIO(data), chunk_size=512).texts())
            batches = list(SegmentReader(io.BytesIO(data), chunk_size=512).batches())
            elements = [t[3] for b in texts for t in b if t.startswith("ISA")]
            assert len(texts) == len(batches) > 2
            split = [[t.split(e) for t in b] for b, e in zip(texts, _element_per_batch(texts, elements), strict=True)]
            assert split == batches
            assert all("\n" not in t and t for b in texts for t in b)

    @pytest.mark.parametrize("chunk", [512, 4096, 8192])
    def test_an_iea_in_the_middle_of_a_read_ends_its_interchange(self, chunk: int) -> None:
        """Two interchanges larger than a read, the second with other delimiters: each is read with
        its own, as when read alone (the reader used to cut a read at its last terminator without
        looking for the IEA in it, and went on with the first interchange's delimiters)."""
        d = Delimiters(element="|", repetition="^", component=">", segment="!")
        first, second = generated(60, 1, 60), generated(60, 2, 60, d, newline=False)
        assert len(first) > 2 * chunk
        together = [(ts.delimiters, list(ts.segments)) for ts in Envelope(io.BytesIO((first + second).encode()),
                                                                           chunk_size=chunk)]
        alone = [(ts.delimiters, list(ts.segments)) for text in (first, second) for ts in open_x12(text)]
        assert together == alone and together[1][0] == d

    def test_transaction_texts_are_its_segments(self) -> None:
        """TransactionSet.texts is the set ST..SE, as text."""
        text = generated(50, 3, 20)
        by_texts = [[t.split("*") for b in ts.texts for t in b] for ts in open_x12(text)]
        by_segments = [list(ts.segments) for ts in open_x12(text)]
        assert by_texts == by_segments and len(by_texts) == 3
        assert by_texts[0][0][:2] == ["ST", "835"] and by_texts[0][-1][0] == "SE"

    def test_lookalikes_of_envelope_segments_are_body_segments(self) -> None:
        """Segments starting like SE, ST, GS, GE, ISA or IEA but with another id are read as body
        segments; an id alone (SE without elements) still ends the set."""
        ids = ["SEX", "STA", "GSX", "GEO", "ISAB", "IEAX", "SVX", "S", "G", "I"]
        text = with_body(generated(1, 1, 1), "".join(f"{sid}*1~\n" for sid in ids))
        ts = next(iter(open_x12(text)))
        segs = list(ts.segments)
        assert [s[0] for s in segs[-11:-1]] == ids and len(segs) == set_count(text)
        bare = text.replace(f"SE*{len(segs)}*0001~", "SE~")
        assert bare != text
        env = open_x12(bare, strict=False)
        assert [len(list(t.segments)) for t in env] == [len(segs)]
        assert any("SE01 says nothing" in str(f) for f in env.findings)
        with pytest.raises(EnvelopeError, match="SE01 says nothing"):
            for t in open_x12(bare):
                list(t.segments)

    def test_a_set_full_of_envelope_lookalikes_reads_in_linear_time(self) -> None:
        """200,000 segments starting with S, G or I (an SVC-heavy set is like this) in one set: the
        envelope search only moves forward, so this reads in about a second (the bound is a hang guard)."""
        text = with_body(generated(1, 1, 1), "SVX*1~SEX*2~GSX*3~ISAB*4~" * 50_000)
        start = time.perf_counter()
        ts = next(iter(open_x12(text.encode())))
        assert sum(len(b) for b in ts.texts) == set_count(text) > 200_000
        assert time.perf_counter() - start < 10


def _element_per_batch(texts: list[list[str]], elements: list[str]) -> list[str]:
    """The element separator of each batch: that of the last ISA at or before it."""
    out, k = [], -1
    for batch in texts:
        if batch and batch[0].startswith("ISA"):
            k += 1
        out.append(elements[k])
    return out
