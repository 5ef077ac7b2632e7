"""`edi simulate`: a clearinghouse and its payers, answering what we put in the mailbox.

For every file in the mailbox's upload folder the simulator reads the X12 we sent and writes into
the download folder what a clearinghouse and the payers behind it would send back; the file is
then moved to ``upload/archive/`` (the clearinghouse took it):

* every file: a 999 per functional group (a set that is broken, e.g. a wrong SE count or a
  missing required segment, is rejected); a file whose interchange cannot be read gets a TA1 R;
* 837P: a 277CA per file (each claim A1/A2 with a payer claim number, or A7 when the member id
  looks invalid or the claim does not add up), then an 835 per payer (N1*PR with its payer id in
  N104 and REF*2U, the technical contact PER*BL, its own TRN) for the claims billed to it:
  - as primary (2000B SBR01 P): paid by the payer's fee schedule (allowed = a fixed share of the
    charge per payer and code, CO 45 for the difference, PR 3 copay or PR 2 coinsurance), denied
    where a payer would: an authorization it does not know (CO 197, N54), a visit over the plan's
    yearly limit (CO 119, N362), a service already paid (OA 18, N111), now and then no medical
    necessity (CO 50, M25);
  - as secondary or tertiary (SBR01 S or T, the earlier payers in 2320/2330B and each line's 2430):
    OA 23 for the earlier payers' share, part of what the last of them left to the patient paid,
    PR for the rest; CLP02 2 or 3; now and then a COB denial (CO 22), CO 16 for a line without a
    2430 (see :mod:`.coordination`);
  - a claim naming a next coverage (2320) that its payer left the patient something on is now and
    then forwarded (CLP02 19 with the crossover carrier NM1*TT), and the next payer then sends its
    own 835 for the same CLP01, as secondary (or tertiary);
  reversals (CLP02 22) for replacements and voids, an occasional PLB L6 interest; every 835
  balances exactly (line, claim, and sum CLP04 - PLB = BPR02), and every file the simulator writes
  validates with pyx12 (tests/integration/test_simulator_pyx12.py);
* 270: a 271 per 270 set (active mental-health coverage with copay, visit limit and the codes
  that need authorization; a small deterministic share inactive), echoing our TRN trace;
* 276: a 277 per 276 set, with each claim's status as the simulator adjudicated it.

It is deterministic: every chance (a medical-necessity denial, an inactive member, interest on
a payment, the fee schedule's share per code, a forwarded claim, a COB denial) is a stable hash of
the seed and what it is about (the payer and claim, the line control number, the member, the payer
and code, the trace number), never the global random generator and never the file's envelope dates,
so the same claims get the same answers however they are batched and whenever they were written.
What a payer must remember between files (visits per member and year, services paid, claim
outcomes, counters) lives in ``simulator_state.json`` in the mailbox root. ``fixtures=DIR`` answers
instead by copying every X12 file of DIR into the download folder once (clearinghouse integration
testing).

The simulator needs no database and no configuration: it only reads the X12 it is given, and it
imports only ``edi``, ``transports`` and the standard library. Where things are:

* :mod:`.mailbox` -- :func:`simulate_mailbox` (one pass over a mailbox folder), :class:`SimResult`;
* :mod:`.clearinghouse` -- answering one file: TA1 or 999, then 277CA + 835, 271 or 277;
* :mod:`.reading` -- reading what we sent: envelope, 837P (with its other payers and 2430s), 270
  and 276;
* :mod:`.acks` -- TA1, 999 and 277CA; :mod:`.remittance` -- the 835; :mod:`.adjudication` -- the
  primary payer's decision on a claim (denials, fee schedule, copay); :mod:`.coordination` -- the
  secondary and tertiary payers' decision, and forwarding; :mod:`.eligibility` -- the 271;
  :mod:`.status` -- the 277;
* :mod:`.payers` -- :class:`PayerRules` and the rules read from a configuration;
* :mod:`.state` -- what the payers remember between files; :mod:`.context` -- one pass's
  bookkeeping; :mod:`.chance` -- stable hashes; :mod:`.amounts` -- cents.

The command (`edi simulate`) is ``cmd_simulate`` in :mod:`pipelines.cli.x12`.
"""

from __future__ import annotations

from pipelines.simulator.mailbox import SimResult, simulate_mailbox
from pipelines.simulator.payers import (
    DEFAULT_RULES,
    PSYCHOTHERAPY_CODES,
    PayerRules,
    payer_rules_from_config,
    valid_member_id,
)
from pipelines.simulator.state import STATE_FILE

__all__ = ["DEFAULT_RULES", "PSYCHOTHERAPY_CODES", "STATE_FILE", "PayerRules", "SimResult",
           "payer_rules_from_config", "simulate_mailbox", "valid_member_id"]
