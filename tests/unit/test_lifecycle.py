"""The claim lifecycle: every (status, event) pair, allowed or refused, against the table."""

from __future__ import annotations

import itertools

import pytest

from pipelines.errors import PipelineError
from pipelines.rules.lifecycle import (
    ADJUDICATED,
    AWAITING_ANSWER,
    FINAL,
    TRANSITIONS,
    UNSENT,
    ClaimStatus,
    Event,
    IllegalTransition,
    can,
    sources,
    transition,
)

S, E = ClaimStatus, Event

# The whole lifecycle written out by hand, independently of the table's comprehensions:
# (before, event) -> after. Every pair not listed here must be refused.
EXPECTED: dict[tuple[ClaimStatus | None, Event], ClaimStatus] = {
    (None, E.CODED_READY): S.READY, (S.HELD, E.CODED_READY): S.READY, (S.READY, E.CODED_READY): S.READY,
    (None, E.CODED_HELD): S.HELD, (S.HELD, E.CODED_HELD): S.HELD, (S.READY, E.CODED_HELD): S.HELD,
    (S.READY, E.BUILD_REFUSED): S.HELD,
    (S.READY, E.SENT): S.SUBMITTED,
    (None, E.REPLACEMENT_SENT): S.SUBMITTED,
    (S.SUBMITTED, E.ACK_ACCEPTED): S.ACCEPTED, (S.ACCEPTED, E.ACK_ACCEPTED): S.ACCEPTED,
    (S.REJECTED, E.ACK_ACCEPTED): S.ACCEPTED,
    (S.SUBMITTED, E.ACK_REJECTED): S.REJECTED, (S.ACCEPTED, E.ACK_REJECTED): S.REJECTED,
    (S.REJECTED, E.ACK_REJECTED): S.REJECTED,
    (None, E.CROSSED_OVER): S.CROSSED_OVER,
}
_POSTED = {E.POSTED_PAID: S.PAID, E.POSTED_DENIED: S.DENIED,
           E.POSTED_PATIENT_RESPONSIBILITY: S.PATIENT_RESPONSIBILITY, E.POSTED_REVERSED: S.REVERSED,
           E.POSTED_VOID: S.VOID}
for _before in (S.SUBMITTED, S.ACCEPTED, S.REJECTED, S.PAID, S.DENIED, S.PATIENT_RESPONSIBILITY, S.REVERSED,
                S.VOID, S.CROSSED_OVER):
    for _event, _after in _POSTED.items():
        EXPECTED[(_before, _event)] = _after

ALL_PAIRS = list(itertools.product([None, *ClaimStatus], list(Event)))


class TestTable:
    def test_the_table_is_exactly_the_lifecycle_written_out(self) -> None:
        """The transition table holds every expected move and nothing else."""
        assert TRANSITIONS == EXPECTED

    @pytest.mark.parametrize(("before", "event"), ALL_PAIRS, ids=lambda v: str(v))
    def test_every_pair_moves_or_is_refused(self, before: ClaimStatus | None, event: Event) -> None:
        """A listed move returns its status; any other raises IllegalTransition naming both."""
        if (before, event) in EXPECTED:
            assert transition(before, event) is EXPECTED[(before, event)]
            assert can(before, event)
        else:
            assert not can(before, event)
            with pytest.raises(IllegalTransition) as info:
                transition(before, event, claim_id="C000001")
            assert str(event) in str(info.value) and "C000001" in str(info.value)
            assert isinstance(info.value, PipelineError)

    def test_statuses_are_read_back_from_the_database_as_strings(self) -> None:
        """A status stored as text works as well as the member."""
        assert transition("ready", E.SENT) == "submitted"
        assert transition("submitted", E.POSTED_PAID) is S.PAID

    def test_an_unknown_status_string_is_refused(self) -> None:
        """A status the enum does not know is an illegal transition, not a KeyError."""
        with pytest.raises(IllegalTransition):
            transition("bogus", E.SENT)


class TestGuards:
    def test_named_sets(self) -> None:
        """The guard sets partition the statuses the way the contract describes them."""
        assert {S.HELD, S.READY} == UNSENT
        assert {S.SUBMITTED, S.ACCEPTED} == AWAITING_ANSWER
        assert {S.PAID, S.DENIED, S.PATIENT_RESPONSIBILITY} == ADJUDICATED
        assert ADJUDICATED | {S.REVERSED, S.VOID} == FINAL

    def test_nothing_unsent_can_be_posted_or_acknowledged(self) -> None:
        """An 835 or a 999/277CA never moves a claim that was not sent."""
        for event in (*_POSTED, E.ACK_ACCEPTED, E.ACK_REJECTED):
            assert not (sources(event) & UNSENT)

    def test_a_sent_claim_is_never_recoded(self) -> None:
        """Coding events apply only to new, held and ready claims."""
        assert sources(E.CODED_READY) == sources(E.CODED_HELD) == {None, S.HELD, S.READY}

    def test_status_values_are_the_contracts(self) -> None:
        """The stored values are the contract's words (section 6 and 7)."""
        assert {s.value for s in ClaimStatus} == {
            "held", "ready", "submitted", "accepted", "rejected", "paid", "denied", "patient_responsibility",
            "reversed", "void", "crossed_over"}


def test_a_sent_claim_never_goes_back_to_unsent() -> None:
    """Re-coding deletes and writes again the lines of unsent claims only; the postings' adjustments and
    remarks name lines without a foreign key (migration 0005), which holds because no claim an 835 can
    post to (anything sent) ever becomes unsent again."""
    back = [(before, event, after) for (before, event), after in TRANSITIONS.items()
            if before is not None and before not in UNSENT and after in UNSENT]
    assert back == []
