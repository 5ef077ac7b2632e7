"""Every table, imported in one place so that Base.metadata is complete."""

from models.claims import Authorization, Claim, ClaimLine, ClaimStatusEvent, Eligibility, Encounter, Inquiry
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
    "Adjustment", "Authorization", "Claim", "ClaimLine", "ClaimPayment", "ClaimStatusEvent",
    "CodeDescription", "ControlCounter", "Denial", "Eligibility", "Encounter", "File",
    "FileTransaction", "Inquiry", "ProviderAdjustment", "Remark", "Remittance", "Run", "RunStep",
    "UnmatchedPayment",
]
