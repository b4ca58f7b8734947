#pragma once
// Reading the real captured Polymarket messages from ../shared/fixtures (never copied here).
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace booktape::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string fixture(std::string_view name) {
  return read_file(std::string(BOOKTAPE_FIXTURES_DIR) + "/" + std::string(name));
}

// The market-channel fixtures that carry an event_type, as the venue sends them.
inline std::vector<std::string> market_channel_fixture_names() {
  return {"ws_market_book_msg.json",        "ws_market_price_change_msg.json",
          "ws_market_last_trade_msg.json",  "ws_market_tick_size_msg.json",
          "ws_market_best_bid_ask_msg.json", "ws_market_new_market_msg.json",
          "ws_market_resolved_msg.json",     "ws_market_mixed_known_unknown.json"};
}

}  // namespace booktape::testing
