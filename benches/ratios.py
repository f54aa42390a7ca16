#!/usr/bin/env python3
"""Prints Hotline's benchmark ratios from the last `cargo bench` run
(groups of benches/hot_path.rs and benches/storage_relay.rs).

Usage: python3 benches/ratios.py [CRITERION_DIR ...]   (default: target/criterion)

Given several criterion directories (copies of target/criterion saved after
repeated runs), each figure is the smallest of its means: on a shared machine
the least disturbed run is the closest to the true cost, and taking the
minimum of every operation alike keeps the ratios fair.

Each ratio divides two mean times measured in the same run(s): Hotline over the
lower bound of its own primitives, and Hotline over vodozemac. For the
stored-Client row the "primitives" column is the same message on sessions
held in memory.
"""
import json
import os
import sys

roots = sys.argv[1:] or ["target/criterion"]


def mean_ns(*parts):
    found = []
    for root in roots:
        path = os.path.join(root, *parts, "new", "estimates.json")
        try:
            with open(path) as f:
                found.append(json.load(f)["mean"]["point_estimate"])
        except (OSError, KeyError, ValueError):
            pass
    return min(found) if found else None


def fmt(ns):
    return "n/a" if ns is None else (f"{ns / 1000:.2f} us" if ns < 1e6 else f"{ns / 1e6:.3f} ms")


def ratio(a, b):
    return "n/a" if a is None or b is None else f"{a / b:.2f}x"


rows = []
for size in ("100", "1024", "16384"):
    g = "established_chain_encrypt_decrypt"
    h, p, v = mean_ns(g, "hotline", size), mean_ns(g, "primitives", size), mean_ns(g, "vodozemac", size)
    he, ve = mean_ns(g, "hotline_encrypt_only", size), mean_ns(g, "vodozemac_encrypt_only", size)
    rows.append((f"encrypt+decrypt {size} B", h, p, v))
    rows.append((f"encrypt only {size} B", he, None, ve))
g = "ratchet_step_message"
rows.append(("ratchet step (ping-pong)", mean_ns(g, "hotline"), mean_ns(g, "primitives"), mean_ns(g, "vodozemac")))
g = "handshake"
rows.append(("handshake initiate (OTK)", mean_ns(g, "initiate_with_one_time_prekey"), mean_ns(g, "primitives_initiator"), None))
rows.append(("handshake respond (OTK)", mean_ns(g, "respond_with_one_time_prekey"), mean_ns(g, "primitives_responder"), None))
rows.append(("handshake initiate (no OTK)", mean_ns(g, "initiate_without_one_time_prekey"), None, None))
rows.append(("handshake respond (no OTK)", mean_ns(g, "respond_without_one_time_prekey"), None, None))
h_i, h_r = mean_ns(g, "initiate_with_one_time_prekey"), mean_ns(g, "respond_with_one_time_prekey")
v_hs = mean_ns(g, "vodozemac_create_outbound_and_inbound")
both = None if h_i is None or h_r is None else h_i + h_r
rows.append(("handshake both sides (OTK)", both, None, v_hs))

g = "pq_conversation_message"
for name in ("balanced", "one_sided"):
    rows.append((f"PQ conversation msg ({name})", mean_ns(g, "hotline", name), None, mean_ns(g, "vodozemac", name)))
rows.append(("PQ epoch work, both sides", mean_ns("pq_epoch_work", "both_sides"), None, None))

g = "skipped_key_decrypt"
rows.append(("skipped-key decrypt 100 B", mean_ns(g, "hotline", "100"), mean_ns(g, "primitives", "100"), mean_ns(g, "vodozemac", "100")))
rows.append(("in-order decrypt 100 B", mean_ns(g, "hotline_in_order", "100"), None, None))
g = "session_storage"
for state in ("established", "at_caps"):
    v = state == "established"
    rows.append((f"session save ({state})", mean_ns(g, "hotline_save", state), mean_ns(g, "primitives_save", state),
                 mean_ns(g, "vodozemac_save", state) if v else None))
    rows.append((f"session restore ({state})", mean_ns(g, "hotline_restore", state), mean_ns(g, "primitives_restore", state),
                 mean_ns(g, "vodozemac_restore", state) if v else None))
g = "client_message"
rows.append(("Client message 100 B (stored)", mean_ns(g, "stored_sessions", "100"), mean_ns(g, "sessions_in_memory", "100"), None))
g = "relay_route_envelope"
rows.append(("relay route 1 KiB (memory)", mean_ns(g, "memory_store", "1024"), mean_ns(g, "primitives", "1024"), None))
rows.append(("relay route 1 KiB (SQLite)", mean_ns(g, "sqlite_store", "1024"), mean_ns(g, "primitives", "1024"), None))

print(f"{'operation':30} {'hotline':>12} {'primitives':>12} {'vodozemac':>12} {'/primitives':>12} {'/vodozemac':>11}")
for name, h, p, v in rows:
    print(f"{name:30} {fmt(h):>12} {fmt(p):>12} {fmt(v):>12} {ratio(h, p):>12} {ratio(h, v):>11}")
