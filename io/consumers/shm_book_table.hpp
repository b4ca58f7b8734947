#pragma once
// The shared-memory book table (`booktape record --shm NAME`): its layout, and a reader.
//
// Self-contained on purpose: this header uses only the C++20 standard library and POSIX, no
// other booktape header, so another program can copy it and read the live books
// (docs/CONSUMERS.md, "Shared-memory book table"; a Python reader is there too).
//
// The file /dev/shm/NAME (Aeron's CnC file is the model):
//   [0, header_bytes)             the Header below (4096 bytes: the first page)
//   then slot_count slots of slot_bytes each, one per token, in the order tokens were first seen
// A slot never moves nor changes token while its writer runs, so a reader may look a token up
// once (find()) and keep its slot number.
//
// Every slot is guarded by a seqlock: `seq` is odd while the writer is inside the slot. A
// reader reads seq, then the fields, then seq again, and keeps the copy only if both reads gave
// the same even value; otherwise it reads again. Reads are plain loads from the mapping, no
// syscall. Every access to shared words goes through 8-byte atomic loads and stores (relaxed,
// ordered by fences), so the scheme is free of data races in the C++ memory model.
//
// All integers are little-endian at the offsets the static_asserts below pin. Prices are in
// 1e-4 USDC (10^price_decimals per 1.0), sizes in 1e-6 shares (10^size_decimals per share).
// A reader must refuse a magic or a layout version it does not know.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace booktape::shm {

inline constexpr char kMagic[8] = {'B', 'T', 'B', 'O', 'O', 'K', 'S', '1'};
inline constexpr std::uint32_t kLayoutVersion = 1;
inline constexpr std::uint32_t kHeaderBytes = 4096;

// The first page of the file. Constant after creation except the three atomics at the end.
struct Header {
  char magic[8];                 // "BTBOOKS1"
  std::uint32_t layout_version;  // kLayoutVersion
  std::uint32_t header_bytes;    // where slot 0 starts
  std::uint32_t slot_bytes;      // the size of one slot (a multiple of 64)
  std::uint32_t slot_count;      // slots in the file
  std::uint32_t depth;           // levels kept per side in every slot
  std::uint32_t price_decimals;  // 4: a price of 4800 is 0.48
  std::uint32_t size_decimals;   // 6: a size of 1500000 is 1.5 shares
  std::uint32_t reserved0;
  std::int64_t writer_pid;       // the recorder's process id
  std::int64_t writer_start_ns;  // when it created the table, UTC ns since the epoch
  std::uint64_t slots_used;      // atomic: slots [0, slots_used) belong to tokens
  std::int64_t heartbeat_ns;     // atomic: UTC ns of the writer's last sign of life (~4/s)
  std::uint64_t closed;          // atomic: 1 once the writer has exited cleanly
};
static_assert(offsetof(Header, layout_version) == 8 && offsetof(Header, slot_bytes) == 16 &&
              offsetof(Header, depth) == 24 && offsetof(Header, writer_pid) == 40 &&
              offsetof(Header, slots_used) == 56 && offsetof(Header, heartbeat_ns) == 64 &&
              offsetof(Header, closed) == 72 && sizeof(Header) == 80);

// Book states, by number. 0-15 are the live book's states as the book stage names them; 16 is
// the consumer side's own: the websocket is down and this is the latest REST checkpoint book.
enum class State : std::uint8_t {
  kAwaitingSnapshot = 0,  // no book yet (or dropped after a bad snapshot)
  kLive = 1,
  kStale = 2,        // continuity lost (reconnect, bad update, tick size change)
  kUnconfirmed = 3,  // reserved for the book stage's "unconfirmed" (after a tick change)
  kOther = 15,       // a state this layout version has no number for
  kRest = 16,        // a REST checkpoint book while the websocket is down
};
inline const char* state_name(std::uint8_t s) noexcept {
  switch (s) {
    case 0:
      return "awaiting_snapshot";
    case 1:
      return "live";
    case 2:
      return "stale";
    case 3:
      return "unconfirmed";
    case 16:
      return "rest";
    default:
      return "other";
  }
}

inline constexpr std::uint8_t kFlagCrossed = 1;  // best bid >= best ask
inline constexpr std::uint8_t kFlagInSync = 2;   // the last check against the venue's top agreed
inline constexpr std::int32_t kNoPrice = -1;     // no level on that side / no trade yet
inline constexpr std::uint8_t kNoSide = 255;

// A level in a slot is one 64-bit word: the price in the top 16 bits, the size in the low 48
// (a price is at most 10000, a size at most 10^14: one store per level for the writer).
inline constexpr std::size_t kLevelBytes = 8;
inline constexpr int kLevelPriceShift = 48;
inline constexpr std::uint64_t kLevelSizeMask = (std::uint64_t{1} << kLevelPriceShift) - 1;
inline constexpr std::uint64_t pack_level(std::int32_t price, std::int64_t size) noexcept {
  return (static_cast<std::uint64_t>(price) << kLevelPriceShift) |
         (static_cast<std::uint64_t>(size) & kLevelSizeMask);
}

// A level as a reader gets it.
struct Level {
  std::int64_t size;   // 1e-6 shares
  std::int32_t price;  // 1e-4 USDC
};

// The fixed part of a slot; the levels follow it: bids[depth], then asks[depth], best first, one
// packed word each (pack_level), of which the first bid_count / ask_count are meaningful.
struct SlotHead {
  std::uint64_t seq;             // the seqlock: odd while being written
  std::uint64_t update_seq;      // updates published for this token (1 = the first)
  char asset_id[80];             // the token id, NUL-padded
  char market[72];               // the market (condition id), NUL-padded; may be empty
  std::int64_t received_ns;      // receive time of the frame of the last update, UTC ns
  std::int64_t venue_ms;         // the venue's timestamp of that update (state rest: the REST
                                 // book's), ms since the epoch; 0 if none
  std::int64_t rest_fetched_ns;  // state rest: when the REST book was fetched, UTC ns; else 0
  std::int32_t best_bid;         // kNoPrice when the side is empty
  std::int32_t best_ask;
  std::int64_t best_bid_size;
  std::int64_t best_ask_size;
  std::int32_t last_trade_price;  // kNoPrice before the first trade
  std::uint8_t last_trade_side;   // 0 BUY, 1 SELL (the taker's side), kNoSide
  std::uint8_t state;             // State
  std::uint8_t stale_reason;      // 0 none, 1 tick size change, 2 bad update, 3 bad snapshot,
                                  // 4 connection lost
  std::uint8_t flags;             // kFlagCrossed | kFlagInSync
  std::int64_t last_trade_size;
  std::int64_t last_trade_ms;  // the venue's timestamp of the last trade
  std::uint16_t bid_count;     // levels written below (<= depth)
  std::uint16_t ask_count;
  std::uint16_t bid_depth;  // levels the whole book has on that side
  std::uint16_t ask_depth;
  std::int32_t tick;  // the tick size, 1e-4 USDC; 0 if the venue never said
  std::uint32_t reserved;
};
static_assert(offsetof(SlotHead, update_seq) == 8 && offsetof(SlotHead, asset_id) == 16 &&
              offsetof(SlotHead, market) == 96 && offsetof(SlotHead, received_ns) == 168 &&
              offsetof(SlotHead, best_bid) == 192 && offsetof(SlotHead, best_bid_size) == 200 &&
              offsetof(SlotHead, last_trade_price) == 216 && offsetof(SlotHead, state) == 221 &&
              offsetof(SlotHead, last_trade_size) == 224 && offsetof(SlotHead, bid_count) == 240 &&
              offsetof(SlotHead, tick) == 248 && sizeof(SlotHead) == 256);
// The part of the head every update rewrites (from received_ns on); the identity before it is
// written once, when the slot is given to its token.
inline constexpr std::size_t kStateOffset = offsetof(SlotHead, received_ns);

inline constexpr std::size_t slot_bytes_for(std::uint32_t depth) noexcept {
  return (sizeof(SlotHead) + 2 * depth * kLevelBytes + 63) & ~std::size_t{63};
}

// ---- word access (shared by the writer and the reader) ---------------------------------------

inline std::uint64_t load_word(const std::byte* p) noexcept {
  // The mapping may be read-only: atomic_ref's load does not write.
  return std::atomic_ref<std::uint64_t>(
             *reinterpret_cast<std::uint64_t*>(const_cast<std::byte*>(p)))
      .load(std::memory_order_relaxed);
}
inline void store_word(std::byte* p, std::uint64_t v) noexcept {
  std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(p))
      .store(v, std::memory_order_relaxed);
}
// `bytes` (a multiple of 8) from shared `src` to private `dst`, one atomic word at a time.
inline void load_words(void* dst, const std::byte* src, std::size_t bytes) noexcept {
  auto* d = static_cast<std::byte*>(dst);
  for (std::size_t i = 0; i < bytes; i += 8) {
    const std::uint64_t w = load_word(src + i);
    std::memcpy(d + i, &w, 8);
  }
}
inline void store_words(std::byte* dst, const void* src, std::size_t bytes) noexcept {
  const auto* s = static_cast<const std::byte*>(src);
  for (std::size_t i = 0; i < bytes; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s + i, 8);
    store_word(dst + i, w);
  }
}

// ---- the reader ------------------------------------------------------------------------------

// Top of book of one token: what a strategy polls.
struct Top {
  std::uint64_t update_seq = 0;
  std::int64_t received_ns = 0, venue_ms = 0, rest_fetched_ns = 0;
  std::int32_t best_bid = kNoPrice, best_ask = kNoPrice;
  std::int64_t best_bid_size = 0, best_ask_size = 0;
  std::int32_t last_trade_price = kNoPrice;
  std::uint8_t last_trade_side = kNoSide, state = 0, stale_reason = 0, flags = 0;
  std::int64_t last_trade_size = 0, last_trade_ms = 0;
};

// One token's whole slot.
struct Book {
  SlotHead head{};
  std::vector<Level> bids, asks;  // best first
  [[nodiscard]] std::string asset_id() const {
    return std::string(head.asset_id, strnlen(head.asset_id, sizeof head.asset_id));
  }
  [[nodiscard]] std::string market() const {
    return std::string(head.market, strnlen(head.market, sizeof head.market));
  }
};

enum class ReadResult : std::uint8_t {
  kOk,
  kUnused,  // no token has this slot (yet)
  kBusy,    // the writer stayed inside the slot for every try (it died mid-write?)
};

// Reads a table in memory this process already has (the writer's own mapping, or one that
// Reader below made). Throws std::runtime_error when the bytes are not a table this reader knows.
class TableView {
 public:
  TableView(const void* base, std::size_t size)
      : base_(static_cast<const std::byte*>(base)), size_(size) {
    const std::string why = check();
    if (!why.empty()) throw std::runtime_error(why);
  }

  // The constant fields as read at open (the atomics: the calls below).
  [[nodiscard]] const Header& header() const noexcept { return header_; }
  [[nodiscard]] std::uint32_t slots_used() const noexcept {
    const std::uint64_t n =
        std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(const_cast<std::byte*>(
                                           base_ + offsetof(Header, slots_used))))
            .load(std::memory_order_acquire);
    return n < header_.slot_count ? static_cast<std::uint32_t>(n) : header_.slot_count;
  }
  [[nodiscard]] std::int64_t heartbeat_ns() const noexcept {
    return static_cast<std::int64_t>(load_word(base_ + offsetof(Header, heartbeat_ns)));
  }
  [[nodiscard]] bool closed() const noexcept {
    return load_word(base_ + offsetof(Header, closed)) != 0;
  }

  // The slot of a token id, scanning the used slots (do it once and keep the number).
  [[nodiscard]] std::optional<std::uint32_t> find(std::string_view asset_id) const noexcept {
    if (asset_id.empty() || asset_id.size() >= sizeof(SlotHead::asset_id)) return std::nullopt;
    const std::uint32_t used = slots_used();
    char id[sizeof(SlotHead::asset_id)];
    for (std::uint32_t i = 0; i < used; ++i) {
      load_words(id, slot(i) + offsetof(SlotHead, asset_id), sizeof id);
      if (std::string_view(id, strnlen(id, sizeof id)) == asset_id) return i;
    }
    return std::nullopt;
  }

  // Top of book: 12 words under the seqlock, no syscall.
  [[nodiscard]] ReadResult read_top(std::uint32_t i, Top& out) const noexcept {
    if (i >= slots_used()) return ReadResult::kUnused;
    const std::byte* s = slot(i);
    std::byte state[sizeof(SlotHead) - kStateOffset];
    for (int tries = 0; tries < kTries; ++tries) {
      const std::uint64_t s1 = seq(s, std::memory_order_acquire);
      if ((s1 & 1) != 0) continue;
      const std::uint64_t updates = load_word(s + offsetof(SlotHead, update_seq));
      load_words(state, s + kStateOffset, sizeof state);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq(s, std::memory_order_relaxed) != s1) continue;
      SlotHead h{};
      std::memcpy(reinterpret_cast<std::byte*>(&h) + kStateOffset, state, sizeof state);
      out.update_seq = updates;
      out.received_ns = h.received_ns;
      out.venue_ms = h.venue_ms;
      out.rest_fetched_ns = h.rest_fetched_ns;
      out.best_bid = h.best_bid;
      out.best_ask = h.best_ask;
      out.best_bid_size = h.best_bid_size;
      out.best_ask_size = h.best_ask_size;
      out.last_trade_price = h.last_trade_price;
      out.last_trade_side = h.last_trade_side;
      out.state = h.state;
      out.stale_reason = h.stale_reason;
      out.flags = h.flags;
      out.last_trade_size = h.last_trade_size;
      out.last_trade_ms = h.last_trade_ms;
      return ReadResult::kOk;
    }
    return ReadResult::kBusy;
  }

  // The whole slot: head and levels (the vectors keep their capacity between calls).
  [[nodiscard]] ReadResult read_book(std::uint32_t i, Book& out) const {
    if (i >= slots_used()) return ReadResult::kUnused;
    const std::byte* s = slot(i);
    const std::uint32_t depth = header_.depth;
    out.bids.resize(depth);
    out.asks.resize(depth);
    for (int tries = 0; tries < kTries; ++tries) {
      const std::uint64_t s1 = seq(s, std::memory_order_acquire);
      if ((s1 & 1) != 0) continue;
      load_words(&out.head, s, sizeof(SlotHead));
      const std::size_t nb = out.head.bid_count < depth ? out.head.bid_count : depth;
      const std::size_t na = out.head.ask_count < depth ? out.head.ask_count : depth;
      const std::byte* levels = s + sizeof(SlotHead);
      for (std::size_t k = 0; k < nb; ++k)
        out.bids[k] = unpack(load_word(levels + kLevelBytes * k));
      for (std::size_t k = 0; k < na; ++k)
        out.asks[k] = unpack(load_word(levels + kLevelBytes * (depth + k)));
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq(s, std::memory_order_relaxed) != s1) continue;
      out.head.seq = s1;
      out.bids.resize(nb);
      out.asks.resize(na);
      return ReadResult::kOk;
    }
    return ReadResult::kBusy;
  }

 private:
  static constexpr int kTries = 100'000;  // a writer is inside a slot for well under 1 us

  [[nodiscard]] const std::byte* slot(std::uint32_t i) const noexcept {
    return base_ + header_.header_bytes + std::size_t{i} * header_.slot_bytes;
  }
  static Level unpack(std::uint64_t w) noexcept {
    return Level{static_cast<std::int64_t>(w & kLevelSizeMask),
                 static_cast<std::int32_t>(w >> kLevelPriceShift)};
  }
  static std::uint64_t seq(const std::byte* s, std::memory_order o) noexcept {
    return std::atomic_ref<std::uint64_t>(
               *reinterpret_cast<std::uint64_t*>(const_cast<std::byte*>(s)))
        .load(o);
  }

  std::string check() {
    if (size_ < kHeaderBytes) return "too small for a booktape book table";
    load_words(&header_, base_, sizeof header_);
    if (std::memcmp(header_.magic, kMagic, sizeof kMagic) != 0)
      return "not a booktape book table (bad magic)";
    if (header_.layout_version != kLayoutVersion) {
      return "layout version " + std::to_string(header_.layout_version) + ", this reader knows " +
             std::to_string(kLayoutVersion);
    }
    if (header_.slot_bytes < slot_bytes_for(header_.depth) ||
        header_.header_bytes + std::size_t{header_.slot_bytes} * header_.slot_count > size_) {
      return "its header does not match its size";
    }
    return {};
  }

 protected:
  TableView() = default;
  // For Reader: adopts a mapping, "" or what is wrong with it.
  std::string adopt(const void* base, std::size_t size) {
    base_ = static_cast<const std::byte*>(base);
    size_ = size;
    return check();
  }

  const std::byte* base_ = nullptr;
  std::size_t size_ = 0;
  Header header_{};
};

// Maps /dev/shm/<name> read-only (shm_open) and reads it. Throws std::runtime_error saying what
// is wrong: no such table, not a booktape table, a layout version this reader does not know.
class Reader : public TableView {
 public:
  explicit Reader(const std::string& name) {
    if (name.empty() || name.find('/') != std::string::npos)
      throw std::runtime_error("shm table name '" + name + "': expected a name without '/'");
    const int fd = ::shm_open(("/" + name).c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
      const int e = errno;
      throw std::runtime_error(
          "cannot open the book table /dev/shm/" + name + ": " + std::strerror(e) +
          (e == ENOENT ? " (is `booktape record --shm " + name + "` running?)" : std::string()));
    }
    struct stat st {};
    const bool sized = ::fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(kHeaderBytes);
    void* p =
        sized ? ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0)
              : MAP_FAILED;
    const int e = errno;
    ::close(fd);
    if (!sized)
      throw std::runtime_error("/dev/shm/" + name + " is too small for a booktape book table");
    if (p == MAP_FAILED)
      throw std::runtime_error("cannot map /dev/shm/" + name + ": " + std::strerror(e));
    mapped_ = static_cast<std::size_t>(st.st_size);
    const std::string why = adopt(p, mapped_);
    if (!why.empty()) {
      ::munmap(p, mapped_);
      throw std::runtime_error("/dev/shm/" + name + ": " + why);
    }
  }
  ~Reader() { ::munmap(const_cast<std::byte*>(base_), mapped_); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

 private:
  std::size_t mapped_ = 0;
};

}  // namespace booktape::shm
