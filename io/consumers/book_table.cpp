#include "io/consumers/book_table.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "core/clock.hpp"

namespace booktape {

namespace {

// A table whose writer is gone: closed cleanly, or its process no longer exists.
bool abandoned(const std::string& name) {
  try {
    const shm::Reader r(name);
    if (r.closed()) return true;
    const auto pid = static_cast<pid_t>(r.header().writer_pid);
    return pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH);
  } catch (const std::exception&) {
    return true;  // not a table we can read: ours to replace
  }
}

void copy_text(char* dst, std::size_t cap, std::string_view s) noexcept {
  const std::size_t n = std::min(s.size(), cap - 1);
  std::memset(dst, 0, cap);
  std::memcpy(dst, s.data(), n);
}

}  // namespace

std::uint8_t BookTable::state_code(BookState s) noexcept {
  // By name, so a state the book stage adds later (e.g. "unconfirmed") keeps the number this
  // layout gives that name, and an unknown one reads as "other" rather than as something else.
  static const std::array<std::uint8_t, 16> kCodes = [] {
    std::array<std::uint8_t, 16> codes{};
    for (std::size_t i = 0; i < codes.size(); ++i) {
      const std::string_view name = to_string(static_cast<BookState>(i));
      codes[i] = static_cast<std::uint8_t>(shm::State::kOther);
      for (const std::uint8_t c :
           {std::uint8_t{0}, std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{3}})
        if (name == shm::state_name(c)) codes[i] = c;
    }
    return codes;
  }();
  const auto i = static_cast<std::size_t>(s);
  return i < kCodes.size() ? kCodes[i] : static_cast<std::uint8_t>(shm::State::kOther);
}

BookTable::BookTable(const BookTableOptions& o)
    : name_(o.shm_name),
      slots_(o.slots),
      depth_(o.depth),
      slot_bytes_(static_cast<std::uint32_t>(shm::slot_bytes_for(o.depth))) {
  if (depth_ < 1 || depth_ > kMaxDepth)
    throw std::runtime_error("book table depth must be 1.." + std::to_string(kMaxDepth));
  if (slots_ < 1 || slots_ > kMaxSlots)
    throw std::runtime_error("book table slots must be 1.." + std::to_string(kMaxSlots));
  size_ = shm::kHeaderBytes + std::size_t{slots_} * slot_bytes_;
  void* p = MAP_FAILED;
  if (name_.empty()) {
    p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      throw std::runtime_error(std::string("cannot map the book table: ") + std::strerror(errno));
  } else {
    const std::string path = "/" + name_;
    if (!abandoned(name_)) {
      throw std::runtime_error("the book table /dev/shm/" + name_ +
                               " belongs to a recorder that is still running; choose another "
                               "--shm name");
    }
    (void)::shm_unlink(path.c_str());  // readers of the old one keep their mapping
    // 0644: books are public market data, and a strategy may run as another user.
    const int fd = ::shm_open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw std::runtime_error("cannot create the book table /dev/shm/" + name_ + ": " +
                               std::strerror(errno));
    }
    // tmpfs allocates pages as they are first written: untouched slots cost nothing.
    if (::ftruncate(fd, static_cast<off_t>(size_)) != 0) {
      const int e = errno;
      ::close(fd);
      (void)::shm_unlink(path.c_str());
      throw std::runtime_error("cannot size the book table /dev/shm/" + name_ + ": " +
                               std::strerror(e));
    }
    p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const int e = errno;
    ::close(fd);
    if (p == MAP_FAILED) {
      (void)::shm_unlink(path.c_str());
      throw std::runtime_error("cannot map the book table /dev/shm/" + name_ + ": " +
                               std::strerror(e));
    }
  }
  base_ = static_cast<std::byte*>(p);
  shm::Header h{};
  std::memcpy(h.magic, shm::kMagic, sizeof h.magic);
  h.layout_version = shm::kLayoutVersion;
  h.header_bytes = shm::kHeaderBytes;
  h.slot_bytes = slot_bytes_;
  h.slot_count = slots_;
  h.depth = depth_;
  h.price_decimals = kPriceDecimals;
  h.size_decimals = kSizeDecimals;
  h.writer_pid = ::getpid();
  h.writer_start_ns = realtime_now();
  h.heartbeat_ns = h.writer_start_ns;
  shm::store_words(base_, &h, sizeof h);
  std::atomic_thread_fence(std::memory_order_release);
  view_.emplace(base_, size_);
}

BookTable::~BookTable() {
  if (base_ == nullptr) return;
  std::atomic_thread_fence(std::memory_order_release);
  shm::store_word(base_ + offsetof(shm::Header, closed), 1);
  ::munmap(base_, size_);
}

std::byte* BookTable::slot(std::uint32_t i) const noexcept {
  return base_ + shm::kHeaderBytes + std::size_t{i} * slot_bytes_;
}

void BookTable::begin_write(std::byte* s) noexcept {
  const std::uint64_t seq = shm::load_word(s);  // this thread is the only writer
  shm::store_word(s, seq + 1);
  // The odd seq must be visible before any field changes (a release fence orders the stores
  // before it ahead of the stores after it).
  std::atomic_thread_fence(std::memory_order_release);
  const std::uint64_t updates = shm::load_word(s + offsetof(shm::SlotHead, update_seq)) + 1;
  shm::store_word(s + offsetof(shm::SlotHead, update_seq), updates);
}

void BookTable::end_write(std::byte* s) noexcept {
  const std::uint64_t seq = shm::load_word(s);
  std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(s))
      .store(seq + 1, std::memory_order_release);
}

void BookTable::assign(std::uint32_t i, std::string_view asset_id,
                       std::string_view market) noexcept {
  std::byte* s = slot(i);
  shm::SlotHead h{};
  copy_text(h.asset_id, sizeof h.asset_id, asset_id);
  copy_text(h.market, sizeof h.market, market);
  h.best_bid = h.best_ask = h.last_trade_price = shm::kNoPrice;
  h.last_trade_side = shm::kNoSide;
  // A fresh slot: nobody reads it before slots_used covers it, so no seqlock is needed; the
  // release store of slots_used publishes it.
  shm::store_words(s + 8, reinterpret_cast<const std::byte*>(&h) + 8, sizeof h - 8);
  std::atomic_ref<std::uint64_t>(
      *reinterpret_cast<std::uint64_t*>(base_ + offsetof(shm::Header, slots_used)))
      .store(std::uint64_t{i} + 1, std::memory_order_release);
}

void BookTable::set_market(std::uint32_t i, std::string_view market) noexcept {
  std::byte* s = slot(i);
  char m[sizeof(shm::SlotHead::market)];
  copy_text(m, sizeof m, market);
  const std::uint64_t seq = shm::load_word(s);
  shm::store_word(s, seq + 1);
  std::atomic_thread_fence(std::memory_order_release);
  shm::store_words(s + offsetof(shm::SlotHead, market), m, sizeof m);
  std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(s))
      .store(seq + 2, std::memory_order_release);
}

void BookTable::store_level(std::byte* dst, const Level& l) noexcept {
  shm::store_word(dst, shm::pack_level(l.price, l.size));
}

void BookTable::store_side(std::byte* dst, const BookSide& side, std::uint32_t n) noexcept {
  if (n == 0) return;
  // A side keeps its best level last: walk back from it with a plain pointer (the per-update
  // cost is this loop: one load pair, a pack and a store per level).
  const Level* l = &side.level(0);
  for (std::uint32_t k = 0; k < n; ++k, --l, dst += shm::kLevelBytes) store_level(dst, *l);
}

namespace {

std::uint16_t depth16(std::size_t d) noexcept {
  return static_cast<std::uint16_t>(std::min<std::size_t>(d, 0xffff));
}

// The trade and tick part of a slot head, shared by live and REST books.
void fill_trade(shm::SlotHead& h, const TokenBook& tb, const TradeMark& trade) noexcept {
  const bool any = tb.last_trade_price != kNoPrice;
  h.last_trade_price = any ? tb.last_trade_price : shm::kNoPrice;
  h.last_trade_side = any ? trade.side : shm::kNoSide;
  h.last_trade_size = any ? tb.last_trade_size : 0;
  h.last_trade_ms = any ? trade.venue_ms : 0;
  h.tick = tb.tick;
  h.reserved = 0;
}

}  // namespace

void BookTable::write_book(std::uint32_t i, const TokenBook& tb, std::int64_t received_ns,
                           const TradeMark& trade) noexcept {
  const L2Book& b = tb.book;
  shm::SlotHead h;
  h.received_ns = received_ns;
  h.venue_ms = tb.last_event_ms;
  h.rest_fetched_ns = 0;
  h.best_bid = b.bids().empty() ? shm::kNoPrice : b.bids().best().price;
  h.best_ask = b.asks().empty() ? shm::kNoPrice : b.asks().best().price;
  h.best_bid_size = b.bids().empty() ? 0 : b.bids().best().size;
  h.best_ask_size = b.asks().empty() ? 0 : b.asks().best().size;
  fill_trade(h, tb, trade);
  h.state = state_code(tb.state);
  h.stale_reason = static_cast<std::uint8_t>(tb.stale_reason);
  h.flags = static_cast<std::uint8_t>((tb.crossed ? shm::kFlagCrossed : 0) |
                                      (tb.in_sync ? shm::kFlagInSync : 0));
  const auto nb = static_cast<std::uint32_t>(std::min<std::size_t>(b.bids().depth(), depth_));
  const auto na = static_cast<std::uint32_t>(std::min<std::size_t>(b.asks().depth(), depth_));
  h.bid_count = static_cast<std::uint16_t>(nb);
  h.ask_count = static_cast<std::uint16_t>(na);
  h.bid_depth = depth16(b.bids().depth());
  h.ask_depth = depth16(b.asks().depth());

  std::byte* s = slot(i);
  begin_write(s);
  shm::store_words(s + shm::kStateOffset,
                   reinterpret_cast<const std::byte*>(&h) + shm::kStateOffset,
                   sizeof h - shm::kStateOffset);
  store_side(s + sizeof(shm::SlotHead), b.bids(), nb);
  store_side(s + sizeof(shm::SlotHead) + std::size_t{depth_} * shm::kLevelBytes, b.asks(), na);
  end_write(s);
}

void BookTable::write_rest(std::uint32_t i, const TokenBook& tb, std::span<const Level> bids,
                           std::span<const Level> asks, std::int64_t venue_ms,
                           std::int64_t fetched_ns, const TradeMark& trade) noexcept {
  // Best first, as in every slot, and without zero sizes (the REST lists come in the venue's
  // order: bids ascending, asks descending, best last, which we do not rely on).
  const auto best_first = [this](std::span<const Level> in, bool bid) {
    scratch_.clear();
    for (const Level& l : in)
      if (l.size > 0) scratch_.push_back(l);
    std::sort(scratch_.begin(), scratch_.end(), [bid](const Level& a, const Level& b) {
      return bid ? a.price > b.price : a.price < b.price;
    });
  };
  shm::SlotHead h;
  h.received_ns = fetched_ns;
  h.venue_ms = venue_ms;
  h.rest_fetched_ns = fetched_ns;
  fill_trade(h, tb, trade);
  h.state = static_cast<std::uint8_t>(shm::State::kRest);
  h.stale_reason = static_cast<std::uint8_t>(tb.stale_reason);
  h.flags = 0;

  std::byte* s = slot(i);
  begin_write(s);
  for (const bool bid : {true, false}) {
    best_first(bid ? bids : asks, bid);
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(scratch_.size(), depth_));
    std::byte* out = s + sizeof(shm::SlotHead) + (bid ? 0 : std::size_t{depth_} * shm::kLevelBytes);
    for (std::uint32_t k = 0; k < n; ++k, out += shm::kLevelBytes) store_level(out, scratch_[k]);
    (bid ? h.best_bid : h.best_ask) = scratch_.empty() ? shm::kNoPrice : scratch_.front().price;
    (bid ? h.best_bid_size : h.best_ask_size) = scratch_.empty() ? 0 : scratch_.front().size;
    (bid ? h.bid_count : h.ask_count) = static_cast<std::uint16_t>(n);
    (bid ? h.bid_depth : h.ask_depth) = depth16(scratch_.size());
  }
  if (h.best_bid != shm::kNoPrice && h.best_ask != shm::kNoPrice && h.best_bid >= h.best_ask)
    h.flags = shm::kFlagCrossed;
  shm::store_words(s + shm::kStateOffset,
                   reinterpret_cast<const std::byte*>(&h) + shm::kStateOffset,
                   sizeof h - shm::kStateOffset);
  end_write(s);
}

void BookTable::heartbeat(std::int64_t now_ns) noexcept {
  shm::store_word(base_ + offsetof(shm::Header, heartbeat_ns), static_cast<std::uint64_t>(now_ns));
}

}  // namespace booktape
