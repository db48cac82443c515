"""Tickets and their append-only history.

Revision ID: 0001
Revises:
Create Date: 2024-06-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Names are final (op.f): the naming convention of civic.tickets must not rewrite them.
# Frozen copies: later changes to civic.tickets must not rewrite this revision.
STATUSES = ("registered", "assigned", "in_progress", "resolved", "closed", "rejected", "reopened")
OPEN_SQL = "status IN ('registered', 'assigned', 'in_progress', 'reopened')"


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("ward", sa.Integer(), nullable=False),
        sa.Column("location_text", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("photo_media_ids", sa.JSON(), nullable=False),
        sa.Column("citizen_id", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("number", name=op.f("uq_tickets_number")),
        sa.CheckConstraint(
            "status IN ({})".format(", ".join(f"'{s}'" for s in STATUSES)),
            name=op.f("ck_tickets_status"),
        ),
        sa.CheckConstraint(
            "rating IS NULL OR (rating BETWEEN 1 AND 5)", name=op.f("ck_tickets_rating")
        ),
        # AUTOINCREMENT: SQLite never reuses an id, so never a ticket number.
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_tickets_citizen_id_created_at"), "tickets", ["citizen_id", "created_at"])
    op.create_index(op.f("ix_tickets_department_status"), "tickets", ["department", "status"])
    op.create_index(op.f("ix_tickets_status_due_at"), "tickets", ["status", "due_at"])
    op.create_index(op.f("ix_tickets_ward"), "tickets", ["ward"])
    op.create_index(op.f("ix_tickets_created_at"), "tickets", ["created_at"])
    op.create_index(
        op.f("uq_tickets_open_complaint"), "tickets", ["citizen_id", "category", "ward"],
        unique=True, sqlite_where=sa.text(OPEN_SQL), postgresql_where=sa.text(OPEN_SQL),
    )

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_events_ticket_id_tickets")
        ),
    )
    op.create_index(op.f("ix_ticket_events_ticket_id_id"), "ticket_events", ["ticket_id", "id"])

    # History is append-only for every writer, not only for this code.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ticket_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ticket history is append-only';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER ticket_events_append_only BEFORE UPDATE OR DELETE ON ticket_events "
            "FOR EACH ROW EXECUTE FUNCTION ticket_events_append_only()"
        )
    elif op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ticket_events_no_{action.lower()} BEFORE {action} ON ticket_events "
                "BEGIN SELECT RAISE(ABORT, 'ticket history is append-only'); END"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ticket_events_append_only ON ticket_events")
        op.execute("DROP FUNCTION IF EXISTS ticket_events_append_only()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ticket_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS ticket_events_no_delete")
    op.drop_table("ticket_events")
    op.drop_table("tickets")
