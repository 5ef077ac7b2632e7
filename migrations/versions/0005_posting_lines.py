"""835 posting, a lighter write path (2): lines updated on their page, fewer lookups per row

* PostgreSQL only: ``claim_lines`` is stored with fillfactor 45 (was 85). Posting sets the paid
  amount of every line of a claim at once; with 85 a page had room for the new versions of about one
  line in five, so most went to another page and into every index of the table (its unique line
  control number included). At 45 a page holds a new version of each of its lines: the update is
  heap-only. Existing pages get the room as they are rewritten.
* ``adjustments.line_pk`` and ``remarks.line_pk`` lose their foreign keys to ``claim_lines``. The
  line is a line of the row's claim (the claim of its ``claim_payment_id``, whose foreign key stays,
  with its cascade); claim lines are only ever deleted while their claim is unsent (re-coding), and
  the lifecycle never takes a sent claim back to unsent, so no posting can name a line that goes away.
* ``claim_payments.remittance_id``, ``adjustments.claim_payment_id``, ``remarks.claim_payment_id``
  and ``claim_status_events.file_id`` lose their foreign keys to ``remittances``, ``claim_payments``
  and ``files``. Each of these rows names a parent that the same posting has just written (its
  remittance, its payment, its file), with an id taken from that parent's own insert, so the lookup
  could not fail; what the keys also did was cascade or refuse a delete of the parent. Instead files,
  remittances and claim payments are append-only: a trigger refuses to delete them, so no payment,
  adjustment, remark or event can lose its parent. (A posting undoes nothing by deleting: a reversal
  is a posting of its own.) Keys to rows the posting did not write (claims, and for denials and COB
  adjudications, which are few, also their payment and line) stay.

Each key was one lookup per row on the posting's inserts (about five rows per claim).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:00:00
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_DROPPED = [  # table, constraint, column, referenced table, ON DELETE
    ('adjustments', 'fk_adjustments_line_pk_claim_lines', 'line_pk', 'claim_lines', None),
    ('remarks', 'fk_remarks_line_pk_claim_lines', 'line_pk', 'claim_lines', None),
    ('claim_payments', 'fk_claim_payments_remittance_id_remittances', 'remittance_id', 'remittances', 'CASCADE'),
    ('adjustments', 'fk_adjustments_claim_payment_id_claim_payments', 'claim_payment_id', 'claim_payments',
     'CASCADE'),
    ('remarks', 'fk_remarks_claim_payment_id_claim_payments', 'claim_payment_id', 'claim_payments', 'CASCADE'),
    ('claim_status_events', 'fk_claim_status_events_file_id_files', 'file_id', 'files', None),
]
_APPEND_ONLY = ('files', 'remittances', 'claim_payments')


def upgrade() -> None:
    for table, name, *_ in _DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='foreignkey')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE claim_lines SET (fillfactor = 45)')
        op.execute("CREATE FUNCTION edi_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "RAISE EXCEPTION 'rows of % are never deleted: postings and status events name them', "
                   "TG_TABLE_NAME; END $$")
        for table in _APPEND_ONLY:
            op.execute(f'CREATE TRIGGER {table}_append_only BEFORE DELETE ON {table} '
                       f'FOR EACH ROW EXECUTE FUNCTION edi_append_only()')
    else:
        for table in _APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE DELETE ON {table} BEGIN SELECT "
                       f"RAISE(ABORT, 'rows of {table} are never deleted: postings and status events name them'); END")


def downgrade() -> None:
    pg = op.get_bind().dialect.name == 'postgresql'
    for table in _APPEND_ONLY:
        op.execute(f'DROP TRIGGER {table}_append_only' + (f' ON {table}' if pg else ''))
    if pg:
        op.execute('DROP FUNCTION edi_append_only()')
        op.execute('ALTER TABLE claim_lines SET (fillfactor = 85)')
    for table, name, column, parent, ondelete in reversed(_DROPPED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(name, parent, [column], ['id'], ondelete=ondelete)
