"""837P professional claim (005010X222A1): builder, parser and ``edi inspect`` JSON.

* :mod:`edi.x837p.model` — what the builder takes: :class:`Batch837`, :class:`Claim837`,
  :class:`ServiceLine` and the parties (:class:`BillingProvider` 2010AA, :class:`Subscriber`
  2010BA, :class:`Payer` 2010BB, :class:`Patient` 2010CA, :class:`RenderingProvider` 2310B);
  :class:`Submitter` (1000A) and :class:`Receiver` (1000B) are shared with the 270 and 276.
  Coordination of benefits: :class:`OtherPayer` (2320/2330A/2330B), :class:`LineAdjudication`
  (2430), :class:`CasAdjustment` (a CAS triplet) and :func:`line_balance_errors`, the guide's
  balancing rules, which the builder enforces and a caller can check first to hold one claim.
* :mod:`edi.x837p.build` — :func:`build_837p`, one function per loop of the guide
  (``_loop_2010aa_billing_provider``, ``_loop_2300_claim``, ``_loop_2400_service_line``, ...).
* :mod:`edi.x837p.parsed` — what :func:`parse_837p` returns: :class:`ClaimSubmission` with
  :class:`SubmittedClaim` (2300), :class:`SubmittedOtherPayer` (2320/2330A/2330B),
  :class:`SubmittedLine` (2400) and :class:`SubmittedAdjudication` (2430).
* :mod:`edi.x837p.parse` — :func:`parse_837p` and :func:`inspect_837p`.

Build a file with ``build_837p(batch, envelope=EnvelopeSpec(isa_control=..., gs_control=...,
st_control="0001", created=..., usage="T"))``; read one with ``parse_837p(ts)`` for each
transaction set ``ts`` of :func:`edi.x12.open_x12`.
"""

from __future__ import annotations

from edi._envelope import EnvelopeSpec, Receiver, Submitter, clean_text
from edi._read import Entity, Person
from edi.x837p.build import IMPLEMENTATION, build_837p, relationship_code
from edi.x837p.model import (
    Address,
    Batch837,
    BillingProvider,
    CasAdjustment,
    Claim837,
    LineAdjudication,
    OtherPayer,
    Patient,
    Payer,
    RenderingProvider,
    ServiceLine,
    Subscriber,
    line_balance_errors,
)
from edi.x837p.parse import inspect_837p, parse_837p
from edi.x837p.parsed import (
    ClaimSubmission,
    SubmittedAdjudication,
    SubmittedClaim,
    SubmittedLine,
    SubmittedOtherPayer,
)

__all__ = [
    "IMPLEMENTATION",
    "Address",
    "Batch837",
    "BillingProvider",
    "CasAdjustment",
    "Claim837",
    "ClaimSubmission",
    "Entity",
    "EnvelopeSpec",
    "LineAdjudication",
    "OtherPayer",
    "Patient",
    "Payer",
    "Person",
    "Receiver",
    "RenderingProvider",
    "ServiceLine",
    "SubmittedAdjudication",
    "SubmittedClaim",
    "SubmittedLine",
    "SubmittedOtherPayer",
    "Submitter",
    "Subscriber",
    "build_837p",
    "clean_text",
    "inspect_837p",
    "line_balance_errors",
    "parse_837p",
    "relationship_code",
]
