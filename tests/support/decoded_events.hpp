#pragma once
// Everything a Polymarket decoder reports about a frame, as one line of text per callback, and a
// frame decoded both ways (the fast path on and off): for the differential test
// (tests/codecs/polymarket_fast_path_test.cpp) and fuzzer (fuzz/codecs/
// decoder_differential_fuzzer.cpp). No GoogleTest here, so the fuzzer can use it.
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "codecs/polymarket_decoder.hpp"

namespace booktape::testing {

// Appends every field of every event it receives, in order, to `log`.
class EventLog final : public polymarket::EventSink {
 public:
  std::string log;

  void on_book(polymarket::BookEvent& e) override {
    line("book");
    text(e.asset_id);
    text(e.market);
    text(e.hash);
    num(e.timestamp_ms);
    levels(e.bids);
    levels(e.asks);
    num(e.bad_levels);
  }
  void on_price_change(const polymarket::PriceChangeEvent& e) override {
    line("price_change");
    text(e.market);
    num(e.timestamp_ms);
    num(e.legacy);
    for (const polymarket::PriceChangeEntry& c : e.entries) {
      log += " {";
      text(c.asset_id);
      text(c.hash);
      num(c.price);
      num(c.size);
      num(static_cast<int>(c.side));
      num(c.flags);
      num(c.venue_top.bid);
      num(c.venue_top.ask);
      log += " }";
    }
  }
  void on_last_trade(const polymarket::LastTradeEvent& e) override {
    line("last_trade_price");
    text(e.asset_id);
    text(e.market);
    text(e.transaction_hash);
    num(e.price);
    num(e.size);
    num(static_cast<int>(e.side));
    num(e.fee_rate_bps);
    num(e.timestamp_ms);
    num(e.flags);
  }
  void on_tick_size_change(const polymarket::TickSizeChangeEvent& e) override {
    line("tick_size_change");
    text(e.asset_id);
    text(e.market);
    num(e.old_tick);
    num(e.new_tick);
    num(e.timestamp_ms);
    num(e.flags);
  }
  void on_best_bid_ask(const polymarket::BestBidAskEvent& e) override {
    line("best_bid_ask");
    text(e.asset_id);
    text(e.market);
    num(e.top.bid);
    num(e.top.ask);
    num(e.spread);
    num(e.timestamp_ms);
    num(e.flags);
  }
  void on_market(const polymarket::MarketEvent& e) override {
    line(polymarket::to_string(e.type));
    for (std::string_view s : {e.id, e.market, e.slug, e.question, e.winning_asset_id,
                               e.winning_outcome})
      text(s);
    for (std::string_view s : e.assets_ids) text(s);
    log += " |";
    for (std::string_view s : e.outcomes) text(s);
    num(e.timestamp_ms);
  }
  void on_unknown(std::string_view event_type) override {
    line("unknown");
    text(event_type);
  }
  void on_invalid(polymarket::EventType t, polymarket::InvalidReason why) override {
    line("invalid");
    log += polymarket::to_string(t);
    num(static_cast<int>(why));
  }

 private:
  void line(std::string_view what) {
    if (!log.empty()) log += '\n';
    log += what;
  }
  // Length-prefixed, so that no content can pass for a separator.
  void text(std::string_view s) {
    log += ' ';
    log += std::to_string(s.size());
    log += ':';
    log += s;
  }
  template <class T>
  void num(T v) {
    log += ' ';
    log += std::to_string(v);
  }
  void levels(std::span<const Level> side) {
    log += " [";
    for (const Level& l : side) {
      num(l.price);
      log += '@';
      log += std::to_string(l.size);
    }
    log += " ]";
  }
};

// The decoder counters both paths must agree on, as text (parser_grows is left out: the fast
// path needs no parser to grow; fast_path counts which path was taken).
inline std::string comparable_stats(const polymarket::DecoderStats& s) {
  std::string out = "frames " + std::to_string(s.frames) + " kinds";
  for (std::uint64_t n : s.frames_by_kind) out += " " + std::to_string(n);
  out += " events";
  for (std::uint64_t n : s.events_by_type) out += " " + std::to_string(n);
  out += " invalid " + std::to_string(s.invalid_events) + " bad " + std::to_string(s.bad_values);
  return out;
}

// One frame decoded by one decoder: what it returned and reported.
struct Decoded {
  polymarket::DecodeResult result;
  std::string log;
  bool fast = false;  // the fast path decoded it

  [[nodiscard]] std::string describe() const {
    return std::string(polymarket::to_string(result.kind)) + " events " +
           std::to_string(result.events) + " json_error " + std::to_string(result.json_error) +
           "\n" + log;
  }
  bool operator==(const Decoded& o) const {
    return result.kind == o.result.kind && result.events == o.result.events &&
           result.json_error == o.result.json_error && log == o.log;
  }
};

// A pair of decoders, one with the fast path and one without, fed the same frames. Each frame
// goes to both in a private buffer: `size` bytes of frame, then `after` (bytes that may be read,
// e.g. more JSON that must not be taken as part of the frame), then zero padding.
class DecoderPair {
 public:
  explicit DecoderPair(polymarket::Decoder::Options options = {})
      : fast_(with(options, true)), general_(with(options, false)) {}

  // Decodes `frame` with both; `after` follows it in memory (readable, not part of the frame).
  std::pair<Decoded, Decoded> decode(std::string_view frame, std::string_view after = {}) {
    buffer_.assign(frame.size() + after.size() + polymarket::Decoder::kPadding, '\0');
    std::memcpy(buffer_.data(), frame.data(), frame.size());
    if (!after.empty()) std::memcpy(buffer_.data() + frame.size(), after.data(), after.size());
    return {run(fast_, frame.size()), run(general_, frame.size())};
  }

  [[nodiscard]] const polymarket::Decoder& fast() const noexcept { return fast_; }
  [[nodiscard]] const polymarket::Decoder& general() const noexcept { return general_; }

 private:
  static polymarket::Decoder::Options with(polymarket::Decoder::Options o, bool fast) {
    o.fast_path = fast;
    return o;
  }
  Decoded run(polymarket::Decoder& d, std::size_t size) {
    EventLog sink;
    Decoded out;
    const std::uint64_t fast_before = d.stats().fast_path;
    out.result = d.decode(buffer_.data(), size, buffer_.size(), sink);
    out.log = std::move(sink.log);
    out.fast = d.stats().fast_path != fast_before;
    return out;
  }

  polymarket::Decoder fast_, general_;
  std::vector<char> buffer_;
};

}  // namespace booktape::testing
