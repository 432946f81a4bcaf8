"""PostgreSQL settles a payment in one call: ``trust_settle`` locks, checks, moves and records.

The capacity rule is ``trust.models.capacity`` written in SQL (``trust_capacity``); a test holds
the two to agreement. Other databases settle with the same steps from Python.
"""

from django.db import migrations

SETTLE = r"""
-- numeric: a limit of the largest amount plus a debt owed back goes beyond bigint.
CREATE OR REPLACE FUNCTION trust_capacity(limit_from_receiver bigint, owed_by_receiver bigint)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT greatest(0, limit_from_receiver::numeric + owed_by_receiver) $$;

-- Move every leg of a payment and record it, or change nothing and raise SQLSTATE TB001 (stale route).
--   p_payment:     a new payment's columns as JSON (no id), or NULL to record legs on p_payment_id
--   p_senders ...: one element per leg (purpose, path, hop, sender, receiver, amount)
-- Returns the payment's id with each moved trustline as it now stands.
CREATE OR REPLACE FUNCTION trust_settle(
    p_community bigint, p_payment jsonb, p_payment_id bigint, p_at timestamptz,
    p_purposes text[], p_paths int[], p_hops int[], p_senders bigint[], p_receivers bigint[], p_amounts bigint[]
) RETURNS TABLE (
    payment_id bigint, low_id bigint, high_id bigint,
    limit_from_low bigint, limit_from_high bigint, balance bigint, closed_at timestamptz
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    line record;
    pairs int;
    ids bigint[] := '{}';
    lows bigint[] := '{}';
    highs bigint[] := '{}';
    changes bigint[] := '{}';
    pid bigint := p_payment_id;
BEGIN
    SELECT count(DISTINCT (least(s, r), greatest(s, r))) INTO pairs FROM unnest(p_senders, p_receivers) AS m(s, r);

    -- Lock in primary-key order (concurrent payments queue instead of deadlocking), then check.
    FOR line IN
        WITH net AS (
            SELECT least(s, r) AS low, greatest(s, r) AS high, sum(CASE WHEN s < r THEN a ELSE -a END) AS from_low
            FROM unnest(p_senders, p_receivers, p_amounts) AS m(s, r, a)
            GROUP BY 1, 2
        )
        SELECT t.id, t.low_id, t.high_id, t.limit_from_low, t.limit_from_high, t.balance, t.closed_at, net.from_low
        FROM trust_trustline t JOIN net ON t.low_id = net.low AND t.high_id = net.high
        WHERE t.community_id = p_community
        ORDER BY t.id
        FOR UPDATE OF t
    LOOP
        IF line.closed_at IS NOT NULL
           OR (line.from_low >= 0 AND trust_capacity(line.limit_from_high, line.balance) < line.from_low)
           OR (line.from_low < 0 AND trust_capacity(line.limit_from_low, -line.balance) < -line.from_low) THEN
            RAISE EXCEPTION 'trustline % lacks the capacity planned', line.id USING ERRCODE = 'TB001';
        END IF;
        ids := ids || line.id;
        lows := lows || line.low_id;
        highs := highs || line.high_id;
        changes := changes || -line.from_low;
    END LOOP;
    IF cardinality(ids) <> pairs THEN
        RAISE EXCEPTION 'a planned trustline does not exist' USING ERRCODE = 'TB001';
    END IF;

    IF p_payment IS NOT NULL THEN
        INSERT INTO trust_payment
        SELECT * FROM jsonb_populate_record(
            NULL::trust_payment, p_payment || jsonb_build_object('id', nextval(pg_get_serial_sequence('trust_payment', 'id')))
        )
        RETURNING id INTO pid;
    END IF;

    INSERT INTO trust_paymentleg (payment_id, trustline_id, sender_id, receiver_id, amount, purpose, path, hop)
    SELECT pid, l.id, m.s, m.r, m.a, m.purpose, m.path, m.hop
    FROM unnest(p_purposes, p_paths, p_hops, p_senders, p_receivers, p_amounts) AS m(purpose, path, hop, s, r, a)
    JOIN unnest(ids, lows, highs) AS l(id, low, high) ON l.low = least(m.s, m.r) AND l.high = greatest(m.s, m.r);

    RETURN QUERY
    UPDATE trust_trustline t SET balance = t.balance + c.change, updated_at = p_at
    FROM unnest(ids, changes) AS c(id, change)
    WHERE t.id = c.id
    RETURNING pid, t.low_id, t.high_id, t.limit_from_low, t.limit_from_high, t.balance, t.closed_at;
END
$$;
"""

UNSETTLE = """
DROP FUNCTION IF EXISTS trust_settle(bigint, jsonb, bigint, timestamptz, text[], int[], int[], bigint[], bigint[], bigint[]);
DROP FUNCTION IF EXISTS trust_capacity(bigint, bigint);
"""


def on_postgresql(sql: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, None)  # no parameters: the % in the SQL stays as it is

    return run


class Migration(migrations.Migration):
    dependencies = [("trust", "0002_payment_created_at_default")]

    operations = [migrations.RunPython(on_postgresql(SETTLE), on_postgresql(UNSETTLE))]
