// Books across tick size changes on an independent feed: the simulator's generator (its own
// std::map books, not core/l2_book) with no snapshot after a tick change, fed frame by frame
// through the decoder, applier and keeper the book stage and replay run. Its truth is what the
// books must equal at the end (docs/BOOKS.md, "Sync state per token").
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "codecs/book_json.hpp"
#include "codecs/polymarket_book_applier.hpp"
#include "codecs/polymarket_decoder.hpp"
#include "io/sim/polymarket_market_gen.hpp"

namespace booktape {
namespace {

namespace pm = polymarket;

constexpr UnixNanos kStart = 1'790'000'000'000'000'000;  // 2026-09-21

pm::SimOptions tick_heavy(int snapshot_percent) {
  pm::SimOptions o;
  o.seed = 17;
  o.lanes = 4;
  o.min_levels = 5;
  o.max_levels = 30;
  o.jump_per_mille = 40;  // many jumps, so many tick size changes
  o.tick_snapshot_percent = snapshot_percent;
  o.start = kStart;
  o.window_scale_seconds = 1'000'000;  // no market ends during the test
  return o;
}

struct Fed {
  BookKeeper keeper;
  pm::BookApplier applier{keeper};
  pm::Decoder decoder;
  std::uint64_t seq = 0;
  void feed(const pm::SimFrame& f) {
    ++seq;
    keeper.begin_frame(seq, kStart + static_cast<UnixNanos>(seq));
    decoder.decode(f.payload, applier);
  }
};

// What followed each tick size change in the stream, per token.
struct EpochLog {
  std::map<std::uint32_t, bool> after_tick;  // token -> a tick change is its latest event
  std::uint64_t tick_changes = 0;
  std::uint64_t snapshot_next = 0;  // tick changes whose token's next event was a book

  void note(const pm::SimFrame& f) {
    for (std::uint32_t t : f.tokens) {
      if (t == ~0u) continue;
      if (f.type == pm::EventType::kTickSizeChange) {
        ++tick_changes;
        after_tick[t] = true;
      } else if (after_tick[t] && !f.custom_only) {
        snapshot_next += f.type == pm::EventType::kBook;
        after_tick[t] = false;
      }
    }
  }
};

TEST(TickEpochs, WithNoSnapshotAfterTickChangesTheFinalBooksEqualTheStreamsTruth) {
  pm::MarketSim sim(tick_heavy(0));
  Fed fed;
  EpochLog log;
  std::vector<pm::SimFrame> frames;
  sim.advance_to(kStart, frames);
  for (const pm::SimFrame& f : frames) fed.feed(f);
  // Every token's first book, as a subscription's initial dump.
  for (std::uint32_t t : sim.open_tokens()) fed.feed(pm::SimFrame{sim.book_event(t)});
  for (int i = 0; i < 60'000; ++i) {
    frames.clear();
    sim.next(frames);
    for (const pm::SimFrame& f : frames) {
      log.note(f);
      fed.feed(f);
    }
  }
  // The stream is what the test claims: many tick changes, none followed by a snapshot.
  EXPECT_GT(log.tick_changes, 200u);
  EXPECT_EQ(log.snapshot_next, 0u);

  const KeeperTotals& k = fed.keeper.totals();
  EXPECT_EQ(k.tick_size_changes, log.tick_changes);
  EXPECT_GT(k.confirmations, 100u);
  EXPECT_EQ(k.disagreements, 0u);
  EXPECT_EQ(k.divergences, 0u);
  EXPECT_EQ(k.changes_suppressed, 0u);
  const auto truth = books_by_asset(sim.books_json());
  const auto ours = books_by_asset(books_json(fed.keeper));
  ASSERT_EQ(ours.size(), truth.size());
  std::size_t unconfirmed = 0;
  for (const auto& [id, book] : ours) {
    EXPECT_EQ(book, truth.at(id)) << id;
    const TokenBook& tb = fed.keeper.book(fed.keeper.find(id));
    // Live, or unconfirmed when a tick change was the token's last event.
    const std::uint32_t t = sim.find_token(id);
    if (log.after_tick[t]) {
      EXPECT_EQ(tb.state, BookState::kUnconfirmed) << id;
      ++unconfirmed;
    } else {
      EXPECT_EQ(tb.state, BookState::kLive) << id;
    }
  }
  EXPECT_LT(unconfirmed, ours.size());
}

TEST(TickEpochs, LostChangesAfterATickChangeTurnTheBookStaleNotWrong) {
  pm::MarketSim sim(tick_heavy(0));
  Fed fed;
  std::vector<pm::SimFrame> frames;
  sim.advance_to(kStart, frames);
  for (std::uint32_t t : sim.open_tokens()) fed.feed(pm::SimFrame{sim.book_event(t)});
  // The first tick change's burst loses every price change but its last: the venue's best
  // prices then show a book we did not build.
  std::uint32_t victim = ~0u;
  for (int i = 0; i < 100'000 && victim == ~0u; ++i) {
    frames.clear();
    sim.next(frames);
    std::uint32_t ticked = ~0u;
    std::vector<std::size_t> burst;  // the ticked token's price changes in this step
    for (std::size_t j = 0; j < frames.size(); ++j) {
      if (frames[j].type == pm::EventType::kTickSizeChange && ticked == ~0u)
        ticked = frames[j].tokens[0];
      if (ticked != ~0u && frames[j].type == pm::EventType::kPriceChange &&
          frames[j].tokens[0] == ticked)
        burst.push_back(j);
    }
    std::set<std::size_t> lost;
    if (burst.size() >= 2) {
      victim = ticked;
      lost.insert(burst.begin(), burst.end() - 1);
    }
    for (std::size_t j = 0; j < frames.size(); ++j)
      if (lost.count(j) == 0) fed.feed(frames[j]);
  }
  ASSERT_NE(victim, ~0u) << "no tick change with a burst of two frames or more";
  const std::string& id = sim.tokens()[victim].id;
  const TokenBook& tb = fed.keeper.book(fed.keeper.find(id));
  EXPECT_EQ(tb.state, BookState::kStale);
  EXPECT_EQ(tb.stale_reason, StaleReason::kTickSizeChange);
  EXPECT_EQ(tb.stats.disagreements, 1u);
  EXPECT_EQ(fed.keeper.totals().disagreements, 1u);
  // Flagged, not trusted: the levels differ from the truth, and the JSON says so.
  const auto truth = books_by_asset(sim.books_json());
  EXPECT_NE(books_by_asset(books_json(fed.keeper)).at(id), truth.at(id));
  std::string out;
  append_book_json(out, fed.keeper, fed.keeper.find(id));
  EXPECT_NE(out.find(R"("state":"stale")"), std::string::npos) << out;
  // Its next snapshot brings it back.
  fed.feed(pm::SimFrame{sim.book_event(victim)});
  EXPECT_EQ(tb.state, BookState::kLive);
  EXPECT_EQ(books_by_asset(books_json(fed.keeper)).at(id), truth.at(id));
}

TEST(TickEpochs, TheDefaultStreamStillSnapshotsAfterEveryTickChange) {
  pm::MarketSim sim(tick_heavy(100));
  EpochLog log;
  std::vector<pm::SimFrame> frames;
  for (int i = 0; i < 20'000; ++i) {
    frames.clear();
    sim.next(frames);
    for (const pm::SimFrame& f : frames) log.note(f);
  }
  EXPECT_GT(log.tick_changes, 50u);
  EXPECT_EQ(log.snapshot_next, log.tick_changes);
}

}  // namespace
}  // namespace booktape
