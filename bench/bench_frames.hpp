#pragma once
// The frames the benchmarks measure, built once from the real fixtures (read from ../shared at
// run time) and the test stream generator. Names say where each frame comes from.
#include <simdjson.h>

#include <string>
#include <vector>

#include "core/l2_book.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/stream_gen.hpp"

namespace booktape::bench {

// Minified fixture text (the venue sends compact JSON).
inline std::string minified_fixture(std::string_view name) {
  const std::string text = testing::fixture(name);
  std::string out(text.size(), '\0');
  std::size_t n = 0;
  if (simdjson::minify(text.data(), text.size(), out.data(), n) != simdjson::SUCCESS)
    throw std::runtime_error("cannot minify fixture");
  out.resize(n);
  return out;
}

// ws_quotes.json: a 2-entry price_change for both tokens of a market. Nautilus stored it
// without its event_type; the venue sends it as the LAST field, so it is put back there.
inline std::string price_change_2_entries() {
  std::string s = minified_fixture("ws_quotes.json");
  s.insert(s.size() - 1, ",\"event_type\":\"price_change\"");
  return s;
}

// A 60-level book (30 bids, 30 asks) in the venue's layout: bids ascending, asks descending,
// 77-digit asset id, 40-hex hash, sizes with up to 6 decimals. The fixtures hold no book this
// deep, so it is generated.
inline std::string book_60_levels() {
  std::string s =
      "{\"market\":\"0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1\","
      "\"asset_id\":\"71321045679252212594626385532706912750332728571942532289631379312455583992563\","
      "\"timestamp\":\"1757908892351\",\"hash\":\"0cb4e1b0f1e6c21a5ef1fca0a0b9fb3e5de2bb65\","
      "\"bids\":[";
  for (int i = 0; i < 30; ++i) {
    s += (i ? "," : "") + std::string("{\"price\":\"") + format_price(1'700 + i * 100) +
         "\",\"size\":\"" + format_size(static_cast<Size>(1'000'000 + i * 7'123'457)) + "\"}";
  }
  s += "],\"asks\":[";
  for (int i = 0; i < 30; ++i) {
    s += (i ? "," : "") + std::string("{\"price\":\"") + format_price(7'900 - i * 100) +
         "\",\"size\":\"" + format_size(static_cast<Size>(2'500'000 + i * 5'432'109)) + "\"}";
  }
  s += "],\"event_type\":\"book\"}";
  return s;
}

// One side of a realistic 60-level book on the 0.01 grid: 30 bids 0.17..0.46 or 30 asks
// 0.50..0.79, sizes 1..200 shares.
inline std::vector<Level> side_levels(Side s) {
  std::vector<Level> v;
  for (int i = 0; i < 30; ++i) {
    const Price p = s == Side::kBid ? 1'700 + i * 100 : 7'900 - i * 100;
    v.push_back(Level{static_cast<Size>(1 + (i * 37) % 200) * kSizeScale, p});
  }
  return v;
}

inline std::string last_trade() { return minified_fixture("ws_market_last_trade_msg.json"); }

// A realistic stream: an initial dump of every book, then mostly price_change with the odd
// trade, snapshot and PONG, as the live feed looks.
inline std::vector<std::string> realistic_stream(std::size_t frames, int tokens = 20) {
  testing::StreamGen gen(2026, tokens);
  std::vector<std::string> out;
  std::string dump = "[";
  for (std::size_t t = 0; t < gen.ids().size(); ++t) dump += (t ? "," : "") + gen.snapshot(t);
  out.push_back(dump + "]");
  const std::string trade = last_trade();
  while (out.size() < frames) {
    const std::size_t i = out.size();
    if (i % 97 == 0) out.push_back(trade);
    else if (i % 1'009 == 0) out.push_back(gen.snapshot(i % gen.ids().size()));
    else if (i % 2'003 == 0) out.push_back("PONG");
    else out.push_back(gen.price_change());
  }
  return out;
}

}  // namespace booktape::bench
