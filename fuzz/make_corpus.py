#!/usr/bin/env python3
"""Writes the committed seed corpus under fuzz/corpus/ (docs/FUZZING.md).

The seeds are our own frames in the venue's shapes (docs/BOOKS.md), not copies of the shared
fixtures, which stay outside the repo; scripts/fuzz.sh adds those at run time. Archive seeds use
the compact envelope and the gzip members of docs/DATA_CONTRACT.md, so the reader's fast path,
its simdjson path, torn tails and plain frame files all have a starting point.

Run from anywhere: python3 fuzz/make_corpus.py  (rewrites the generated files; deterministic).
Files named finding_* are inputs that once found a bug and the config seeds are hand-written:
both are committed as they are and left alone here.
"""
import base64
import gzip
import hashlib
import json
import pathlib
import struct
import zlib

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"
A = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
B = "1002"
M = "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917"


def j(obj):
    return json.dumps(obj, separators=(",", ":"))


def book(asset, bids, asks, ts="1703875200000"):
    lv = lambda levels: [{"price": p, "size": s} for p, s in levels]
    return {"event_type": "book", "market": M, "asset_id": asset, "bids": lv(bids),
            "asks": lv(asks), "timestamp": ts, "hash": "0xbook"}


def change(entries, ts="1703875201000"):
    return {"event_type": "price_change", "market": M, "timestamp": ts, "price_changes": [
        {"asset_id": a, "price": p, "side": sd, "size": s, "hash": "0xh", "best_bid": bb,
         "best_ask": ba} for a, p, sd, s, bb, ba in entries]}


SNAP_A = book(A, [("0.48", "500.0"), ("0.49", "350.0"), ("0.50", "200.0")],
              [("0.53", "300"), ("0.52", "250"), ("0.51", "150")])
TRADE_A = {"event_type": "last_trade_price", "market": M, "asset_id": A, "fee_rate_bps": "0",
           "price": "0.51", "side": "BUY", "size": "25.0", "timestamp": "1703875202000"}

# Each decoder seed is a stream: one frame a line.
DECODER = {
    "snapshot_changes_trade": [
        SNAP_A,
        change([(A, "0.51", "BUY", "150.0", "0.51", "0.52")]),
        change([(A, "0.51", "BUY", "0", "0.50", "0.52"), (A, "0.505", "SELL", "10.123456", "0.50", "0.505")]),
        TRADE_A,
    ],
    "array_two_tokens": [
        [SNAP_A, book(B, [(".1", "1")], [("0.9", "2")])],
        change([(A, "0.47", "BUY", "1", "0.50", "0.51"), (B, "0.2", "BUY", "3", "0.2", "0.9")]),
        {"event_type": "best_bid_ask", "market": M, "asset_id": B, "best_bid": "0.2",
         "best_ask": "0.9", "spread": "0.7", "timestamp": "1703875203000"},
    ],
    "legacy_tick_size_rebook": [
        SNAP_A,
        {"event_type": "price_change", "market": M, "asset_id": A, "timestamp": "1703875201000",
         "hash": "0xh", "changes": [{"price": "0.52", "side": "SELL", "size": "0"}]},
        {"event_type": "tick_size_change", "market": M, "asset_id": A, "old_tick_size": "0.01",
         "new_tick_size": "0.001", "timestamp": "1703875210000"},
        change([(A, "0.501", "BUY", "5", "0.501", "0.51")]),
        book(A, [("0.501", "5")], [("0.502", "7")], "1703875211000"),
    ],
    "crossed_then_cleared": [
        SNAP_A,
        change([(A, "0.52", "BUY", "40", "0.52", "0.51")]),
        change([(A, "0.51", "SELL", "0", "0.52", "0.53")]),
    ],
    "markets_and_text": [
        {"event_type": "new_market", "id": "1", "market": M, "slug": "btc-up", "question": "Up?",
         "assets_ids": [A, B], "outcomes": ["Up", "Down"], "timestamp": "1766790415550"},
        {"event_type": "market_resolved", "id": "1", "market": M, "assets_ids": [A, B],
         "winning_asset_id": A, "winning_outcome": "Up", "timestamp": "1766790415551"},
        {"event_type": "something_new", "asset_id": A},
        "PONG", "INVALID OPERATION", "NO NEW ASSETS", "",
        '{"event_type":"book","asset_id":"1","bids":[{"price":"0.5","size":',
    ],
}

# The venue's own layout (event_type last, entry keys in its order), which the decoder's fast path
# takes: seeds for decoder_differential, beside the streams above.
def venue_change(entries, ts="1703875201000"):
    keys = ("asset_id", "price", "size", "side", "hash", "best_bid", "best_ask")
    return ('{"market":"' + M + '","price_changes":[' +
            ",".join(j(dict(zip(keys, e))) for e in entries) +
            '],"timestamp":"' + ts + '","event_type":"price_change"}')


def venue_book(asset, bids, asks, ts="1703875200000"):
    lv = lambda levels: ",".join(j({"price": p, "size": s}) for p, s in levels)
    return ('{"market":"' + M + '","asset_id":"' + asset + '","timestamp":"' + ts +
            '","hash":"0cb4e1b0f1e6c21a5ef1fca0a0b9fb3e5de2bb65","bids":[' + lv(bids) +
            '],"asks":[' + lv(asks) + '],"event_type":"book"}')


VENUE = {
    "venue_layout": [
        venue_book(A, [("0.%02d" % p, "%d.%06d" % (p * 7, p * 12345)) for p in range(17, 47)],
                   [("0.%02d" % p, "%d" % (p * 3)) for p in range(79, 49, -1)]),
        venue_change([(A, "0.51", "150.5", "BUY", "0x" + "ab" * 20, "0.51", "0.52"),
                      (B, "0.49", "0", "SELL", "0x" + "cd" * 20, "0.48", "")]),
        venue_change([(A, "0.505", "10.123456", "SELL", "0xh", "0.5", "0.505")]),
        '{"market":"' + M + '","asset_id":"' + A + '","price":"0.51","size":"25",'
        '"fee_rate_bps":"0","side":"BUY","timestamp":"1703875202000",'
        '"event_type":"last_trade_price","transaction_hash":"0x' + "ef" * 32 + '"}',
    ],
}

# Envelope records, in the layout codecs/envelope.cpp writes.
RUN = "20261121T080809Z-0000beef"
FILE_RECORD = {"record": "file", "format": "booktape.ws_raw", "format_version": 1,
               "writer": "booktape 0.1.0", "run_id": RUN, "file_sequence": 1,
               "opened_at_utc": "2026-11-21T08:08:09.819578008Z", "envelope": "compact"}
SESSION = {"record": "session", "event": "open", "session_id": RUN + "-c1", "run_id": RUN,
           "connection_sequence": 1, "at_utc": "2026-11-21T08:08:09.819578008Z",
           "at_ns": 1795248489819578008}


def frame_line(seq, payload: bytes, types, binary=False, extra=None):
    ns = 1795248489820105310 + seq * 1000
    head = (f'{{"record":"frame","received_at_utc":"2026-11-21T08:08:09.{ns % 10**9:09d}Z",'
            f'"received_at_ns":{ns},"monotonic_ns":{9251379854155 + seq * 1000},'
            f'"session_id":"{RUN}-c1","connection_sequence":1,"message_sequence":{seq},'
            f'"global_message_sequence":{seq},"opcode":"{"binary" if binary else "text"}",'
            f'"payload_length_bytes":{len(payload)},'
            f'"payload_sha256":"{hashlib.sha256(payload).hexdigest()}",'
            f'"classified_event_types":{j(types)},"json_error":null')
    if extra:
        head += "," + j(extra)[1:-1]
    if binary:
        return head + f',"raw_base64":"{base64.b64encode(payload).decode()}"}}'
    return head + ',"raw_text":' + json.dumps(payload.decode(), ensure_ascii=False) + "}"


def member(lines):
    """One booktape gzip member: FEXTRA subfield BT (member_bytes, raw_bytes, rows)."""
    raw = "".join(l + "\n" for l in lines).encode()
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = c.compress(raw) + c.flush()
    total = 10 + 2 + 16 + len(body) + 8
    head = bytes([0x1F, 0x8B, 8, 4, 0, 0, 0, 0, 0, 255]) + struct.pack("<H", 16)
    head += b"BT" + struct.pack("<HIII", 12, total, len(raw), len(lines))
    return head + body + struct.pack("<II", zlib.crc32(raw), len(raw) & 0xFFFFFFFF)


def frames(stream):
    out = []
    for i, f in enumerate(stream, 1):
        text = f if isinstance(f, str) else j(f)
        out.append(frame_line(i, text.encode(), [f.get("event_type", "unknown")]
                              if isinstance(f, dict) else ["book"]))
    return out


def archive_seeds():
    compact = [j(FILE_RECORD), j(SESSION)] + frames(DECODER["snapshot_changes_trade"])
    closed = member(compact[:3]) + member(compact[3:])
    torn = closed[: len(closed) - 17]  # a crash inside the last member
    # Three members, the middle one damaged (a flipped byte in its deflate data): the reader
    # skips it and reads the third.
    middle = bytearray(member(compact[3:5]))
    middle[len(middle) // 2] ^= 0x5A
    damaged_middle = member(compact[:3]) + bytes(middle) + member(compact[5:])
    full = [j(dict(FILE_RECORD, envelope="full"))] + [
        frame_line(1, j(SNAP_A).encode(), ["book"], extra={"websocket": {"url": "ws://h/ws"}}),
        frame_line(2, b"\x00\x01binary\xff", [], binary=True),
        frame_line(3, 'PONG \\ "q" \u00e9\n'.encode(), ["pong"])]
    plain = "".join(j(f) + "\n" for f in DECODER["array_two_tokens"]).encode()
    return {
        "booktape_two_members": closed,
        "booktape_torn_tail": torn,
        "booktape_damaged_middle_member": damaged_middle,
        "booktape_full_and_base64": member(full),
        "booktape_not_compressed": "".join(l + "\n" for l in compact).encode(),
        "plain_frames": plain,
        "plain_frames_gzip": gzip.compress(plain, mtime=0),
    }


def write(target, name, data: bytes):
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def main():
    for name, stream in DECODER.items():
        write("frame_decoder", name,
              "\n".join(f if isinstance(f, str) else j(f) for f in stream).encode())
    for name, stream in list(DECODER.items()) + list(VENUE.items()):
        write("decoder_differential", name,
              "\n".join(f if isinstance(f, str) else j(f) for f in stream).encode())
    for name, data in archive_seeds().items():
        write("archive_reader", name, data)
    # recorder_config seeds are the files in config/ plus a few hand-written edge cases,
    # committed as they are (not generated).


if __name__ == "__main__":
    main()
