#!/usr/bin/env bash
# Writes a small plain frame file (one websocket frame per line, like other recorders write)
# for a first `booktape replay`: a book, consistent price changes, a trade, a heartbeat reply
# and one malformed frame. Usage: scripts/sample-frames.sh [FILE]   (default: stdout)
set -euo pipefail
out="${1:-/dev/stdout}"
A=71321045679252212594626385532706912750332728571942532289631379312455583992563
M=0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917
cat > "$out" <<JSONL
[{"market":"$M","asset_id":"$A","timestamp":"1763700000000","hash":"b1f2","bids":[{"price":"0.47","size":"120"},{"price":"0.48","size":"350"},{"price":"0.49","size":"200"}],"asks":[{"price":"0.53","size":"400"},{"price":"0.52","size":"250"},{"price":"0.51","size":"150"}],"event_type":"book"}]
{"market":"$M","price_changes":[{"asset_id":"$A","price":"0.5","size":"75","side":"BUY","hash":"c301","best_bid":"0.5","best_ask":"0.51"}],"timestamp":"1763700000100","event_type":"price_change"}
{"market":"$M","price_changes":[{"asset_id":"$A","price":"0.51","size":"0","side":"SELL","hash":"c302","best_bid":"0.5","best_ask":"0.52"}],"timestamp":"1763700000200","event_type":"price_change"}
{"market":"$M","asset_id":"$A","fee_rate_bps":"0","price":"0.51","side":"BUY","size":"150","timestamp":"1763700000201","event_type":"last_trade_price"}
PONG
{"market":"$M","price_changes":[{"asset_id":"$A","price":"0.52","size":"100.5","side":"SELL","hash":"c303","best_bid":"0.5","best_ask":"0.52"}],"timestamp":"1763700000300","event_type":"price_change"}
{"event_type":"book","asset_id":
JSONL
