"""secondary and tertiary payers

Encounter columns ``secondary_*`` and ``tertiary_*`` (payer, member id, relationship, subscriber),
claim columns ``payer_sequence`` (P, S, T), ``prior_claim_id`` and ``prior_payment_date``, and table
``cob_adjudications`` (what each payer adjudicated on a leg with a next payer), CONTRACT section 7.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 12:51:36.339262
"""
import sqlalchemy as sa
from alembic import op

import models.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cob_adjudications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_payment_id', sa.Integer(), nullable=False),
    sa.Column('claim_pk', sa.Integer(), nullable=False),
    sa.Column('forwarded', sa.Boolean(), nullable=False),
    sa.Column('adjudication_date', sa.Date(), nullable=True),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claim_payment_id'], ['claim_payments.id'], name=op.f('fk_cob_adjudications_claim_payment_id_claim_payments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['claim_pk'], ['claims.id'], name=op.f('fk_cob_adjudications_claim_pk_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cob_adjudications')),
    sa.UniqueConstraint('claim_payment_id', name=op.f('uq_cob_adjudications_claim_payment_id'))
    )
    with op.batch_alter_table('cob_adjudications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cob_adjudications_claim_pk'), ['claim_pk'], unique=False)

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payer_sequence', sa.String(length=1), server_default='P', nullable=False))
        batch_op.add_column(sa.Column('prior_claim_id', sa.String(length=17), nullable=True))
        batch_op.add_column(sa.Column('prior_payment_date', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_claims_prior_claim_id'), ['prior_claim_id'], unique=False)
        batch_op.create_index('ux_claims_next_leg', ['encounter_id', 'payer_sequence'], unique=True,
                              postgresql_where=sa.text("payer_sequence <> 'P' AND frequency_code = '1'"),
                              sqlite_where=sa.text("payer_sequence <> 'P' AND frequency_code = '1'"))

    with op.batch_alter_table('encounters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secondary_payer_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('secondary_member_id', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('secondary_relationship', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('secondary_subscriber_last_name', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('secondary_subscriber_first_name', sa.String(length=35), nullable=True))
        batch_op.add_column(sa.Column('secondary_subscriber_dob', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('secondary_subscriber_sex', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('tertiary_payer_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('tertiary_member_id', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('tertiary_relationship', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('tertiary_subscriber_last_name', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('tertiary_subscriber_first_name', sa.String(length=35), nullable=True))
        batch_op.add_column(sa.Column('tertiary_subscriber_dob', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('tertiary_subscriber_sex', sa.String(length=1), nullable=True))
        batch_op.create_index(batch_op.f('ix_encounters_secondary_payer_id'), ['secondary_payer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('encounters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_encounters_secondary_payer_id'))
        batch_op.drop_column('tertiary_subscriber_sex')
        batch_op.drop_column('tertiary_subscriber_dob')
        batch_op.drop_column('tertiary_subscriber_first_name')
        batch_op.drop_column('tertiary_subscriber_last_name')
        batch_op.drop_column('tertiary_relationship')
        batch_op.drop_column('tertiary_member_id')
        batch_op.drop_column('tertiary_payer_id')
        batch_op.drop_column('secondary_subscriber_sex')
        batch_op.drop_column('secondary_subscriber_dob')
        batch_op.drop_column('secondary_subscriber_first_name')
        batch_op.drop_column('secondary_subscriber_last_name')
        batch_op.drop_column('secondary_relationship')
        batch_op.drop_column('secondary_member_id')
        batch_op.drop_column('secondary_payer_id')

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ux_claims_next_leg')
        batch_op.drop_index(batch_op.f('ix_claims_prior_claim_id'))
        batch_op.drop_column('prior_payment_date')
        batch_op.drop_column('prior_claim_id')
        batch_op.drop_column('payer_sequence')

    with op.batch_alter_table('cob_adjudications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cob_adjudications_claim_pk'))

    op.drop_table('cob_adjudications')
