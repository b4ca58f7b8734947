#!/usr/bin/python3
"""An independent reader of `booktape export`'s datasets, the way a researcher's pandas code
reads Tardis.dev CSV files: it shares no code with booktape.

usage: export_reader.py OUT_DIR BOOKS_JSON [DEPTH]

- Rebuilds every book from the incremental_book_L2 files (all days, in order) with Tardis's
  rules: a snapshot row that follows an update row for a symbol starts its book afresh; an
  amount of 0 removes the level. The result must equal BOOKS_JSON (`booktape replay
  --dump-books`), level for level, exact decimals.
- Checks each file's header against Tardis's column layout (then our extra columns), that the
  last quote of each symbol is the rebuilt book's best bid and ask, and prints counts as JSON.
Exit 0 when everything agrees; 1 with the differences otherwise.
"""
import glob
import json
import os
import sys
from decimal import Decimal

import pandas as pd

HEADERS = {
    "incremental_book_L2": ["exchange", "symbol", "timestamp", "local_timestamp", "is_snapshot",
                            "side", "price", "amount"],
    "trades": ["exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price",
               "amount"],
    "quotes": ["exchange", "symbol", "timestamp", "local_timestamp", "ask_amount", "ask_price",
               "bid_price", "bid_amount"],
}


def snapshot_header(depth):
    cols = ["exchange", "symbol", "timestamp", "local_timestamp"]
    for i in range(depth):
        cols += [f"asks[{i}].price", f"asks[{i}].amount", f"bids[{i}].price", f"bids[{i}].amount"]
    return cols


def files(out, kind):
    return sorted(glob.glob(os.path.join(out, f"polymarket_{kind}_*.csv.gz")))


def read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def main():
    out, books_json = sys.argv[1], sys.argv[2]
    depth = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    problems = []

    # Headers: Tardis's columns first, in Tardis's order.
    for kind, cols in list(HEADERS.items()) + [(f"book_snapshot_{depth}", snapshot_header(depth))]:
        for path in files(out, kind):
            head = list(read(path).columns)
            if head[: len(cols)] != cols:
                problems.append(f"{os.path.basename(path)}: header {head[:len(cols)]} is not {cols}")

    books = {}  # symbol -> {"bid": {Decimal price: Decimal amount}, "ask": {...}}
    last_was_snapshot = {}
    rows = 0
    for path in files(out, "incremental_book_L2"):
        df = read(path)
        rows += len(df)
        for sym, snap, side, price, amount in zip(df["symbol"], df["is_snapshot"], df["side"],
                                                  df["price"], df["amount"]):
            is_snap = snap == "true"
            if is_snap and not last_was_snapshot.get(sym, False):
                books[sym] = {"bid": {}, "ask": {}}
            last_was_snapshot[sym] = is_snap
            book = books.setdefault(sym, {"bid": {}, "ask": {}})
            p, a = Decimal(price), Decimal(amount)
            if a == 0:
                book[side].pop(p, None)
            else:
                book[side][p] = a

    with open(books_json) as f:
        dumped = json.load(f)
    expected = {}
    for b in dumped:
        expected[b["asset_id"]] = {
            "bid": {Decimal(p): Decimal(s) for p, s in b["bids"]},
            "ask": {Decimal(p): Decimal(s) for p, s in b["asks"]},
        }
    symbols = set(expected) | set(books)
    equal = 0
    for sym in sorted(symbols):
        want = expected.get(sym, {"bid": {}, "ask": {}})
        got = books.get(sym, {"bid": {}, "ask": {}})
        if want == got:
            equal += 1
            continue
        for side in ("bid", "ask"):
            missing = {p: a for p, a in want[side].items() if got[side].get(p) != a}
            extra = {p: a for p, a in got[side].items() if want[side].get(p) != a}
            if missing or extra:
                problems.append(f"{sym[:12]}.. {side}: replay has {sorted(missing.items())[:5]}, "
                                f"the CSV gives {sorted(extra.items())[:5]}")

    # The last quote of each symbol is the rebuilt book's top.
    last_quote = {}
    quotes = 0
    for path in files(out, "quotes"):
        df = read(path)
        quotes += len(df)
        for sym, ap, aa, bp, ba in zip(df["symbol"], df["ask_price"], df["ask_amount"],
                                       df["bid_price"], df["bid_amount"]):
            last_quote[sym] = (ap, aa, bp, ba)
    for sym, (ap, aa, bp, ba) in last_quote.items():
        book = books.get(sym, {"bid": {}, "ask": {}})
        top_bid = max(book["bid"]) if book["bid"] else None
        top_ask = min(book["ask"]) if book["ask"] else None
        want = (str(top_ask) if top_ask is not None else "",
                str(book["ask"][top_ask]) if top_ask is not None else "",
                str(top_bid) if top_bid is not None else "",
                str(book["bid"][top_bid]) if top_bid is not None else "")
        got = tuple(str(Decimal(x)) if x else "" for x in (ap, aa, bp, ba))
        if got != want:
            problems.append(f"{sym[:12]}.. last quote {got} is not the book's top {want}")

    trades = sum(len(read(p)) for p in files(out, "trades"))
    print(json.dumps({"incremental_rows": rows, "books": len(symbols), "books_equal": equal,
                      "quotes": quotes, "trades": trades, "problems": problems[:20]}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
