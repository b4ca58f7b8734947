#include "io/replay/export_dataset.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "codecs/json_out.hpp"
#include "core/version.hpp"
#include "io/archive/paths.hpp"
#include "io/replay/export_csv.hpp"
#include "io/replay/replayer.hpp"

namespace booktape {

namespace fs = std::filesystem;
namespace pm = polymarket;

const char* to_string(ExportKind k) noexcept {
  switch (k) {
    case ExportKind::kIncrementalBookL2: return "incremental_book_L2";
    case ExportKind::kBookSnapshot: return "book_snapshot";
    case ExportKind::kTrades: return "trades";
    case ExportKind::kQuotes: return "quotes";
  }
  return "?";
}

bool parse_export_kind(std::string_view s, ExportKind& out) noexcept {
  for (const ExportKind k : {ExportKind::kIncrementalBookL2, ExportKind::kBookSnapshot,
                             ExportKind::kTrades, ExportKind::kQuotes}) {
    if (s == to_string(k)) {
      out = k;
      return true;
    }
  }
  // book_snapshot_25 and the like name the kind too (the depth is --depth).
  if (s.starts_with("book_snapshot_")) {
    out = ExportKind::kBookSnapshot;
    return true;
  }
  return false;
}

namespace {

constexpr std::string_view kExchange = "polymarket";
constexpr std::int64_t kNanosPerDay = 24 * 3'600 * kNanosPerSecond;
constexpr std::size_t kKinds = 4;

UnixNanos day_start(UnixNanos t) noexcept {
  const std::int64_t d = t >= 0 ? t / kNanosPerDay : (t - kNanosPerDay + 1) / kNanosPerDay;
  return d * kNanosPerDay;
}

std::string date_of(UnixNanos t) {
  const CivilTime c = to_civil(t);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", c.year, c.month, c.day);
  return buf;
}

// Receive time in µs as Tardis writes local_timestamp (floor, also before 1970).
std::int64_t micros(UnixNanos t) noexcept {
  return t >= 0 ? t / 1'000 : (t - 999) / 1'000;
}

struct Quote {
  Price bid = kNoPrice, ask = kNoPrice;
  Size bid_size = 0, ask_size = 0;
  bool operator==(const Quote&) const = default;
};

// What the CSV has said about one token so far.
struct TokenState {
  bool ready = false;
  bool selected = true;
  bool last_row_snapshot = false;  // its last incremental row was a snapshot row
  bool touched = false;            // changed by the current frame
  bool dirty = false;              // changed since its last book_snapshot row (sampled mode)
  bool quoted = false;
  Quote quote;
  std::string slug, outcome;
  std::string head;                // "polymarket,<asset id>," (every row starts so)
  std::string tail;                // ",<slug>,<outcome>" (CSV-quoted)
  std::string levels;              // its last book_snapshot row's level columns
};

class Exporter final : public pm::EventSink {
 public:
  explicit Exporter(const ExportOptions& o) : o_(o) {
    for (const ExportKind k : o.kinds) enabled_[static_cast<std::size_t>(k)] = true;
    assets_.insert(o.assets.begin(), o.assets.end());
  }

  void attach(Replayer& r) {
    books_ = &r.books();
    inner_ = &r.applier();
  }

  ExportResult& result() noexcept { return r_; }

  void before_frame(const ArchiveFrame& f) {
    end_frame();
    if (!f.has_envelope) {
      ++r_.frames_without_envelope;
      emitting_ = false;
      return;
    }
    const UnixNanos t = f.received_ns;
    if (sampling() && started_ && t > next_boundary_) emit_sampled(next_boundary_);
    emitting_ = !o_.from || t >= *o_.from;
    if (emitting_) {
      ++r_.frames_in_range;
      ensure_day(t, o_.from && !started_ ? *o_.from : t);
      if (sampling()) next_boundary_ = ceil_boundary(t);
    }
    now_ = t;
  }

  void on_record(std::string_view line) {
    if (!line.starts_with("{\"record\":\"session\"") ||
        line.find("\"tokens_tracked\"") == std::string_view::npos)
      return;
    simdjson::dom::element d;
    simdjson::dom::array tokens;
    if (parser_.parse(line.data(), line.size()).get(d) != simdjson::SUCCESS ||
        d["tokens_tracked"].get_array().get(tokens) != simdjson::SUCCESS)
      return;
    for (simdjson::dom::element tok : tokens) {
      std::string_view id, slug, outcome;
      if (tok["token_id"].get_string().get(id) != simdjson::SUCCESS) continue;
      if (tok["market_slug"].get_string().get(slug) != simdjson::SUCCESS) slug = {};
      if (tok["outcome"].get_string().get(outcome) != simdjson::SUCCESS) outcome = {};
      auto& m = meta_[std::string(id)];
      m.first.assign(slug);
      m.second.assign(outcome);
      const TokenIndex t = books_->find(id);
      if (t != kNoToken && t < states_.size() && states_[t].ready) {
        states_[t].slug.assign(slug);
        states_[t].outcome.assign(outcome);
        render_tail(states_[t]);
      }
    }
  }

  // The end of the archive: the last frame's rows, the last sampled snapshot, the files closed.
  void finish() {
    end_frame();
    if (sampling() && started_ && (!o_.to || next_boundary_ <= *o_.to)) emit_sampled(next_boundary_);
    close_files();
    if (!started_) {
      r_.note = o_.from || o_.to
                    ? "no frames were received in the range asked for: the dataset is empty"
                    : "the archive holds no frames: the dataset is empty";
    }
  }

  // ---------------------------------------------------------------- events ---------------

  void on_book(pm::BookEvent& e) override {
    TokenIndex t = books_->find(e.asset_id);
    save_old(t);
    const std::uint64_t before = t != kNoToken ? books_->book(t).stats.snapshots : 0;
    inner_->on_book(e);
    t = books_->find(e.asset_id);
    if (t == kNoToken) return;
    TokenState& s = state(t);
    const TokenBook& tb = books_->book(t);
    const bool accepted = tb.stats.snapshots > before;
    if (emits(s)) {
      const std::int64_t ts = venue_us(e.timestamp_ms);
      const bool empty = tb.book.bids().empty() && tb.book.asks().empty();
      if (accepted && !empty) {
        // A reader discards its book at a snapshot row that follows an update row; after
        // snapshot rows it would merge the two snapshots, so one update row goes between.
        if (s.last_row_snapshot) emit_one_removal(t, s, ts);
        emit_book(t, s, ts, micros(now_));
      } else {
        emit_diff(t, s, ts);
      }
    }
    touch(t, s);
  }

  void on_price_change(const pm::PriceChangeEvent& e) override {
    // One entry at a time, so each level's change is seen as the book applies it.
    pm::PriceChangeEvent one = e;
    for (std::size_t i = 0; i < e.entries.size(); ++i) {
      const pm::PriceChangeEntry& c = e.entries[i];
      one.entries = e.entries.subspan(i, 1);
      TokenIndex t = (c.flags & pm::kNoAssetId) ? kNoToken : books_->find(c.asset_id);
      const Size before = t != kNoToken ? books_->book(t).book.side(c.side).size_at(c.price) : 0;
      inner_->on_price_change(one);
      if (c.flags & pm::kNoAssetId) continue;
      t = books_->find(c.asset_id);
      if (t == kNoToken) continue;
      const Size after = books_->book(t).book.side(c.side).size_at(c.price);
      TokenState& s = state(t);
      if (after != before && emits(s)) level_row(t, s, venue_us(e.timestamp_ms), false, c.side, c.price, after);
      touch(t, s);
    }
  }

  void on_tick_size_change(const pm::TickSizeChangeEvent& e) override {
    TokenIndex t = books_->find(e.asset_id);
    save_old(t);
    inner_->on_tick_size_change(e);
    t = books_->find(e.asset_id);
    if (t == kNoToken) return;
    TokenState& s = state(t);
    if (emits(s)) emit_diff(t, s, venue_us(e.timestamp_ms));  // the book is dropped
    touch(t, s);
  }

  void on_last_trade(const pm::LastTradeEvent& e) override {
    inner_->on_last_trade(e);
    if (!enabled(ExportKind::kTrades) || e.flags != 0) return;
    const TokenIndex t = books_->find(e.asset_id);
    if (t == kNoToken) return;
    TokenState& s = state(t);
    if (!emits(s)) return;
    GzipCsvFile& f = *files_[static_cast<std::size_t>(ExportKind::kTrades)];
    ByteBuffer& b = f.row();
    prefix(b, t, venue_us(e.timestamp_ms));
    csv_quoted(b, e.transaction_hash);
    b.append(e.side == Side::kBid ? ",buy," : ",sell,");
    csv_price(b, e.price);
    csv_comma(b);
    csv_size(b, e.size);
    suffix(b, s);
    end_row(f);
  }

  void on_best_bid_ask(const pm::BestBidAskEvent& e) override { inner_->on_best_bid_ask(e); }
  void on_market(const pm::MarketEvent& e) override { inner_->on_market(e); }
  void on_unknown(std::string_view type) override { inner_->on_unknown(type); }
  void on_invalid(pm::EventType t, pm::InvalidReason why) override { inner_->on_invalid(t, why); }

 private:
  [[nodiscard]] bool enabled(ExportKind k) const noexcept {
    return enabled_[static_cast<std::size_t>(k)];
  }
  [[nodiscard]] bool sampling() const noexcept {
    return enabled(ExportKind::kBookSnapshot) && o_.interval_ns > 0;
  }
  [[nodiscard]] bool emits(const TokenState& s) const noexcept { return emitting_ && s.selected; }
  [[nodiscard]] std::int64_t venue_us(std::int64_t ms) const noexcept {
    return ms > 0 ? ms * 1'000 : micros(now_);  // Tardis: local time when the venue gives none
  }
  [[nodiscard]] UnixNanos ceil_boundary(UnixNanos t) const noexcept {
    const UnixNanos floor = day_start(t) + (t - day_start(t)) / o_.interval_ns * o_.interval_ns;
    return floor == t ? t : floor + o_.interval_ns;
  }

  TokenState& state(TokenIndex t) {
    if (t >= states_.size()) states_.resize(static_cast<std::size_t>(t) + 1);
    TokenState& s = states_[t];
    if (!s.ready) {
      s.ready = true;
      const std::string& id = books_->token_id(t);
      s.selected = assets_.empty() || assets_.contains(id);
      const auto it = meta_.find(id);
      if (it != meta_.end()) {
        s.slug = it->second.first;
        s.outcome = it->second.second;
      }
      s.head.assign(kExchange).append(",").append(id).append(",");
      render_tail(s);
    }
    return s;
  }

  void render_tail(TokenState& s) {
    scratch_.clear();
    csv_comma(scratch_);
    csv_quoted(scratch_, s.slug);
    csv_comma(scratch_);
    csv_quoted(scratch_, s.outcome);
    s.tail.assign(scratch_.view());
  }

  // The receive time as text, rendered once per frame (every row of a frame shares it).
  void render_now() {
    if (now_rendered_ && rendered_ns_ == now_) return;
    now_rendered_ = true;
    rendered_ns_ = now_;
    scratch_.clear();
    csv_i64(scratch_, micros(now_));
    local_us_text_.assign(scratch_.view());
    scratch_.clear();
    csv_i64(scratch_, now_);
    ns_text_.assign(scratch_.view());
  }

  void touch(TokenIndex t, TokenState& s) {
    if (s.touched || !s.selected) return;
    s.touched = true;
    touched_.push_back(t);
  }

  void save_old(TokenIndex t) {
    old_bids_.clear();
    old_asks_.clear();
    if (t == kNoToken) return;
    const L2Book& b = books_->book(t).book;
    for (std::size_t i = 0; i < b.bids().depth(); ++i) old_bids_.push_back(b.bids().level(i));
    for (std::size_t i = 0; i < b.asks().depth(); ++i) old_asks_.push_back(b.asks().level(i));
  }

  // ------------------------------------------------------------- files and rows ----------

  void open_files(UnixNanos day) {
    const std::string date = date_of(day);
    for (std::size_t k = 0; k < kKinds; ++k) {
      if (!enabled_[k]) continue;
      const auto kind = static_cast<ExportKind>(k);
      const std::string kind_name = kind == ExportKind::kBookSnapshot
                                        ? "book_snapshot_" + std::to_string(o_.depth)
                                        : to_string(kind);
      files_[k] = std::make_unique<GzipCsvFile>(
          compressor_, o_.out, std::string(kExchange) + "_" + kind_name + "_" + date + ".csv.gz", header(kind));
      kind_names_[k] = kind_name;
    }
    day_ = day;
    date_ = date;
  }

  void close_files() {
    for (std::size_t k = 0; k < kKinds; ++k) {
      if (!files_[k]) continue;
      GzipCsvFile& f = *files_[k];
      f.finish();
      ExportedFile e;
      e.kind = kind_names_[k];
      e.date = date_;
      e.name = f.name();
      e.rows = f.rows();
      e.bytes = f.bytes();
      e.csv_bytes = f.raw_bytes();
      e.sha256 = f.sha256();
      e.first_local_us = f.first_local_us;
      e.last_local_us = f.last_local_us;
      r_.files.push_back(std::move(e));
      files_[k].reset();
    }
  }

  // Opens the day's files when the first row of a day is due; a new file starts with the
  // books as they are, so each file stands alone.
  void ensure_day(UnixNanos t, UnixNanos snapshot_at) {
    const UnixNanos day = day_start(t);
    if (started_ && day == day_) return;
    if (started_) close_files();
    open_files(day);
    const bool first = !started_;
    started_ = true;
    if (!enabled(ExportKind::kIncrementalBookL2)) return;
    const std::int64_t local = micros(first ? snapshot_at : day);
    for (std::size_t i = 0; i < books_->size(); ++i) {
      const auto t2 = static_cast<TokenIndex>(i);
      TokenState& s = state(t2);
      const TokenBook& tb = books_->book(t2);
      if (!s.selected || (tb.book.bids().empty() && tb.book.asks().empty())) continue;
      emit_book(t2, s, tb.last_event_ms > 0 ? tb.last_event_ms * 1'000 : local, local);
    }
  }

  static std::string header_for(ExportKind k, int depth) {
    std::string h = "exchange,symbol,timestamp,local_timestamp,";
    switch (k) {
      case ExportKind::kIncrementalBookL2: h += "is_snapshot,side,price,amount"; break;
      case ExportKind::kTrades: h += "id,side,price,amount"; break;
      case ExportKind::kQuotes: h += "ask_amount,ask_price,bid_price,bid_amount"; break;
      case ExportKind::kBookSnapshot:
        for (int i = 0; i < depth; ++i) {
          const std::string n = std::to_string(i);
          h += (i ? "," : "") + ("asks[" + n + "].price,asks[" + n + "].amount,bids[" + n +
                                 "].price,bids[" + n + "].amount");
        }
        h += ",local_timestamp_ns,book_state,market_slug,outcome\n";
        return h;
    }
    h += ",local_timestamp_ns,market_slug,outcome\n";
    return h;
  }
  [[nodiscard]] std::string header(ExportKind k) const { return header_for(k, o_.depth); }

  void prefix(ByteBuffer& b, TokenIndex t, std::int64_t ts) {
    render_now();
    b.append(states_[t].head);
    csv_i64(b, ts);
    csv_comma(b);
    b.append(local_us_text_);
    csv_comma(b);
  }

  void suffix(ByteBuffer& b, const TokenState& s) {
    csv_comma(b);
    b.append(ns_text_);
    b.append(s.tail);
  }

  void end_row(GzipCsvFile& f) {
    if (f.rows() == 0) f.first_local_us = micros(now_);
    f.last_local_us = micros(now_);
    f.end_row();
  }

  void level_row(TokenIndex t, TokenState& s, std::int64_t ts, bool snapshot, Side side,
                 Price price, Size size) {
    if (!enabled(ExportKind::kIncrementalBookL2)) return;
    GzipCsvFile& f = *files_[static_cast<std::size_t>(ExportKind::kIncrementalBookL2)];
    ByteBuffer& b = f.row();
    prefix(b, t, ts);
    b.append(snapshot ? "true," : "false,");
    b.append(side == Side::kBid ? "bid," : "ask,");
    csv_price(b, price);
    csv_comma(b);
    csv_size(b, size);
    suffix(b, s);
    end_row(f);
    s.last_row_snapshot = snapshot;
  }

  // The whole book as is_snapshot rows, with `local` as their receive time.
  void emit_book(TokenIndex t, TokenState& s, std::int64_t ts, std::int64_t local) {
    const UnixNanos saved = now_;
    if (local != micros(saved)) now_ = local * 1'000;  // a file's opening snapshot
    const L2Book& b = books_->book(t).book;
    for (std::size_t i = 0; i < b.bids().depth(); ++i)
      level_row(t, s, ts, true, Side::kBid, b.bids().level(i).price, b.bids().level(i).size);
    for (std::size_t i = 0; i < b.asks().depth(); ++i)
      level_row(t, s, ts, true, Side::kAsk, b.asks().level(i).price, b.asks().level(i).size);
    now_ = saved;
  }

  void emit_one_removal(TokenIndex t, TokenState& s, std::int64_t ts) {
    if (!old_bids_.empty()) {
      level_row(t, s, ts, false, Side::kBid, old_bids_.front().price, 0);
    } else if (!old_asks_.empty()) {
      level_row(t, s, ts, false, Side::kAsk, old_asks_.front().price, 0);
    }
  }

  // The old book (save_old) turned into the current one, as update rows.
  void emit_diff(TokenIndex t, TokenState& s, std::int64_t ts) {
    const L2Book& b = books_->book(t).book;
    for (const Side side : {Side::kBid, Side::kAsk}) {
      const std::vector<Level>& old = side == Side::kBid ? old_bids_ : old_asks_;
      const BookSide& now = b.side(side);
      for (const Level& l : old)
        if (now.size_at(l.price) == 0) level_row(t, s, ts, false, side, l.price, 0);
      for (std::size_t i = 0; i < now.depth(); ++i) {
        const Level& l = now.level(i);
        const auto it = std::find_if(old.begin(), old.end(),
                                     [&l](const Level& o) { return o.price == l.price; });
        if (it == old.end() || it->size != l.size) level_row(t, s, ts, false, side, l.price, l.size);
      }
    }
  }

  // After each frame: quotes whose top changed, and book_snapshot rows (every change, or marks
  // for the next sample).
  void end_frame() {
    for (const TokenIndex t : touched_) {
      TokenState& s = states_[t];
      s.touched = false;
      if (!emitting_) continue;
      if (enabled(ExportKind::kQuotes)) emit_quote(t, s);
      if (enabled(ExportKind::kBookSnapshot)) {
        if (o_.interval_ns == 0) {
          emit_levels(t, s);
        } else {
          s.dirty = true;
          if (!dirty_listed_[t]) {
            dirty_.push_back(t);
            dirty_listed_[t] = true;
          }
        }
      }
    }
    touched_.clear();
  }

  void emit_quote(TokenIndex t, TokenState& s) {
    const L2Book& b = books_->book(t).book;
    Quote q;
    if (!b.bids().empty()) {
      q.bid = b.bids().best().price;
      q.bid_size = b.bids().best().size;
    }
    if (!b.asks().empty()) {
      q.ask = b.asks().best().price;
      q.ask_size = b.asks().best().size;
    }
    if (s.quoted && q == s.quote) return;
    s.quoted = true;
    s.quote = q;
    GzipCsvFile& f = *files_[static_cast<std::size_t>(ExportKind::kQuotes)];
    ByteBuffer& r = f.row();
    prefix(r, t, venue_us(books_->book(t).last_event_ms));
    if (q.ask != kNoPrice) {
      csv_size(r, q.ask_size);
      csv_comma(r);
      csv_price(r, q.ask);
    } else {
      csv_comma(r);
    }
    csv_comma(r);
    if (q.bid != kNoPrice) {
      csv_price(r, q.bid);
      csv_comma(r);
      csv_size(r, q.bid_size);
    } else {
      csv_comma(r);
    }
    suffix(r, s);
    end_row(f);
  }

  // One book_snapshot row if the top `depth` levels differ from the token's last row.
  void emit_levels(TokenIndex t, TokenState& s) {
    const TokenBook& tb = books_->book(t);
    const L2Book& b = tb.book;
    levels_.clear();
    for (std::size_t i = 0; i < static_cast<std::size_t>(o_.depth); ++i) {
      if (i) csv_comma(levels_);
      if (i < b.asks().depth()) {
        csv_price(levels_, b.asks().level(i).price);
        csv_comma(levels_);
        csv_size(levels_, b.asks().level(i).size);
      } else {
        csv_comma(levels_);
      }
      csv_comma(levels_);
      if (i < b.bids().depth()) {
        csv_price(levels_, b.bids().level(i).price);
        csv_comma(levels_);
        csv_size(levels_, b.bids().level(i).size);
      } else {
        csv_comma(levels_);
      }
    }
    const std::string_view text = levels_.view();
    if (text == s.levels) return;
    s.levels.assign(text);
    GzipCsvFile& f = *files_[static_cast<std::size_t>(ExportKind::kBookSnapshot)];
    ByteBuffer& r = f.row();
    prefix(r, t, venue_us(tb.last_event_ms));
    r.append(text);
    csv_comma(r);
    r.append(ns_text_);
    csv_comma(r);
    csv_text(r, to_string(tb.state));
    r.append(s.tail);
    end_row(f);
  }

  // Sampled book_snapshot rows at `boundary`: the books as every frame received at or before it
  // left them.
  void emit_sampled(UnixNanos boundary) {
    if (dirty_.empty()) return;
    const UnixNanos saved = now_;
    now_ = boundary;
    ensure_day(boundary, boundary);
    for (const TokenIndex t : dirty_) {
      dirty_listed_[t] = false;
      if (!states_[t].dirty) continue;
      states_[t].dirty = false;
      emit_levels(t, states_[t]);
    }
    dirty_.clear();
    now_ = saved;
  }

  const ExportOptions& o_;
  ExportResult r_;
  const BookKeeper* books_ = nullptr;
  pm::BookApplier* inner_ = nullptr;
  std::array<bool, kKinds> enabled_{};
  CsvCompressor compressor_;  // before the files: they hand it blocks until they are destroyed
  std::array<std::unique_ptr<GzipCsvFile>, kKinds> files_;
  std::array<std::string, kKinds> kind_names_;
  std::unordered_set<std::string> assets_;
  std::unordered_map<std::string, std::pair<std::string, std::string>> meta_;  // slug, outcome
  std::vector<TokenState> states_;
  std::vector<TokenIndex> touched_;
  std::vector<TokenIndex> dirty_;
  struct DirtyListed {
    std::vector<bool> v;
    std::vector<bool>::reference operator[](TokenIndex t) {
      if (t >= v.size()) v.resize(static_cast<std::size_t>(t) + 1, false);
      return v[t];
    }
  } dirty_listed_;
  std::vector<Level> old_bids_, old_asks_;
  ByteBuffer levels_;
  ByteBuffer scratch_;
  simdjson::dom::parser parser_;
  std::string local_us_text_, ns_text_;
  UnixNanos rendered_ns_ = 0;
  bool now_rendered_ = false;
  UnixNanos now_ = 0;
  UnixNanos day_ = 0;
  std::string date_;
  UnixNanos next_boundary_ = 0;
  bool started_ = false;
  bool emitting_ = false;
};

std::string manifest_json(const ExportOptions& o, const ExportResult& r) {
  std::string s = "{\"format\":\"booktape.export\",\"format_version\":1,\"writer\":\"booktape " BOOKTAPE_VERSION "\"";
  s += ",\"created_at_utc\":\"" + format_utc(realtime_now()) + "\"";
  s += ",\"layout\":\"tardis.dev CSV (docs/ORDERBOOK_SCHEMA.md)\",\"exchange\":\"polymarket\"";
  std::vector<std::string> inputs;
  for (const fs::path& p : o.inputs) inputs.push_back(p.string());
  json_str_array(s, "inputs", inputs);
  s += ",\"kinds\":[";
  for (std::size_t i = 0; i < o.kinds.size(); ++i) {
    s += std::string(i ? "," : "") + "\"" + to_string(o.kinds[i]) + "\"";
  }
  s += "]";
  json_u64(s, "depth", static_cast<std::uint64_t>(o.depth));
  s += ",\"interval_ns\":" + std::to_string(o.interval_ns);
  s += ",\"from_utc\":" + (o.from ? "\"" + format_utc(*o.from) + "\"" : std::string("null"));
  s += ",\"to_utc\":" + (o.to ? "\"" + format_utc(*o.to) + "\"" : std::string("null"));
  json_str_array(s, "assets", o.assets);
  json_u64(s, "frames_replayed", r.frames);
  json_u64(s, "frames_in_range", r.frames_in_range);
  json_u64(s, "damaged_input_files", r.damaged_files);
  json_u64(s, "sequence_gaps", r.sequence_gaps);
  json_str(s, "note", r.note);
  s += ",\"files\":[";
  for (std::size_t i = 0; i < r.files.size(); ++i) {
    const ExportedFile& f = r.files[i];
    if (i) s += ',';
    s += "{";
    json_str(s, "name", f.name, true);
    s += ",\"kind\":\"" + f.kind + "\",\"date\":\"" + f.date + "\"";
    json_u64(s, "rows", f.rows);
    json_u64(s, "bytes", f.bytes);
    json_u64(s, "csv_bytes", f.csv_bytes);
    s += ",\"sha256\":\"" + f.sha256 + "\"";
    s += ",\"first_local_timestamp\":" + std::to_string(f.first_local_us);
    s += ",\"last_local_timestamp\":" + std::to_string(f.last_local_us) + "}";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "],\"elapsed_seconds\":%.3f}\n", r.elapsed_seconds);
  s += buf;
  return s;
}

}  // namespace

ExportResult run_export(const ExportOptions& o) {
  const MonoNanos t0 = monotonic_now();
  make_private_dirs(o.out);
  Exporter ex(o);
  ReplayOptions ro;
  ro.stop_after = o.to;
  ro.progress = o.progress;
  ro.before_frame = [&ex](const ArchiveFrame& f) { ex.before_frame(f); };
  ro.on_record = [&ex](std::string_view line) { ex.on_record(line); };
  ro.events = &ex;
  auto replay = std::make_unique<Replayer>(ro);
  ex.attach(*replay);
  const ReplaySummary& s = replay->run(o.inputs);
  ex.finish();
  ExportResult r = std::move(ex.result());
  r.frames = s.frames;
  r.input_errors = s.errors;
  for (const FileReport& f : s.files) r.damaged_files += f.damaged();
  r.sequence_gaps = s.global.gaps + s.per_session.gaps;
  r.elapsed_seconds = static_cast<double>(monotonic_now() - t0) / 1e9;
  r.manifest_json = manifest_json(o, r);
  write_file_atomically(o.out, std::string(kExportManifestName), r.manifest_json);
  return r;
}

}  // namespace booktape
