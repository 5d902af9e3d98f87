"""The promise tables' schema: callbacks, tickets, each ticket's history, the message deliveries, the API's tokens and
the mails (promises.outbox).

Declared for the queries of promises.store; the schema itself is made by the hand-written migrations
(stores/migrations/versions), which these declarations follow.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()
callbacks = Table(
    "callbacks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("created", Float, nullable=False),
    Column("tenant", String(40), nullable=False),
    Column("entry", String(40), nullable=False),
    Column("topic", String(40), nullable=False),
    Column("queue", String(40), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("number", String(64), nullable=False),
    Column("joined", Float, nullable=False),
    Column("status", String(16), nullable=False),  # pending, dialling, reached, ticket, cancelled
    Column("attempts", Integer, nullable=False),
    Column("not_before", Float, nullable=False),
    Column("attempt_id", String(80), nullable=False),
    Column("attempt_started", Float),
    Column("attempt_node", String(80), nullable=False, server_default=""),  # whose Asterisk has the attempt (promises.dialling)
    Column("last_result", String(24), nullable=False),  # ANSWER, NOANSWER, BUSY, ... (Dial's DIALSTATUS) or no_agent
    Column("reached", Float),
    Column("updated", Float, nullable=False),
)
tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request", String(80), nullable=False, unique=True),
    Column("created", Float, nullable=False),
    Column("due", Float),
    Column("tenant", String(40), nullable=False),
    Column("entry", String(40), nullable=False),
    Column("topic", String(40), nullable=False),
    Column("department", String(40), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("number", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # open, in_progress, done, cancelled
    Column("assignee", String(80), nullable=False),
    Column("closed", Float),
    Column("notified", Boolean, nullable=False),
    Column("reminded", Boolean, nullable=False),
)
history = Table(
    "ticket_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("action", String(24), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("note", String(400), nullable=False),
)
deliveries = Table(
    "message_deliveries",
    metadata,
    Column("msg_id", String(80), primary_key=True),
    Column("recipient", String(120), primary_key=True),
    Column("intake", String(40), nullable=False),
    Column("recorded", Float, nullable=False),
    Column("caller", String(64), nullable=False),
    Column("fields", String(400), nullable=False),
    Column("duration", Integer, nullable=False),
    Column("batch", Float, nullable=False),
    Column("delivered", Float, nullable=False),
)
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False),  # who the client is in a ticket's history
    Column("department", String(40)),  # the only department whose tickets it sees; NULL: an admin's, every ticket
    Column("digest", String(64), nullable=False, unique=True),  # sha256 of the secret, hex; the secret is not kept
    Column("created", Float, nullable=False),
    Column("revoked", Float),
)
mails = Table(
    "mails",
    metadata,
    Column("key", String(200), primary_key=True),  # 'ticket 17 notified 1700000000.9', 'batch <intake> <recipient> <time>'
    Column("message_id", String(250), nullable=False),  # derived from the key: the same mail has the same Message-ID
    Column("recipient", String(120), nullable=False),
    Column("state", String(12), nullable=False),  # sending, handed (its final dot on the way), sent, unconfirmed
    Column("token", String(80), nullable=False),  # the sender (node, process, count): a superseded one cannot hand it over
    Column("carries", Text, nullable=False),  # a batch's message ids, space-separated; empty for a ticket's mail
    Column("started", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("reply", String(250), nullable=False),  # the server's acceptance, or why it is unconfirmed
)
