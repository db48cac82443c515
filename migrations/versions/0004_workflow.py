"""The officers' workflow: roles, staff on WhatsApp, named assignees, escalation, staff outbox.

Revision ID: 0004
Revises: 0003
Create Date: 2024-09-01

SQLite cannot ALTER a CHECK constraint or add a foreign key to a table, and Alembic's batch
mode (copy, drop, rename) cannot drop `officers` here: other tables reference it and the
migration runs inside one transaction with foreign keys on, where SQLite refuses the drop.
So on SQLite:
- the widened role CHECK is written into the stored schema with the procedure SQLite's
  documentation gives for removing or changing CHECK constraints ("ALTER TABLE", section
  "Making Other Kinds Of Table Schema Changes": writable_schema, then schema_version + 1).
  Every existing row satisfies the wider check, so no data needs checking;
- `tickets.assignee_id` is added by ALTER TABLE ... ADD COLUMN ... REFERENCES, which SQLite
  allows for a column whose default is NULL.
`ticket_events` only gains columns (ALTER TABLE ADD COLUMN), so its append-only triggers stay.
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('officer', 'admin')"
NEW_ROLES = "role IN ('field_worker', 'officer', 'department_head', 'admin')"


def _edit_sqlite_schema(table: str, old: str, new: str) -> None:
    """Replace `old` by `new` in a SQLite table's stored CREATE statement (SQLite's documented
    procedure for changing CHECK or FOREIGN KEY constraints without copying the table)."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    if old not in sql:
        raise RuntimeError(f"{table}: expected {old!r} in {sql!r}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                         (sql.replace(old, new), table))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _roles(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _edit_sqlite_schema("officers", old, new)
    else:
        op.drop_constraint(op.f("ck_officers_role"), "officers", type_="check")
        op.create_check_constraint(op.f("ck_officers_role"), "officers", new)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _roles(OLD_ROLES, NEW_ROLES)
    op.add_column("officers", sa.Column("whatsapp_number", sa.String(20), nullable=True))
    op.add_column("officers", sa.Column("language", sa.String(16), nullable=False,
                                        server_default="hi"))
    op.create_index("uq_officers_whatsapp_number", "officers", ["whatsapp_number"], unique=True)

    if sqlite:
        op.execute("ALTER TABLE tickets ADD COLUMN assignee_id INTEGER REFERENCES officers (id)")
    else:
        op.add_column("tickets", sa.Column("assignee_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_tickets_assignee_id_officers"), "tickets", "officers",
                              ["assignee_id"], ["id"])
    op.add_column("tickets", sa.Column("escalation_level", sa.SmallInteger(), nullable=False,
                                       server_default=sa.text("0")))
    op.add_column("tickets", sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tickets", sa.Column("resolution_media_id", sa.String(128), nullable=True))
    op.create_index(op.f("ix_tickets_assignee_id_status"), "tickets", ["assignee_id", "status"])

    op.add_column("ticket_events", sa.Column("kind", sa.String(16), nullable=False,
                                             server_default="status"))
    op.add_column("ticket_events", sa.Column("assignee_id", sa.Integer(), nullable=True))

    op.create_table(
        "staff_chats",
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("awaiting", sa.String(16), nullable=True),
        sa.Column("ticket_number", sa.String(20), nullable=True),
        sa.Column("awaiting_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("officer_id", name=op.f("pk_staff_chats")),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"],
                                name=op.f("fk_staff_chats_officer_id_officers")),
    )
    op.create_table(
        "staff_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_messages")),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"],
                                name=op.f("fk_staff_messages_officer_id_officers")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_staff_messages_ticket_id_tickets")),
        sa.CheckConstraint("kind IN ('assignment', 'escalation')", name=op.f("ck_staff_messages_kind")),
    )
    op.create_index(op.f("ix_staff_messages_ticket_id"), "staff_messages", ["ticket_id"])
    op.create_index(op.f("ix_staff_messages_delivered_at_next_attempt_at"), "staff_messages",
                    ["delivered_at", "next_attempt_at"])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM officers WHERE NOT " + OLD_ROLES)).scalar():
        raise RuntimeError("field workers and department heads exist: disable and re-role them "
                           "before downgrading below 0004")
    op.drop_table("staff_messages")
    op.drop_table("staff_chats")
    op.drop_index(op.f("ix_tickets_assignee_id_status"), "tickets")
    op.drop_index("uq_officers_whatsapp_number", "officers")
    if bind.dialect.name == "sqlite":
        # SQLite 3.35+ drops columns in place, but not one in a foreign key: that reference is
        # removed from the stored schema first, as the procedure above allows.
        _edit_sqlite_schema("tickets", " REFERENCES officers (id)", "")
        for table, column in (("ticket_events", "assignee_id"), ("ticket_events", "kind"),
                              ("tickets", "resolution_media_id"), ("tickets", "escalated_at"),
                              ("tickets", "escalation_level"), ("tickets", "assignee_id"),
                              ("officers", "language"), ("officers", "whatsapp_number")):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_constraint(op.f("fk_tickets_assignee_id_officers"), "tickets", type_="foreignkey")
        for table, columns in (("ticket_events", ("assignee_id", "kind")),
                               ("tickets", ("resolution_media_id", "escalated_at", "escalation_level",
                                            "assignee_id")),
                               ("officers", ("language", "whatsapp_number"))):
            for column in columns:
                op.drop_column(table, column)
    _roles(NEW_ROLES, OLD_ROLES)
