"""Forget reaches a customer's rejects through identifier fields only: a device id that is a common
word (`sent`) never deletes the rejects of other customers that hold the word elsewhere."""

from __future__ import annotations

from pipeline.core.warehouse import connect
from pipeline.customers.forget import forget_customer
from pipeline.ingest.write import LOADED
from tests.unit.ingest.malformed_corpus import EVENTS_HEADER, World, epoch


def test_forgetting_a_device_id_that_is_a_common_word_keeps_other_customers_rejects(world: World) -> None:
    r = world.load_customers("csv", "customuid,idfa,txt_note\nu1,sent,x\nu2,dev2,x\nu3,dev3,x,extra\n")
    assert (r.status, r.rows_rejected) == (LOADED, 1)  # u3's row: a column too many
    t = epoch(2026, 1, 31, 9)
    events = EVENTS_HEADER + (
        b"u1,opened,soon,,\n"  # u1's own reject (bad time)
        b"k2,sent,soon,,\n"  # another customer's reject holding the word in the event field
        b"k3,sent,%d,,2026/13/01\n"  # another, rejected for sent_on
        b"k4,sent,%d,,\n" % (t, t)
    )
    r = world.load_tx("events", "csv", events)
    assert (r.status, r.rows_rejected) == (LOADED, 3)
    before = world.q("SELECT dataset, row_number FROM rejects ORDER BY ALL")
    with connect(world.warehouse) as con:
        done = forget_customer(con, world.cfg, "sent", kind="idfa")
    assert done.customers == 1 and done.rows_deleted["rejects"] == 1
    after = world.q("SELECT dataset, row_number FROM rejects ORDER BY ALL")
    assert set(before) - set(after) == {("events", 1)}  # u1's reject only
    assert ("customers", 3) in after  # u3's reject stays
    assert not world.q("SELECT * FROM rejects WHERE raw_row LIKE '%u1%'")


def test_forget_deletes_a_reject_whose_bytes_are_not_utf8(world: World) -> None:
    """A feed row with a Latin-1 byte (or a Windows-1252 one) just before the customer's cell, and a
    JSON line with one, is rejected for its bytes; its raw text keeps its delimiters (each such byte a
    U+FFFD), so forget finds the customer in it."""
    world.load_customers("csv", "customuid,txt_note\nu1,x\nu2,x\n")
    t = epoch(2026, 1, 31, 9)
    events = b"event,customer_id,occurred_at,opened_at,sent_on\nopen\xe9,u1,%d,,\nopen\x93,u2,%d,,\n" % (t, t)
    r = world.load_tx("events", "csv", events)
    assert (r.status, r.rows_rejected) == (LOADED, 2)
    raw = world.q("SELECT row_number, field, raw_row FROM rejects ORDER BY row_number")
    assert raw == [(1, "encoding", f"open\ufffd,u1,{t},,"), (2, "encoding", f"open\ufffd,u2,{t},,")]
    web = b'{"session_id": "s\xe9", "customer_id": "u1"}\n{"session_id": "s\xe9", "customer_id": "u2"}\n'
    assert world.load_tx("web", "jsonl", web).rows_rejected == 2
    with connect(world.warehouse) as con:
        done = forget_customer(con, world.cfg, "u1", kind="customuid")
    assert done.rows_deleted["rejects"] == 2
    assert world.q("SELECT dataset, row_number FROM rejects ORDER BY ALL") == [("events", 2), ("web", 2)]
