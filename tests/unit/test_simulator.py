"""The clearinghouse simulator: 999/TA1, 277CA, 835, 271 and 277 answers read back with the edi parsers."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from edi.x12 import open_x12, read_segments
from edi.x271 import parse_271
from edi.x277 import parse_277
from edi.x835 import ClaimPayment, Remittance835Reader, read_835
from edi.x837p import (
    Address,
    Batch837,
    BillingProvider,
    CasAdjustment,
    Claim837,
    EnvelopeSpec,
    LineAdjudication,
    OtherPayer,
    Payer,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
    build_837p,
)
from edi.x999 import GroupAck, parse_999, parse_ta1
from pipelines.simulator import STATE_FILE, PayerRules, SimResult, simulate_mailbox
from pipelines.simulator.reading import read_837, read_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
AS_OF = date(2026, 11, 10)
D = Decimal
QUIET = PayerRules(necessity_denial_rate=0.0, interest_rate=0.0, inactive_rate=0.0, crossover_rate=0.0,
                   cob_denial_rate=0.0)
AETNA = "60054"
MEDICAID = "SKCA0"
BCBS = "00060"

# --------------------------------------------------------------------------------------------
# Building inputs
# --------------------------------------------------------------------------------------------

_ADDR = Address("1 Main St", "Los Angeles", "CA", "900120000")
_counter = iter(range(1, 10_000))


def claim(claim_id: str, *, procedure: str = "90834", charge: str = "140.00", day: date = date(2026, 11, 2),
          member: str = "W100200300", last: str = "DOE", auth: str = "", payer_id: str = AETNA) -> Claim837:
    return Claim837(
        claim_id=claim_id, place_of_service="11", diagnoses=("F331",),
        subscriber=Subscriber(last, "JANE", member, date(1980, 1, 2), "F", _ADDR),
        payer=Payer("AETNA", payer_id), prior_auth=auth,
        lines=(ServiceLine(procedure, D(charge), day, "L" + claim_id[1:]),))


def x837(*claims: Claim837) -> bytes:
    n = next(_counter)
    batch = Batch837(Submitter("SUNRISE BEHAVIORAL HEALTH", "SUNRISE01", "BILLING", "3105550100"),
                     Receiver("EXAMPLE CLEARINGHOUSE", "CLEARHOUSE"),
                     BillingProvider("SUNRISE BEHAVIORAL HEALTH", "1234567893", "123456789", "261QM0801X", _ADDR),
                     tuple(claims), f"B{n:06d}")
    return build_837p(batch, envelope=EnvelopeSpec(isa_control=n, gs_control=n, st_control="0001",
                                                  created=datetime(2026, 11, 5, 21, 30))).encode("latin-1")


# Coordination of benefits: the other coverages of a claim (2320/2330) and what earlier payers did (2430)
AMOUNTS = tuple[tuple[str, str, str], ...]  # (group, reason, amount) CAS triples
NOV_6 = date(2026, 11, 6)
NOV_8 = date(2026, 11, 8)


def coverage(sequence: str, payer_id: str, name: str, member: str, *, paid: str | None = None,
             day: date | None = None, relationship: str = "self", first: str = "JANE",
             filing: str = "CI") -> OtherPayer:
    """One other payer (2320/2330A/2330B); ``paid`` None: not adjudicated yet."""
    return OtherPayer(sequence, relationship, Subscriber("DOE", first, member), Payer(name, payer_id, filing),
                      None if paid is None else D(paid), day)


def with_coverage(c: Claim837, *others: OtherPayer) -> Claim837:
    """A primary claim that names its other coverages (no amounts)."""
    return replace(c, other_payers=others)


def billed_after(claim_id: str, payer: Payer, member: str, sequence: str,
                 earlier: tuple[tuple[OtherPayer, AMOUNTS], ...], *, charge: str = "140.00",
                 later: tuple[OtherPayer, ...] = (), day: date = date(2026, 11, 2)) -> Claim837:
    """A one-line claim billed to ``payer`` as ``sequence`` (S, T) after the ``earlier`` payers, each with
    its line CAS; each earlier payer paid what its CAS leaves of the charge."""
    base = claim(claim_id, charge=charge, member=member, day=day)
    line = base.lines[0]
    others, adjudications = [], []
    for other, cas in earlier:
        paid = D(charge) - sum((D(a) for _g, _r, a in cas), D("0"))
        others.append(replace(other, paid=paid, adjudication_date=other.adjudication_date or NOV_6))
        adjudications.append(LineAdjudication(other.payer.payer_id, paid, line.procedure, line.modifiers,
                                              line.units, adjustments=tuple(CasAdjustment(g, r, D(a))
                                                                            for g, r, a in cas)))
    return replace(base, payer=payer, payer_sequence=sequence, other_payers=(*others, *later),
                   lines=(replace(line, adjudications=tuple(adjudications)),))


AETNA_P = coverage("P", AETNA, "AETNA", "W100200300", day=NOV_6)
MEDICAID_S = coverage("S", MEDICAID, "STATE MEDICAID", "M123456789", filing="MC")
BCBS_T = coverage("T", BCBS, "BLUE CROSS", "B987654321", relationship="spouse", first="JOHN", filing="BL")
PRIMARY_LEFT: AMOUNTS = (("CO", "45", "35.00"), ("PR", "3", "25.00"))  # paid 80.00, the patient owes 25.00


def secondary(claim_id: str, left: AMOUNTS = PRIMARY_LEFT, member: str = "M123456789", **kw: Any) -> Claim837:
    """A claim billed to Medicaid as secondary after Aetna."""
    return billed_after(claim_id, Payer("STATE MEDICAID", MEDICAID, "MC"), member, "S", ((AETNA_P, left),), **kw)


def tertiary(claim_id: str, primary_left: AMOUNTS = PRIMARY_LEFT,
             secondary_left: AMOUNTS = (("OA", "23", "115.00"), ("PR", "2", "5.00"))) -> Claim837:
    """A claim billed to BCBS as tertiary after Aetna and Medicaid."""
    return billed_after(claim_id, Payer("BLUE CROSS", BCBS, "BL"), "B987654321", "T",
                        ((AETNA_P, primary_left), (replace(MEDICAID_S, adjudication_date=NOV_8), secondary_left)))


def chain_rules(**primary: Any) -> dict[str, PayerRules]:
    """Quiet rules for the three payers; ``primary`` overrides Aetna's."""
    return {AETNA: replace(QUIET, **primary), MEDICAID: replace(QUIET, copay=D("0")), BCBS: QUIET}


class Mailbox:
    """A mailbox folder to drop files into and read the simulator's answers from."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "inbound").mkdir(parents=True)
        self._n = 0

    def drop(self, data: bytes, name: str | None = None) -> str:
        self._n += 1
        name = name or f"up{self._n:03d}.x12"
        (self.root / "inbound" / name).write_bytes(data)
        return name

    def run(self, **kwargs: Any) -> SimResult:
        kwargs.setdefault("payers", {AETNA: QUIET})
        kwargs.setdefault("as_of", AS_OF)
        return simulate_mailbox(self.root, **kwargs)

    def answers(self, kind: str) -> list[bytes]:
        return [p.read_bytes() for p in sorted((self.root / "outbound").glob(f"*_{kind}_*"))]

    def acks(self) -> list[GroupAck]:
        return [parse_999(ts) for data in self.answers("999") for ts in open_x12(data)]

    def remittances(self) -> list[tuple[Remittance835Reader, list[ClaimPayment]]]:
        out = []
        for data in self.answers("835"):
            for ts in open_x12(data):
                reader = read_835(ts)
                out.append((reader, list(reader)))
        return out

    def claims(self) -> dict[str, ClaimPayment]:
        return {c.claim_id: c for _r, cs in self.remittances() for c in cs}

    def statuses(self, kind: str = "277CA") -> dict[str, Any]:
        return {c.claim_id: c for data in self.answers(kind) for ts in open_x12(data)
                for p in parse_277(ts).providers for c in p.claims}


@pytest.fixture
def box(tmp_path: Path) -> Mailbox:
    return Mailbox(tmp_path / "mailbox")


def _line_adjustments(c: ClaimPayment) -> list[tuple[str, str]]:
    return [(a.group, a.reason) for ln in c.lines for a in ln.adjustments]


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


class TestMailbox:
    def test_answered_files_move_to_archive(self, box: Mailbox) -> None:
        """Every answered upload is moved to the upload folder's archive and its answers land in the download folder."""
        name = box.drop(x837(claim("C000001")))
        result = box.run()
        assert result.answered == (name,)
        assert not (box.root / "inbound" / name).exists()
        assert (box.root / "inbound" / "archive" / name).is_file()
        assert sorted(p.name for p in (box.root / "outbound").iterdir()) == sorted(result.written)

    def test_answers_sort_in_the_order_they_were_written(self, box: Mailbox) -> None:
        """Answer file names sort as written (999, then 277CA, then 835), so an ingest by name applies them in order."""
        box.drop(x837(claim("C000001")))
        result = box.run()
        assert [n.split("_")[1] for n in result.written] == ["999", "277CA", "835"]
        assert list(result.written) == sorted(result.written)

    def test_same_seed_same_answers(self, tmp_path: Path) -> None:
        """Two fresh mailboxes given the same files and seed get byte-identical answers."""
        data = x837(claim("C000001"), claim("C000002", procedure="90837", member="W999888777"))
        texts = []
        for n in (1, 2):
            b = Mailbox(tmp_path / f"m{n}")
            b.drop(data, "same.x12")
            b.run(seed=5, payers={AETNA: PayerRules(necessity_denial_rate=0.5)})
            texts.append([p.read_bytes() for p in sorted((b.root / "outbound").iterdir())])
        assert texts[0] == texts[1]

    def test_outcomes_do_not_depend_on_the_envelope(self, tmp_path: Path) -> None:
        """The same claims sent in files with other control numbers and batch ids get the same adjudication."""
        claims = [claim(f"C0000{n:02d}", member=f"W1000000{n:02d}") for n in range(1, 11)]
        outcomes = []
        for n in (1, 2):
            b = Mailbox(tmp_path / f"e{n}")
            b.drop(x837(*claims))  # each call numbers its envelope and batch anew
            b.run(seed=3, payers={AETNA: replace(QUIET, necessity_denial_rate=0.5)})
            outcomes.append({cid: (c.paid, _line_adjustments(c)) for cid, c in b.claims().items()})
        assert outcomes[0] == outcomes[1]

    def test_seed_changes_the_dice(self, tmp_path: Path) -> None:
        """A different seed gives different random outcomes (here which lines are denied for medical necessity)."""
        data = x837(*(claim(f"C0000{n:02d}", member=f"W1000000{n:02d}") for n in range(1, 21)))
        outcomes = []
        for seed in (1, 2):
            b = Mailbox(tmp_path / f"s{seed}")
            b.drop(data, "same.x12")
            b.run(seed=seed, payers={AETNA: replace(QUIET, necessity_denial_rate=0.5)})
            outcomes.append(sorted(cid for cid, c in b.claims().items() if ("CO", "50") in _line_adjustments(c)))
        assert outcomes[0] != outcomes[1]

    def test_fixture_mode_copies_each_file_once(self, box: Mailbox, tmp_path: Path) -> None:
        """With fixtures the X12 files of the folder are copied once, other files skipped, and uploads still taken."""
        fx = tmp_path / "fx"
        fx.mkdir()
        for src in (FIXTURES / "999" / "accepted.x12", FIXTURES / "835" / "denial_co197.x12",
                    FIXTURES / "999" / "accepted.expected.json"):
            shutil.copy(src, fx / src.name)
        box.drop(x837(claim("C000001")))
        first = box.run(fixtures=fx)
        second = box.run(fixtures=fx)
        assert sorted(first.written) == ["accepted.x12", "denial_co197.x12"]
        assert second.written == ()
        assert (box.root / "outbound" / "denial_co197.x12").read_bytes() == (fx / "denial_co197.x12").read_bytes()
        assert len(first.answered) == 1 and not list((box.root / "inbound").glob("*.x12"))


def _wrong_se_count(data: bytes) -> bytes:
    segs = data.decode("latin-1").split("~")
    i = next(n for n, s in enumerate(segs) if s.lstrip().startswith("SE*"))
    parts = segs[i].split("*")
    segs[i] = "*".join([parts[0], str(int(parts[1]) + 1), *parts[2:]])
    return "~".join(segs).encode("latin-1")


def _without_hi(data: bytes) -> bytes:
    segs = [s for s in data.decode("latin-1").split("~") if not s.lstrip().startswith("HI*")]
    out = []
    for s in segs:
        if s.lstrip().startswith("SE*"):
            parts = s.split("*")
            s = "*".join([parts[0], str(int(parts[1]) - 1), *parts[2:]])
        out.append(s)
    return "~".join(out).encode("latin-1")


def _wrong_iea_count(data: bytes) -> bytes:
    return data.replace(b"IEA*1*", b"IEA*2*")


class TestAcknowledgments:
    def test_good_file_accepted(self, box: Mailbox) -> None:
        """A well-formed 837P gets a 999 accepting its set, tied to the file's GS06 and ST02."""
        box.drop(x837(claim("C000001")))
        box.run()
        (ack,) = box.acks()
        assert (ack.code, ack.functional_id, ack.accepted) == ("A", "HC", 1)
        assert ack.transactions[0].set_id == "837" and ack.transactions[0].control_number == "0001"

    @pytest.mark.parametrize(("mutate", "codes", "segment_error"), [
        (_wrong_se_count, ("4",), None),
        (_without_hi, ("5",), ("HI", "3")),
    ], ids=["se_count_mismatch_rejects_set", "missing_required_segment_rejects_set"])
    def test_broken_set_rejected(self, box: Mailbox, mutate: Callable[[bytes], bytes], codes: tuple[str, ...],
                                 segment_error: tuple[str, str] | None) -> None:
        """A set with an envelope count error or a missing required segment gets a 999 R and no 277CA or 835."""
        box.drop(mutate(x837(claim("C000001"))))
        box.run()
        (ack,) = box.acks()
        assert ack.code == "R" and ack.accepted == 0
        assert ack.transactions[0].error_codes == codes
        if segment_error:
            assert [(e.segment_id, e.code) for e in ack.transactions[0].segment_errors] == [segment_error]
        assert box.answers("277CA") == [] and box.answers("835") == []

    @pytest.mark.parametrize(("data", "note"), [
        (b"this is not X12 at all", "022"),
        (None, "021"),
    ], ids=["unreadable_file_ta1_022", "iea_group_count_ta1_021"])
    def test_broken_interchange_gets_ta1(self, box: Mailbox, data: bytes | None, note: str) -> None:
        """A file whose interchange cannot be read or whose IEA does not add up gets a TA1 R and nothing else."""
        box.drop(data if data is not None else _wrong_iea_count(x837(claim("C000001"))))
        box.run()
        (ta1_file,) = box.answers("TA1")
        ta1 = parse_ta1(next(s for s in read_segments(ta1_file) if s[0] == "TA1"))
        assert (ta1.code, ta1.note_code) == ("R", note)
        assert box.answers("999") == [] and box.answers("277CA") == []


class TestClaimAcknowledgment:
    def test_accepted_claims_get_payer_claim_numbers(self, box: Mailbox) -> None:
        """Each accepted claim is A1 and A2 with a REF*1K that the 835 repeats in CLP07."""
        box.drop(x837(claim("C000001"), claim("C000002", member="W555000111")))
        box.run()
        statuses = box.statuses()
        paid = box.claims()
        assert set(statuses) == {"C000001", "C000002"}
        for cid, st in statuses.items():
            assert [s.category for s in st.statuses] == ["A1", "A2"]
            assert st.payer_claim_number and st.payer_claim_number == paid[cid].payer_claim_number

    @pytest.mark.parametrize("member", ["12345", "W10-200", "AAAAAAAA", ""],
                             ids=["too_short", "punctuation", "one_repeated_character", "empty"])
    def test_invalid_member_id_rejected(self, box: Mailbox, member: str) -> None:
        """A member id the payer's front end cannot match is rejected A7:164 and never adjudicated."""
        box.drop(x837(claim("C000001", member=member or "W100200300"), claim("C000002", member="W555000111")))
        if not member:  # an empty NM109 cannot be built; blank it after building
            (box.root / "inbound" / "up001.x12").write_bytes(
                (box.root / "inbound" / "up001.x12").read_bytes().replace(b"MI*W100200300", b"MI*"))
        box.run()
        st = box.statuses()["C000001"]
        assert st.rejected and (st.statuses[0].category, st.statuses[0].code) == ("A7", "164")
        assert set(box.claims()) == {"C000002"}


class TestRemittance:
    @pytest.mark.parametrize("seed", range(1, 7), ids=lambda s: f"seed_{s}")
    def test_every_835_balances(self, box: Mailbox, seed: int) -> None:
        """Every 835 balances at line, claim and transaction level, PLB interest included."""
        rules = PayerRules(necessity_denial_rate=0.3, interest_rate=1.0, copay=D("25.00"))
        box.drop(x837(*(claim(f"C0001{n:02d}", procedure=p, charge=c, member=f"W20000{n:04d}")
                        for n, (p, c) in enumerate([("90834", "140.00"), ("90832", "100.00"),
                                                    ("90791", "250.00"), ("99214", "170.00")] * 3))))
        box.run(seed=seed, payers={AETNA: rules})
        ((reader, claims),) = box.remittances()
        assert reader.balance() == []
        plb = sum((a.amount for a in reader.provider_adjustments), D("0"))
        assert sum((c.paid for c in claims), D("0")) - plb == reader.payment.signed_amount
        assert any(a.reason == "L6" for a in reader.provider_adjustments)

    def test_fee_schedule_copay_and_contractual(self, box: Mailbox) -> None:
        """A paid line is allowed a share of the charge: CO 45 for the rest, the copay as PR 3, AMT*B6 the allowed."""
        rules = replace(QUIET, allowed_share=D("0.70"), copay=D("20.00"))
        box.drop(x837(claim("C000001", charge="200.00")))
        box.run(payers={AETNA: rules})
        c = box.claims()["C000001"]
        (line,) = c.lines
        allowed = line.amount("B6")
        assert allowed is not None and D("0.65") * 200 <= allowed <= D("0.75") * 200
        assert {(a.group, a.reason): a.amount for a in line.adjustments} == {
            ("CO", "45"): D("200.00") - allowed, ("PR", "3"): D("20.00")}
        assert (c.status_code, c.paid, c.patient_responsibility) == ("1", allowed - 20, D("20.00"))
        assert line.line_control_number == "L000001"

    def test_coinsurance_when_no_copay(self, box: Mailbox) -> None:
        """A plan without copay and with coinsurance charges the patient PR 2 on the allowed amount."""
        rules = replace(QUIET, copay=D("0"), coinsurance=D("0.20"))
        box.drop(x837(claim("C000001", charge="100.00")))
        box.run(payers={AETNA: rules})
        (line,) = box.claims()["C000001"].lines
        allowed = line.amount("B6")
        assert allowed is not None
        assert [(a.group, a.reason, a.amount) for a in line.adjustments if a.group == "PR"] == [
            ("PR", "2", (allowed * D("0.20")).quantize(D("0.01")))]

    @pytest.mark.parametrize(("auth", "known", "denied"), [
        ("", None, True),
        ("AUTH1", None, False),
        ("UNKNOWN", None, True),
        ("AUTH1", frozenset({"AUTH2"}), True),
        ("AUTH2", frozenset({"AUTH2"}), False),
    ], ids=["no_auth_denied", "any_auth_known_by_default", "unknown_list_denied", "number_payer_never_issued_denied",
            "number_payer_issued_paid"])
    def test_authorization(self, box: Mailbox, auth: str, known: frozenset[str] | None, denied: bool) -> None:
        """A code that needs authorization is denied CO 197 with N54 unless the payer knows the REF*G1 number."""
        box.drop(x837(claim("C000001", procedure="90837", charge="180.00", auth=auth)))
        box.run(payers={AETNA: replace(QUIET, known_auths=known)})
        c = box.claims()["C000001"]
        (line,) = c.lines
        if denied:
            assert (c.status_code, c.paid, _line_adjustments(c), line.remarks) == ("4", D("0"), [("CO", "197")], ("N54",))
        else:
            assert c.paid > 0 and ("CO", "197") not in _line_adjustments(c)

    def test_visit_limit_counts_across_files(self, box: Mailbox) -> None:
        """Psychotherapy visits past the plan's yearly limit are denied CO 119 (N362), counted across files."""
        rules = replace(QUIET, visit_limit_per_year=2)
        for n in range(1, 4):
            box.drop(x837(claim(f"C00000{n}", day=date(2026, 10, n))))
            box.run(payers={AETNA: rules})
        paid = box.claims()
        assert [paid[f"C00000{n}"].paid > 0 for n in (1, 2, 3)] == [True, True, False]
        assert _line_adjustments(paid["C000003"]) == [("CO", "119")]
        assert paid["C000003"].lines[0].remarks == ("N362",)

    def test_visit_limit_is_per_member_and_year(self, box: Mailbox) -> None:
        """Another member, or the same member in another year, starts a fresh count."""
        rules = replace(QUIET, visit_limit_per_year=1)
        box.drop(x837(claim("C000001", day=date(2026, 1, 5)), claim("C000002", member="W555000111"),
                      claim("C000003", day=date(2025, 12, 29))))
        box.run(payers={AETNA: rules})
        assert all(c.paid > 0 for c in box.claims().values())

    def test_duplicate_service_denied_oa18(self, box: Mailbox) -> None:
        """The same member, date and procedure already paid is denied OA 18 (N111), also from an earlier file."""
        box.drop(x837(claim("C000001")))
        box.run()
        box.drop(x837(claim("C000002")))
        box.run()
        c = box.claims()["C000002"]
        assert (c.paid, _line_adjustments(c), c.lines[0].remarks) == (D("0"), [("OA", "18")], ("N111",))

    def test_medical_necessity_denial(self, box: Mailbox) -> None:
        """At a denial rate of 1 every otherwise payable line is denied CO 50 with M25."""
        box.drop(x837(claim("C000001"), claim("C000002", member="W555000111")))
        box.run(payers={AETNA: replace(QUIET, necessity_denial_rate=1.0)})
        for c in box.claims().values():
            assert _line_adjustments(c) == [("CO", "50")] and c.lines[0].remarks == ("M25",)

    def test_one_835_per_payer_with_unique_traces(self, box: Mailbox) -> None:
        """Claims to two payers get one 835 each, each with its own TRN trace number."""
        box.drop(x837(claim("C000001"), claim("C000002", payer_id="SKCA0", member="W555000111")))
        box.drop(x837(claim("C000003", member="W777000111")))
        box.run(payers={AETNA: QUIET, "SKCA0": QUIET})
        remits = box.remittances()
        assert sorted(c.claim_id for _r, cs in remits for c in cs) == ["C000001", "C000002", "C000003"]
        traces = [r.payment.trace_number for r, _cs in remits]
        assert len(remits) == 3 and len(set(traces)) == 3

    def test_payer_loop_carries_the_technical_contact(self, box: Mailbox) -> None:
        """1000A carries the mandatory payer technical contact (PER*BL) with a telephone number."""
        box.drop(x837(claim("C000001")))
        box.run()
        ((reader, _claims),) = box.remittances()
        (contact,) = [c for c in reader.payer.contacts if c.function == "BL"]
        assert contact.name and [q for q, _n in contact.numbers] == ["TE"]


class TestCorrections:
    @pytest.mark.parametrize(("frequency", "new_paid"), [("7", True), ("8", False)],
                             ids=["replacement_reverses_and_pays_again", "void_only_reverses"])
    def test_replacement_and_void(self, box: Mailbox, frequency: str, new_paid: bool) -> None:
        """A frequency 7 or 8 claim naming a paid claim's number reverses it (CLP02 22, amounts negated, same patient)."""
        box.drop(x837(claim("C000001")))
        box.run()
        original = box.claims()["C000001"]
        box.drop(x837(replace(claim("C000002"), frequency_code=frequency,
                              payer_claim_number=original.payer_claim_number)))
        box.run()
        remits = box.remittances()
        reversal = next(c for _r, cs in remits for c in cs if c.status_code == "22")
        assert (reversal.claim_id, reversal.paid, reversal.charge) == ("C000001", -original.paid, -original.charge)
        assert reversal.patient == original.patient is not None  # NM1*QC is mandatory in every 2100 loop
        assert all(r.balance() == [] for r, _cs in remits)
        replacement = [c for _r, cs in remits for c in cs if c.claim_id == "C000002"]
        assert (len(replacement) == 1 and replacement[0].paid == original.paid) if new_paid else replacement == []


def _chain_claims(box: Mailbox) -> list[tuple[str, ClaimPayment]]:
    """(the 835's payer id from N1*PR N104, claim) for every claim of every 835, in file order."""
    return [(reader.payer.id, c) for reader, claims in box.remittances() for c in claims]


def _read(data: bytes) -> list[Any]:
    _isa, groups = read_file(data)
    return [c for g in groups for s in g.sets for c in read_837(s.segments, s.comp).claims]


class TestReadingTheChain:
    def test_tertiary_claim_read_with_every_earlier_payer(self) -> None:
        """2000B SBR01, each 2320 (SBR01, AMT*D, date), 2330A/B ids and each line's 2430 (SVD, CAS) are read;
        the other payers' NM1*IL/PR do not replace the billed payer and its member."""
        (c,) = _read(x837(tertiary("C000301")))
        assert (c.payer_id, c.member_id, c.payer_sequence) == (BCBS, "B987654321", "T")
        assert [(o.sequence, o.payer_id, o.member_id, o.paid, o.adjudicated) for o in c.other_payers] == [
            ("P", AETNA, "W100200300", D("80.00"), NOV_6), ("S", MEDICAID, "M123456789", D("20.00"), NOV_8)]
        (line,) = c.lines
        assert [(p.payer_id, p.paid, p.procedure, p.units, p.patient_responsibility) for p in line.prior] == [
            (AETNA, D("80.00"), "90834", 1, D("25.00")), (MEDICAID, D("20.00"), "90834", 1, D("5.00"))]
        assert [(a.group, a.reason, a.amount) for a in line.prior[0].adjustments] == [
            ("CO", "45", D("35.00")), ("PR", "3", D("25.00"))]
        assert c.next_payer() is None

    def test_primary_with_other_coverage_and_claims_after_it(self) -> None:
        """A primary claim names its next payers without amounts; the claim after it in the same subscriber
        loop still belongs to the primary payer and member."""
        first = with_coverage(claim("C000311"), MEDICAID_S, BCBS_T)
        second = claim("C000312", procedure="90832", charge="100.00")
        c1, c2 = _read(x837(first, second))
        assert [(o.sequence, o.payer_id, o.paid) for o in c1.other_payers] == [("S", MEDICAID, None), ("T", BCBS, None)]
        assert (c1.payer_id, c1.member_id, c1.payer_sequence) == (AETNA, "W100200300", "P")
        nxt = c1.next_payer()
        assert nxt is not None and (nxt.payer_id, nxt.member_id) == (MEDICAID, "M123456789")
        assert (c2.payer_id, c2.member_id, c2.other_payers, c2.lines[0].prior) == (AETNA, "W100200300", (), ())


class TestAsSecondaryAndTertiary:
    @pytest.mark.parametrize(("charge", "left", "share", "expected"), [
        ("140.00", (("CO", "45", "35.00"), ("PR", "3", "25.00")), "0.80",
         [("OA", "23", "115.00"), ("PR", "2", "5.00")]),
        ("100.00", (("CO", "45", "20.00"), ("PR", "2", "13.33"), ("PR", "3", "20.00")), "0.80",
         [("OA", "23", "66.67"), ("PR", "2", "6.67")]),
        ("140.00", (("CO", "45", "35.00"), ("PR", "3", "25.00")), "1.00", [("OA", "23", "115.00")]),
        ("140.00", (("CO", "45", "40.00"),), "0.80", [("OA", "23", "140.00")]),
    ], ids=["part_of_the_copay", "sum_of_every_pr_rounded_to_cents", "pays_all_that_is_left", "nothing_left"])
    def test_line_amounts(self, box: Mailbox, charge: str, left: AMOUNTS, share: str,
                          expected: list[tuple[str, str, str]]) -> None:
        """OA 23 is the charge less what the primary left the patient (its PR); the payer pays its share of
        that and leaves the rest PR; the line, claim and 835 balance."""
        box.drop(x837(secondary("C000321", left, charge=charge)))
        rules = chain_rules()
        rules[MEDICAID] = replace(rules[MEDICAID], cob_share=D(share))
        box.run(payers=rules)
        ((reader, (c,)),) = box.remittances()
        (line,) = c.lines
        assert [(a.group, a.reason, str(a.amount)) for a in line.adjustments] == expected
        prior_pr = sum((D(a) for g, _r, a in left if g == "PR"), D("0"))
        assert line.paid == (prior_pr * D(share)).quantize(D("0.01")) == c.paid
        assert (c.status_code, c.charge, c.patient_responsibility) == ("2", D(charge), prior_pr - c.paid)
        assert reader.balance() == [] and reader.payment.signed_amount == c.paid
        assert (reader.payer.id, reader.payer.reference("2U")) == (MEDICAID, MEDICAID)

    def test_tertiary_looks_at_what_the_secondary_left(self, box: Mailbox) -> None:
        """A tertiary payer's OA 23 is the charge less the secondary's PR (not the primary's); CLP02 3."""
        box.drop(x837(tertiary("C000331")))
        box.run(payers=chain_rules())
        ((payer, c),) = _chain_claims(box)
        assert (payer, c.claim_id, c.status_code, c.paid) == (BCBS, "C000331", "3", D("4.00"))
        assert [(a.group, a.reason, a.amount) for a in c.lines[0].adjustments] == [
            ("OA", "23", D("135.00")), ("PR", "3", D("1.00"))]

    def test_line_without_prior_adjudication_denied_co16(self, box: Mailbox) -> None:
        """A secondary claim whose line has no 2430 is denied CO 16 with MA04 (no prior payer information)."""
        c = secondary("C000341")
        box.drop(x837(replace(c, other_payers=(replace(c.other_payers[0], paid=D("0.00"),
                                                       adjustments=(CasAdjustment("CO", "45", D("140.00")),)),),
                              lines=(replace(c.lines[0], adjudications=()),))))
        box.run(payers=chain_rules())
        ((_payer, claim_paid),) = _chain_claims(box)
        assert (claim_paid.status_code, claim_paid.paid, _line_adjustments(claim_paid)) == ("4", D("0"), [("CO", "16")])
        assert claim_paid.lines[0].remarks == ("MA04",)

    def test_cob_denial_now_and_then(self, box: Mailbox) -> None:
        """At a COB denial rate of 1 the secondary denies the whole claim CO 22 (another payer is primary)."""
        box.drop(x837(secondary("C000351")))
        rules = chain_rules()
        rules[MEDICAID] = replace(rules[MEDICAID], cob_denial_rate=1.0)
        box.run(payers=rules)
        ((_payer, c),) = _chain_claims(box)
        assert (c.status_code, c.paid, c.patient_responsibility, _line_adjustments(c)) == (
            "4", D("0"), D("0"), [("CO", "22")])

    def test_cob_denials_are_deterministic_and_rare(self, tmp_path: Path) -> None:
        """At the default rate roughly one secondary claim in twelve is denied CO 22, the same ones every time."""
        denied = []
        for n in (1, 2):
            b = Mailbox(tmp_path / f"d{n}")
            b.drop(x837(*(secondary(f"C0004{k:02d}", member=f"M1000000{k:02d}") for k in range(60))))
            b.run(payers={**chain_rules(), MEDICAID: replace(QUIET, cob_denial_rate=PayerRules().cob_denial_rate)})
            denied.append(sorted(c.claim_id for _p, c in _chain_claims(b) if c.status_code == "4"))
        assert denied[0] == denied[1] and 1 <= len(denied[0]) <= 12

    def test_replacement_of_a_secondary_claim(self, box: Mailbox) -> None:
        """A replacement of a secondary claim reverses the secondary's payment (CLP02 22) and is paid again as secondary."""
        box.drop(x837(secondary("C000361")))
        box.run(payers=chain_rules())
        ((_p, original),) = _chain_claims(box)
        box.drop(x837(replace(secondary("C000362"), frequency_code="7",
                              payer_claim_number=original.payer_claim_number)))
        box.run(payers=chain_rules())
        later = _chain_claims(box)[1:]
        assert [(p, c.claim_id, c.status_code, c.paid) for p, c in later] == [
            (MEDICAID, "C000361", "22", -original.paid), (MEDICAID, "C000362", "2", original.paid)]


class TestForwarding:
    def test_primary_forwards_and_the_secondary_answers(self, box: Mailbox) -> None:
        """A forwarded claim is CLP02 19 with the crossover carrier (NM1*TT); the secondary then sends its own
        835 (its N1*PR id, its trace) for the same CLP01, CLP02 2, paying part of what the primary left."""
        box.drop(x837(with_coverage(claim("C000501"), MEDICAID_S)))
        result = box.run(payers=chain_rules(crossover_rate=1.0))
        assert [n.split("_")[1] for n in result.written] == ["999", "277CA", "835", "835"]
        (primary_reader, (p,)), (secondary_reader, (s,)) = box.remittances()
        assert (primary_reader.payer.id, p.claim_id, p.status_code) == (AETNA, "C000501", "19")
        (tt,) = [n for n in p.other_names if n.entity_code == "TT"]
        assert (tt.last_name, tt.id_qualifier, tt.id) == ("STATE MEDICAID", "PI", MEDICAID)
        assert (secondary_reader.payer.id, secondary_reader.payer.reference("2U")) == (MEDICAID, MEDICAID)
        assert secondary_reader.payment.trace_number != primary_reader.payment.trace_number
        assert (s.claim_id, s.status_code) == ("C000501", "2")
        assert s.payer_claim_number != p.payer_claim_number
        assert s.insured is None and s.patient is not None and s.patient.id == "M123456789"
        left = p.patient_responsibility
        assert left > 0 and s.paid == (left * D("0.80")).quantize(D("0.01"))
        assert [(a.group, a.reason, a.amount) for a in s.lines[0].adjustments] == [
            ("OA", "23", s.charge - left), ("PR", "2", left - s.paid)]
        assert primary_reader.balance() == [] and secondary_reader.balance() == []

    def test_forwarded_along_the_whole_chain(self, box: Mailbox) -> None:
        """With a secondary and a tertiary named and every payer forwarding, three 835s answer one claim:
        CLP02 19 (primary), 19 (secondary), 3 (tertiary), each from its own payer."""
        box.drop(x837(with_coverage(claim("C000511"), MEDICAID_S, BCBS_T)))
        rules = {pid: replace(r, crossover_rate=1.0) for pid, r in chain_rules().items()}
        box.run(payers=rules)
        assert [(p, c.claim_id, c.status_code) for p, c in _chain_claims(box)] == [
            (AETNA, "C000511", "19"), (MEDICAID, "C000511", "19"), (BCBS, "C000511", "3")]
        assert all(r.balance() == [] for r, _cs in box.remittances())

    @pytest.mark.parametrize("rules", [
        {"crossover_rate": 0.0},
        {"crossover_rate": 1.0, "copay": D("0")},
        {"crossover_rate": 1.0, "necessity_denial_rate": 1.0},
    ], ids=["rate_zero", "nothing_left_to_the_patient", "denied"])
    def test_not_forwarded(self, box: Mailbox, rules: dict[str, Any]) -> None:
        """No forwarding at rate 0, when the primary left the patient nothing, or when it denied the claim."""
        box.drop(x837(with_coverage(claim("C000521"), MEDICAID_S)))
        box.run(payers=chain_rules(**rules))
        assert [(p, c.status_code) for p, c in _chain_claims(box)] in ([(AETNA, "1")], [(AETNA, "4")])

    def test_about_one_in_five_forwarded_the_same_ones_every_time(self, tmp_path: Path) -> None:
        """At the default rate roughly one claim in five with other coverage is forwarded, deterministically."""
        claims = [with_coverage(claim(f"C0006{k:02d}", member=f"W3000000{k:02d}"), MEDICAID_S) for k in range(60)]
        forwarded = []
        for n in (1, 2):
            b = Mailbox(tmp_path / f"f{n}")
            b.drop(x837(*claims))
            b.run(payers={**chain_rules(), AETNA: replace(QUIET, crossover_rate=PayerRules().crossover_rate)})
            forwarded.append(sorted(c.claim_id for p, c in _chain_claims(b) if c.status_code == "19"))
            assert len([c for p, c in _chain_claims(b) if p == MEDICAID]) == len(forwarded[-1])
        assert forwarded[0] == forwarded[1] and 5 <= len(forwarded[0]) <= 20


class TestEligibility:
    def test_271_echoes_trace_with_mental_health_benefits(self, box: Mailbox) -> None:
        """Each 270 person gets a 271 member echoing our TRN, active, with copay, visit limit and auth codes."""
        box.drop((FIXTURES / "270" / "single_subscriber.x12").read_bytes())
        rules = replace(QUIET, visit_limit_per_year=20, copay=D("30.00"), auth_required=frozenset({"90837"}))
        box.run(payers={AETNA: rules})
        (data,) = box.answers("271")
        members = [m for ts in open_x12(data) for m in parse_271(ts).members]
        sent = [s for s in read_segments((FIXTURES / "270" / "single_subscriber.x12").read_bytes()) if s[0] == "TRN"]
        assert [m.trace for m in members] == [s[2] for s in sent]
        m = members[0]
        assert m.is_active_on(AS_OF) is True
        assert any(b.code == "B" and b.amount == D("30") for b in m.benefits)
        assert any(b.quantity == 20 for b in m.visit_limits)
        assert [b.procedure for b in m.benefits if b.auth_required] == [("HC", "90837")]
        assert all(len(b.service_types) <= 1 for b in m.benefits)

    def test_dependents_and_every_asked_service_type(self, box: Mailbox) -> None:
        """A dependent's inquiry is answered under its subscriber, one EB per service type asked."""
        box.drop((FIXTURES / "270" / "subscribers_and_dependent.x12").read_bytes())
        box.run(payers={AETNA: QUIET, "610442": QUIET})
        (data,) = box.answers("271")
        responses = [parse_271(ts) for ts in open_x12(data)]
        dependent = next(m for r in responses for m in r.members if m.level == "dependent")
        assert dependent.trace == "E000002"
        assert {"MH", "A6", "AI"} <= {st for b in dependent.benefits for st in b.service_types}

    def test_inactive_share(self, box: Mailbox) -> None:
        """At an inactive rate of 1 the 271 reports the coverage inactive (EB*6)."""
        box.drop((FIXTURES / "270" / "single_subscriber.x12").read_bytes())
        box.run(payers={AETNA: replace(QUIET, inactive_rate=1.0)})
        (data,) = box.answers("271")
        (m,) = [m for ts in open_x12(data) for m in parse_271(ts).members]
        assert m.coverage == "inactive" and m.is_active_on(AS_OF) is False


class TestClaimStatus:
    def test_277_reports_what_the_payer_did(self, box: Mailbox) -> None:
        """A 276 is answered per claim: paid F1:65 with the payment, denied F2, unknown A4, echoing the trace."""
        box.drop(x837(claim("C000101"), claim("C000102", procedure="90837", charge="180.00",
                                               last="ROE", member="W900800700")))
        box.run()
        box.drop((FIXTURES / "276" / "subscriber_and_dependent.x12").read_bytes())
        box.run()
        statuses = box.statuses("277")
        paid = box.claims()
        assert set(statuses) == {"C000101", "C000102", "C000105"}
        s1 = statuses["C000101"].statuses[0]
        assert (s1.category, s1.code, s1.payment) == ("F1", "65", paid["C000101"].paid)
        assert statuses["C000102"].statuses[0].category == "F2"
        assert statuses["C000105"].statuses[0].category == "A4"
        assert statuses["C000101"].trace_number == "C000101"


class TestState:
    def test_state_file_in_mailbox_root(self, box: Mailbox) -> None:
        """What payers remember lives in a JSON file in the mailbox root, outside the mail folders."""
        box.drop(x837(claim("C000001")))
        box.run()
        assert (box.root / STATE_FILE).is_file()
        assert STATE_FILE not in [p.name for p in (box.root / "outbound").iterdir()]


class TestDemoSample:
    @pytest.mark.parametrize("as_of", [date(2026, 6, 1), date(2027, 3, 15), date(2028, 1, 10)],
                             ids=["sample_date_unchanged", "moved_forward", "kept_in_one_calendar_year"])
    def test_sessions_before_as_of_in_one_year(self, tmp_path: Path, as_of: date) -> None:
        """The demo's sessions are moved to end shortly before as_of, all in one calendar year, auths moved alike."""
        import csv

        from pipelines.demo import write_sample

        _config, encounters, auths = write_sample(tmp_path, as_of)
        with encounters.open(newline="") as fh:
            days = [date.fromisoformat(r["date_of_service"]) for r in csv.DictReader(fh)]
        with auths.open(newline="") as fh:
            auth_100 = next(r for r in csv.DictReader(fh) if r["authorization_number"] == "AUTH-100")
        assert max(days) < as_of and (as_of - max(days)).days <= 40
        assert min(days).year == max(days).year
        assert date.fromisoformat(auth_100["start_date"]) <= min(days) <= max(days) <= date.fromisoformat(
            auth_100["end_date"])
