#pragma once
// What the operator listener shows about the recorder beyond its counters: one row per
// subscribed token (market, outcome, state, top of book, age, updates/s), one per connection,
// books by state, the frames/s history and the archive's disk. The control thread builds it once
// a second from the snapshots the stages publish (BookStage::health, NetworkStage::connections:
// copies, never the stages' own state) and the subscription plan; the listener's thread reads
// the latest build. Neither waits on a stage; the mutex here is held only to swap a pointer,
// between two cold threads.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/book_keeper.hpp"
#include "core/clock.hpp"
#include "io/record/book_stage.hpp"
#include "io/record/network_stage.hpp"
#include "io/record/subscription_plan.hpp"

namespace booktape {

struct TokenRow {
  std::string asset_id, market, outcome;  // market: the slug ("" for a token given by id)
  std::uint32_t connection = 0;           // the shard that carries it
  bool has_book = false;                  // the book stage has seen the token
  TokenHealth book;                       // valid when has_book
  double updates_per_second = 0;          // over the last refresh interval
};

struct DiskUsage {
  std::string path;                 // the archive root
  std::uint64_t archive_bytes = 0;  // files under it (walked at most once a minute)
  std::uint64_t free_bytes = 0;     // available to this process (statvfs f_bavail)
  std::uint64_t total_bytes = 0;
};

struct OperatorSnapshot {
  MonoNanos taken_mono = 0;
  UnixNanos taken_at = 0;
  // When the book stage copied the books: a token's age is measured to it, since the book
  // may have moved since then (0: no copy yet).
  MonoNanos books_taken_mono = 0;
  std::vector<TokenRow> tokens;  // every subscribed token, by market then outcome
  std::vector<ConnectionHealth> connections;
  MonoNanos connections_taken_mono = 0;  // when the network thread copied them (ages are to it)
  // Subscribed tokens by book state name (BookState's names, one place: to_string), every
  // state present even at 0; "awaiting_snapshot" also counts tokens with no book yet.
  std::map<std::string, std::uint32_t> books_by_state;
  std::string status_line;             // the recorder's status line at the refresh
  double frames_per_second = 0;        // over the last refresh interval
  std::vector<double> frames_history;  // per second, oldest first, at most kHistory
  DiskUsage disk;
  static constexpr std::size_t kHistory = 120;
};

// The state names a book can have, in BookState order (awaiting_snapshot, live, stale, ...),
// plus "unconfirmed" until the keeper has such a state: the operator surfaces list them all.
std::vector<std::string> book_state_names();

class OperatorView {
 public:
  explicit OperatorView(std::filesystem::path archive_root);

  // Control thread: the tokens to show, when the plan changes.
  void set_plan(const SubscriptionPlan& plan);
  // Control thread, about once a second: takes the stages' latest snapshots and publishes a
  // new OperatorSnapshot. `frames` is the network's frame count now; `status_line` makes the
  // status line's text for a frame rate.
  void refresh(BookStage& book, NetworkStage& net, std::uint64_t frames, MonoNanos now,
               const std::function<std::string(double)>& status_line);

  // Any thread: the latest build (never null: an empty one before the first refresh).
  [[nodiscard]] std::shared_ptr<const OperatorSnapshot> latest() const;

 private:
  struct PlanToken {
    TokenInfo info;
    std::uint32_t shard = 0;
    TokenIndex book = kNoToken;  // resolved once the book stage has the token
  };

  std::filesystem::path root_;
  std::vector<PlanToken> plan_;  // sorted by market, then outcome order within the market
  std::unordered_map<std::string, TokenIndex> book_index_;  // asset id -> index in BookHealth
  std::vector<std::uint64_t> prev_updates_;                 // by book index, at prev_mono_
  std::vector<double> last_rates_;                          // by book index
  MonoNanos prev_mono_ = 0;                                 // the last book sweep's time
  std::uint64_t prev_frames_ = 0;
  MonoNanos prev_frames_mono_ = 0;
  std::vector<double> history_;
  DiskUsage disk_;
  MonoNanos next_walk_ = 0;

  mutable std::mutex mu_;
  std::shared_ptr<const OperatorSnapshot> latest_;
};

}  // namespace booktape
