"""Staff users, conversation handoff state and activity, private notes, canned replies, CSAT, webhook outbox

Revision ID: 0004
Revises: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'staff_users',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_at', _TS, nullable=False),
        sa.Column('last_login_at', _TS, nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('email'),
    )
    with op.batch_alter_table('chat_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handoff_state', sa.String(length=16), server_default='bot', nullable=False))
        batch_op.add_column(sa.Column('assignee_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('handoff_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('handoff_since', _TS, nullable=True))
        batch_op.add_column(sa.Column('staff_read_seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_chat_sessions_handoff_state', ['handoff_state'], unique=False)
        batch_op.create_foreign_key('fk_chat_sessions_assignee', 'staff_users', ['assignee_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('packet', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('first_response_at', _TS, nullable=True))
    op.create_table(
        'handoff_activities',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('session_id', sa.Uuid(), nullable=False),
        sa.Column('handoff_id', sa.Uuid(), nullable=True),
        sa.Column('actor_type', sa.String(length=16), nullable=False),
        sa.Column('actor_id', sa.Uuid(), nullable=True),
        sa.Column('from_state', sa.String(length=16), nullable=False),
        sa.Column('to_state', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('created_at', _TS, nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['chat_sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_handoff_activities_session_id', 'handoff_activities', ['session_id'], unique=False)
    op.create_table(
        'staff_notes',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('session_id', sa.Uuid(), nullable=False),
        sa.Column('author_id', sa.Uuid(), nullable=True),
        sa.Column('author_name', sa.String(length=100), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('created_at', _TS, nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['staff_users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['session_id'], ['chat_sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_staff_notes_session_id', 'staff_notes', ['session_id'], unique=False)
    op.create_table(
        'canned_replies',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('short_code', sa.String(length=64), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('created_at', _TS, nullable=False),
        sa.Column('updated_at', _TS, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('short_code'),
    )
    op.create_table(
        'ratings',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('session_id', sa.Uuid(), nullable=False),
        sa.Column('handoff_id', sa.Uuid(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('created_at', _TS, nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['chat_sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_ratings_session_id', 'ratings', ['session_id'], unique=False)
    op.create_index('ix_ratings_handoff', 'ratings', ['handoff_id'], unique=True)
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('event', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', _TS, nullable=False),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', _TS, nullable=False),
        sa.Column('delivered_at', _TS, nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index('ix_ratings_handoff', table_name='ratings')
    op.drop_index('ix_ratings_session_id', table_name='ratings')
    op.drop_table('ratings')
    op.drop_table('canned_replies')
    op.drop_index('ix_staff_notes_session_id', table_name='staff_notes')
    op.drop_table('staff_notes')
    op.drop_index('ix_handoff_activities_session_id', table_name='handoff_activities')
    op.drop_table('handoff_activities')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_column('first_response_at')
        batch_op.drop_column('packet')
    with op.batch_alter_table('chat_sessions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_chat_sessions_assignee', type_='foreignkey')
        batch_op.drop_index('ix_chat_sessions_handoff_state')
        batch_op.drop_column('staff_read_seq')
        batch_op.drop_column('handoff_since')
        batch_op.drop_column('handoff_id')
        batch_op.drop_column('assignee_id')
        batch_op.drop_column('handoff_state')
    op.drop_table('staff_users')
