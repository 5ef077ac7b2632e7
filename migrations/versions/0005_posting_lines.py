"""835 posting: claim lines updated on their page, adjustment and remark lines without a lookup

* PostgreSQL only: ``claim_lines`` is stored with fillfactor 45 (was 85). Posting sets the paid
  amount of every line of a claim at once; with 85 a page had room for the new versions of about one
  line in five, so most went to another page and into every index of the table (its unique line
  control number included). At 45 a page holds a new version of each of its lines: the update is
  heap-only. Existing pages get the room as they are rewritten.
* ``adjustments.line_pk`` and ``remarks.line_pk`` lose their foreign keys to ``claim_lines``. The
  line is a line of the row's claim (the claim of its ``claim_payment_id``, whose foreign key stays,
  with its cascade); claim lines are only ever deleted while their claim is unsent (re-coding), and
  the lifecycle never takes a sent claim back to unsent, so no posting can name a line that goes
  away. Each key was one lookup per row on the posting's busiest inserts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:00:00
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('adjustments', schema=None) as batch_op:
        batch_op.drop_constraint('fk_adjustments_line_pk_claim_lines', type_='foreignkey')
    with op.batch_alter_table('remarks', schema=None) as batch_op:
        batch_op.drop_constraint('fk_remarks_line_pk_claim_lines', type_='foreignkey')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE claim_lines SET (fillfactor = 45)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE claim_lines SET (fillfactor = 85)')
    with op.batch_alter_table('remarks', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_remarks_line_pk_claim_lines', 'claim_lines', ['line_pk'], ['id'])
    with op.batch_alter_table('adjustments', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_adjustments_line_pk_claim_lines', 'claim_lines', ['line_pk'], ['id'])
