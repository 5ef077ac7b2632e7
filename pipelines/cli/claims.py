"""Commands on claims going out: import, claims submit/list/show/export, eligibility, status
requests, denials, code lists."""

from __future__ import annotations

from pipelines.cli.app import Command
from pipelines.usecases.claim_status import cmd_request as cmd_status_request
from pipelines.usecases.claims import cmd_export, cmd_list, cmd_show, cmd_submit
from pipelines.usecases.codes import cmd_import as cmd_codes_import
from pipelines.usecases.denials import cmd_list as cmd_denials_list
from pipelines.usecases.denials import cmd_resubmit
from pipelines.usecases.eligibility import cmd_request as cmd_eligibility_request
from pipelines.usecases.eligibility import cmd_show as cmd_eligibility_show
from pipelines.usecases.importer import cmd_import_authorizations, cmd_import_encounters

__all__ = ["COMMANDS"]

COMMANDS: dict[tuple[str, ...], Command] = {
    ("import", "encounters"): cmd_import_encounters,
    ("import", "authorizations"): cmd_import_authorizations,
    ("claims", "submit"): cmd_submit,
    ("claims", "list"): cmd_list,
    ("claims", "show"): cmd_show,
    ("claims", "export"): cmd_export,
    ("eligibility", "request"): cmd_eligibility_request,
    ("eligibility", "show"): cmd_eligibility_show,
    ("status", "request"): cmd_status_request,
    ("denials", "list"): cmd_denials_list,
    ("denials", "resubmit"): cmd_resubmit,
    ("codes", "import"): cmd_codes_import,
}
