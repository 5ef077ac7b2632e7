"""deposits and the audit trail

Tables ``deposits`` (bank deposit lines matched to 835s, `edi deposits import`) and
``audit_events`` (operator actions that changed money or sent PHI, `edi audit list`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 01:45:30.617123
"""
import sqlalchemy as sa
from alembic import op

import models.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('os_user', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('forced', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)

    op.create_table('deposits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deposit_date', sa.Date(), nullable=False),
    sa.Column('amount', models.base.Money(precision=12, scale=2), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('trace_number', sa.String(length=80), nullable=False),
    sa.Column('remittance_id', sa.Integer(), nullable=True),
    sa.Column('source_file', sa.String(length=255), nullable=False),
    sa.Column('source_line', sa.Integer(), nullable=False),
    sa.Column('imported_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('matched_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['remittance_id'], ['remittances.id'], name=op.f('fk_deposits_remittance_id_remittances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deposits')),
    sa.UniqueConstraint('deposit_date', 'amount', 'trace_number', name=op.f('uq_deposits_deposit_date'))
    )
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deposits_remittance_id'), ['remittance_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_deposits_trace_number'), ['trace_number'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deposits_trace_number'))
        batch_op.drop_index(batch_op.f('ix_deposits_remittance_id'))

    op.drop_table('deposits')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
