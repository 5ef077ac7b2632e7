"""a lighter write path for 835 posting and claims out

* ``adjustments.claim_pk`` and ``remarks.claim_pk`` lose their foreign keys to ``claims``: each row's
  claim is the one of its ``claim_payment_id`` (whose foreign key stays, with its cascade), copied
  only so that nets per claim are read by one index. The posting writes about five of these rows per
  claim, and every foreign key is a lookup per row.
* ``ix_claims_payer_id`` goes: ``ix_claims_payer_status`` (payer_id, status) serves the same lookups,
  and every claim status change wrote both. ``ix_claims_patient_id`` goes too: no query reads claims
  by patient (they go through the encounter), and every claim written or moved updated it.
* PostgreSQL only: ``claim_lines`` is stored with fillfactor 85, so that posting a line's paid
  amount (not an indexed column) is a heap-only update on the same page instead of a new row version
  in every index. Existing pages get the room as they are rewritten.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 16:20:00
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('adjustments', schema=None) as batch_op:
        batch_op.drop_constraint('fk_adjustments_claim_pk_claims', type_='foreignkey')
    with op.batch_alter_table('remarks', schema=None) as batch_op:
        batch_op.drop_constraint('fk_remarks_claim_pk_claims', type_='foreignkey')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_payer_id')
        batch_op.drop_index('ix_claims_patient_id')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE claim_lines SET (fillfactor = 85)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE claim_lines RESET (fillfactor)')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_payer_id', ['payer_id'], unique=False)
        batch_op.create_index('ix_claims_patient_id', ['patient_id'], unique=False)
    with op.batch_alter_table('remarks', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_remarks_claim_pk_claims', 'claims', ['claim_pk'], ['id'])
    with op.batch_alter_table('adjustments', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_adjustments_claim_pk_claims', 'claims', ['claim_pk'], ['id'])
