"""Officers' sessions on the server, sign-in attempts (throttle and log), phone reveals.

Revision ID: 0003
Revises: 0002
Create Date: 2024-08-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "officer_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_officer_sessions_token_hash")),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_officer_sessions_officer_id_officers")
        ),
    )
    op.create_index(op.f("ix_officer_sessions_officer_id"), "officer_sessions", ["officer_id"])
    op.create_index(op.f("ix_officer_sessions_expires_at"), "officer_sessions", ["expires_at"])

    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
        sa.CheckConstraint(
            "outcome IN ('pending', 'failed', 'succeeded', 'locked')",
            name=op.f("ck_login_attempts_outcome"),
        ),
    )
    op.create_index(op.f("ix_login_attempts_username_at"), "login_attempts", ["username", "at"])
    op.create_index(op.f("ix_login_attempts_address_at"), "login_attempts", ["address", "at"])
    op.create_index(op.f("ix_login_attempts_at"), "login_attempts", ["at"])

    op.create_table(
        "phone_reveals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.String(20), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_reveals")),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_phone_reveals_officer_id_officers")
        ),
    )
    op.create_index(op.f("ix_phone_reveals_ticket_number"), "phone_reveals", ["ticket_number"])
    op.create_index(op.f("ix_phone_reveals_at"), "phone_reveals", ["at"])


def downgrade() -> None:
    op.drop_table("phone_reveals")
    op.drop_table("login_attempts")
    op.drop_table("officer_sessions")
