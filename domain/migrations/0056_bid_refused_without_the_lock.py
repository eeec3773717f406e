"""PostgreSQL: auction_bid_place (migrations 0024, 0028) judges a bid first on an unlocked look at the auction, and
refuses there what that look refuses (issue 21).

A hot lot in an ascending race refuses most of its bids: each bidder saw a price that someone has already outbid.
Under 0028 every such bid queued for the auction's row lock, then held it through writing its failure event and
its commit (a WAL flush), so refusals took turns with the bids that move the price. A refusal judged on a
committed state of the auction is the answer the auction gave at that moment, a moment within the call: the same
linearisable answer the lock would have given had the call run then. So the function now judges twice:

- first without the lock: a refusal found there (not live, two factors or a signature required, not qualified,
  already leading, too low or off the increment, a reverse auction's too high, off the decrement or over the
  ceiling) is answered as before, its failure event written, its key's claim withdrawn, without the lock;
- a bid that look would accept, or a phase change due, is judged again under `FOR UPDATE` exactly as in 0028.

The idempotency claim still comes first, so a replayed key goes the Python way (its stored answer) and is never
refused by the unlocked look. Every answer, row and event is 0028's; SQLite keeps the bid in Python, unchanged.
tests/domain/auctions/test_bid_paths.py compares both paths; test_bid_locks.py shows a refusal answered while
another transaction holds the auction and an acceptable bid still waiting for it.
"""

import importlib

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

FUNCTION = r"""
CREATE OR REPLACE FUNCTION auction_bid_place(
    p_lot_id bigint,
    p_amount bigint,
    p_now timestamptz,
    p_clock_moves boolean,
    p_remind_before interval,
    p_org_id bigint,
    p_user_id bigint,
    p_actor_label text,
    p_actor_ip text,
    p_two_factor boolean,
    p_scope_auction bigint,
    p_scope_created timestamptz,
    p_fact boolean,
    p_fact_ip text,
    p_fact_device text,
    p_caller text,
    p_key text,
    p_request_hash text,
    p_key_lifetime interval,
    p_bid_event uuid,
    p_outbid_event uuid,
    p_failure_event uuid,
    p_public_audience jsonb,
    p_failure_audience jsonb,
    OUT verdict text,
    OUT refusal text,
    OUT auction_pk bigint,
    OUT auction_created timestamptz,
    OUT auction_phase text,
    OUT auction_seq integer,
    OUT price_now bigint,
    OUT min_next bigint,
    OUT bid_pk bigint,
    OUT bid_entry bigint,
    OUT bid_bidder_no text,
    OUT judged_at timestamptz,
    OUT new_ends_at timestamptz,
    OUT event_pk bigint
) LANGUAGE plpgsql AS $fn$
DECLARE
    started timestamptz := clock_timestamp();
    a auction%ROWTYPE;
    mine auction_entry%ROWTYPE;
    leader auction_entry%ROWTYPE;
    claimed bigint;
    base bigint;
    due boolean;
BEGIN
    IF p_key IS NOT NULL THEN
        -- claimed before the lock, as run_once does; a key seen before goes the Python way (replay or refusal)
        INSERT INTO idempotency_record (caller, key, operation, request_hash, result, created_at, expires_at)
        VALUES (p_caller, p_key, 'auction.bid', p_request_hash, '{}'::jsonb, p_now, p_now + p_key_lifetime)
        ON CONFLICT (caller, key) DO NOTHING
        RETURNING id INTO claimed;
        IF claimed IS NULL THEN
            verdict := 'full';
            RETURN;
        END IF;
    END IF;

    -- Two looks at the auction: the first without its row lock, the second under it. A refusal found on the first
    -- stands: it is the answer the auction gave as committed at that moment, within this call's time, so the refused
    -- bid (most bids on a hot lot in an ascending race: each bidder's view is already outbid) never waits in the
    -- lock's queue nor holds the lock through its failure event's commit. A bid the first look would accept, or a
    -- phase change due, is judged again under the lock, as in 0028.
    FOR look IN 1..2 LOOP
        refusal := NULL;
        min_next := NULL;
        IF look = 1 THEN
            SELECT * INTO a FROM auction WHERE lot_id = p_lot_id;
        ELSE
            SELECT * INTO a FROM auction WHERE lot_id = p_lot_id FOR UPDATE;
        END IF;
        judged_at := CASE WHEN p_clock_moves THEN p_now + (clock_timestamp() - started) ELSE p_now END;

        IF a.id IS NULL THEN
            refusal := 'NOT_FOUND';
        ELSE
            auction_pk := a.id;
            auction_created := a.created_at;
            auction_phase := a.phase;
            auction_seq := a.seq;
            price_now := coalesce(a.current_price_fen, 0);
            -- what services.advance would do first: any time-driven move due (states.TABLE), or a live auction
            -- without its next check
            due := CASE a.phase
                WHEN 'scheduled' THEN (a.reminded_at IS NULL AND judged_at >= a.starts_at - p_remind_before)
                                      OR judged_at >= a.starts_at
                WHEN 'free' THEN judged_at >= a.free_ends_at
                WHEN 'timed' THEN a.ends_at IS NOT NULL AND judged_at >= a.ends_at
                WHEN 'sold' THEN false
                WHEN 'failed' THEN false
            END;
            IF due IS NULL OR due OR (a.next_check_at IS NULL AND a.phase NOT IN ('sold', 'failed')) THEN
                IF look = 1 THEN
                    CONTINUE;  -- the locked look decides
                END IF;
                IF claimed IS NOT NULL THEN
                    DELETE FROM idempotency_record WHERE id = claimed;
                END IF;
                verdict := 'full';
                RETURN;
            END IF;

            IF a.phase NOT IN ('free', 'timed') THEN
                refusal := 'AUCTION_NOT_LIVE';
            ELSIF a.require_two_factor_for_bids AND NOT p_two_factor THEN
                refusal := 'TWO_FACTOR_REQUIRED';
            ELSIF a.require_signed_bids THEN
                refusal := 'SIGNATURE_REQUIRED';  -- this path carries no signature
            ELSE
                SELECT * INTO mine FROM auction_entry WHERE auction_id = a.id AND organisation_id = p_org_id;
                base := coalesce(a.current_price_fen, a.starting_price_fen);
                -- min_next: the bid nearest the current price accepted next (a reverse auction's highest)
                min_next := CASE WHEN a.current_price_fen IS NULL THEN base
                                 WHEN a.descending THEN base - a.increment_fen
                                 ELSE base + a.increment_fen END;
                IF mine.id IS NULL THEN
                    refusal := 'NOT_QUALIFIED';
                ELSIF a.leading_entry_id = mine.id THEN
                    refusal := 'ALREADY_LEADING';
                ELSIF a.descending THEN
                    IF p_amount > min_next THEN
                        refusal := 'BID_TOO_HIGH';
                    ELSIF (base - p_amount) % a.increment_fen <> 0 THEN
                        refusal := 'BID_NOT_ON_DECREMENT';
                    ELSIF p_amount > a.reserve_price_fen THEN
                        refusal := 'BID_ABOVE_CEILING';  -- the sealed ceiling (最高限价): no figure is returned
                    END IF;
                ELSIF p_amount < min_next THEN
                    refusal := 'BID_TOO_LOW';
                ELSIF (p_amount - base) % a.increment_fen <> 0 THEN
                    refusal := 'BID_NOT_ON_INCREMENT';
                END IF;
            END IF;
        END IF;
        EXIT WHEN refusal IS NOT NULL;
    END LOOP;

    IF refusal IS NOT NULL THEN
        IF claimed IS NOT NULL THEN
            DELETE FROM idempotency_record WHERE id = claimed;
        END IF;
        INSERT INTO outbox_event (event_id, type, object_type, object_id, outcome, actor_user_id, actor_org_id,
                                  actor_label, actor_ip, payload, audience, occurred_at, attempts)
        VALUES (p_failure_event, 'auction.bid', 'Lot', p_lot_id::text, 'failure', p_user_id, p_org_id,
                p_actor_label, p_actor_ip, jsonb_build_object('code', refusal), p_failure_audience, judged_at, 0);
        verdict := 'refused';
        RETURN;
    END IF;

    IF p_fact IS NULL OR (p_scope_auction IS NOT NULL
                          AND (p_scope_auction <> a.id OR p_scope_created <> a.created_at)) THEN
        -- the caller cannot tell whether this process kept the bidder's network fact for this auction
        IF claimed IS NOT NULL THEN
            DELETE FROM idempotency_record WHERE id = claimed;
        END IF;
        verdict := 'full';
        RETURN;
    END IF;

    IF a.leading_entry_id IS NOT NULL THEN
        SELECT * INTO leader FROM auction_entry WHERE id = a.leading_entry_id AND auction_id = a.id;
    END IF;
    auction_seq := a.seq + 1;
    price_now := p_amount;
    new_ends_at := a.ends_at;
    IF a.phase = 'timed' AND a.ends_at IS NOT NULL THEN
        -- 限时竞价: every valid bid restarts the countdown
        new_ends_at := greatest(a.ends_at, judged_at + make_interval(secs => a.countdown_seconds));
    END IF;
    UPDATE auction
       SET seq = auction_seq,
           current_price_fen = p_amount,
           leading_entry_id = mine.id,
           leading_bidder_no = mine.bidder_no,
           ends_at = new_ends_at,
           next_check_at = CASE WHEN a.phase = 'timed' AND a.ends_at IS NOT NULL THEN new_ends_at
                                ELSE a.next_check_at END,
           updated_at = judged_at
     WHERE id = a.id;
    INSERT INTO auction_bid (auction_id, entry_id, bidder_no, seq, amount_fen, placed_at, ends_at, phase)
    VALUES (a.id, mine.id, mine.bidder_no, auction_seq, p_amount, judged_at, new_ends_at, a.phase)
    RETURNING id INTO bid_pk;
    bid_entry := mine.id;
    bid_bidder_no := mine.bidder_no;
    IF p_fact THEN
        INSERT INTO network_fact (lot_id, organisation_id, user_id, action, ip, device_id, recorded_at)
        VALUES (p_lot_id, p_org_id, p_user_id, 'auction.bid', p_fact_ip, p_fact_device, judged_at);
    END IF;
    INSERT INTO outbox_event (event_id, type, object_type, object_id, outcome, actor_user_id, actor_org_id,
                              actor_label, actor_ip, payload, audience, occurred_at, attempts)
    VALUES (p_bid_event, 'auction.bid_placed', 'Auction', a.id::text, 'success', p_user_id, p_org_id,
            p_actor_label, p_actor_ip,
            jsonb_build_object('lot_id', p_lot_id, 'seq', auction_seq, 'price_fen', p_amount,
                               'bidder_no', mine.bidder_no, 'phase', a.phase,
                               'ends_at', auction_bid_isoformat(new_ends_at),
                               'placed_at', auction_bid_isoformat(judged_at)),
            p_public_audience, judged_at, 0)
    RETURNING id INTO event_pk;
    IF leader.id IS NOT NULL AND leader.id <> mine.id THEN
        INSERT INTO outbox_event (event_id, type, object_type, object_id, outcome, actor_user_id, actor_org_id,
                                  actor_label, actor_ip, payload, audience, occurred_at, attempts)
        VALUES (p_outbid_event, 'auction.outbid', 'Auction', a.id::text, 'success', p_user_id, p_org_id,
                p_actor_label, p_actor_ip,
                jsonb_build_object('lot_id', p_lot_id, 'seq', auction_seq, 'price_fen', p_amount),
                jsonb_build_object('orgs', jsonb_build_array(leader.organisation_id), 'users', '[]'::jsonb,
                                   'roles', '[]'::jsonb, 'public', false),
                judged_at, 0);
    END IF;
    IF claimed IS NOT NULL THEN
        UPDATE idempotency_record SET result = jsonb_build_object('bid_id', bid_pk, 'event_id', event_pk)
         WHERE id = claimed;
    END IF;
    verdict := 'placed';
END
$fn$
"""


def _postgres(schema_editor: BaseSchemaEditor) -> bool:
    return bool(schema_editor.client.capabilities.dialect == "postgres")


async def replace_function(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    if _postgres(schema_editor):
        await schema_editor.client.execute_script(FUNCTION)


async def restore_function(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    if _postgres(schema_editor):
        before = importlib.import_module("domain.migrations.0028_listing_reverse_auction")
        await schema_editor.client.execute_script(before.FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0055_provincial_data_sets")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.RunPython(replace_function, restore_function),
    ]
