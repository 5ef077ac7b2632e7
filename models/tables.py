"""Every table, imported in one place so that Base.metadata is complete."""

from models.audit import AuditEvent
from models.claims import Authorization, Claim, ClaimLine, ClaimStatusEvent, Eligibility, Encounter, Inquiry
from models.cob import CobAdjudication
from models.deposits import Deposit
from models.ledger import ControlCounter, File, FileTransaction, Run, RunStep
from models.remittance import (
    Adjustment,
    ClaimPayment,
    CodeDescription,
    Denial,
    ProviderAdjustment,
    Remark,
    Remittance,
    UnmatchedPayment,
)

__all__ = [
    "Adjustment", "AuditEvent", "Authorization", "Claim", "ClaimLine", "ClaimPayment", "ClaimStatusEvent",
    "CobAdjudication", "CodeDescription", "ControlCounter", "Denial", "Deposit", "Eligibility", "Encounter", "File",
    "FileTransaction", "Inquiry", "ProviderAdjustment", "Remark", "Remittance", "Run", "RunStep",
    "UnmatchedPayment",
]
