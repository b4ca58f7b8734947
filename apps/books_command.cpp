// booktape books --shm NAME [--asset ID] [--json]: the live books of a running recorder, read
// from its shared-memory table (docs/CONSUMERS.md) without a syscall per read.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "apps/commands.hpp"
#include "core/clock.hpp"
#include "core/fixed_point.hpp"
#include "io/consumers/consumer_json.hpp"
#include "io/consumers/shm_book_table.hpp"

namespace booktape::apps {

namespace {

struct BooksArgs {
  std::string shm;
  std::string asset;
  bool json = false;
  bool asset_given = false;
};

std::string price_text(std::int32_t p) {
  return p == shm::kNoPrice ? "-" : format_price(p);
}

std::string age_text(std::int64_t now_ns, std::int64_t then_ns) {
  if (then_ns <= 0) return "-";
  char b[32];
  const double s = static_cast<double>(now_ns - then_ns) / 1e9;
  if (s < 60)
    std::snprintf(b, sizeof b, "%.1fs", s);
  else if (s < 3600)
    std::snprintf(b, sizeof b, "%.0fm", s / 60);
  else
    std::snprintf(b, sizeof b, "%.1fh", s / 3600);
  return b;
}

// Who writes the table: running, exited, or silent (a writer killed without a goodbye).
std::string writer_text(const shm::Reader& r, std::int64_t now_ns) {
  const shm::Header& h = r.header();
  std::string s = "writer pid " + std::to_string(h.writer_pid) + " started " +
                  format_utc(h.writer_start_ns).substr(0, 19) + "Z, ";
  if (r.closed()) return s + "exited (these are its last books)";
  const std::int64_t quiet = now_ns - r.heartbeat_ns();
  if (quiet > 5 * kNanosPerSecond)
    return s + "silent for " + age_text(now_ns, r.heartbeat_ns()) + " (gone?)";
  return s + "running";
}

void print_summary(const shm::Reader& r, std::int64_t now_ns) {
  const std::uint32_t used = r.slots_used();
  std::printf("%s; %u of %u slots used, %u levels a side\n", writer_text(r, now_ns).c_str(), used,
              r.header().slot_count, r.header().depth);
  std::printf("%-24s %-17s %8s %8s %8s %8s %8s %7s %9s\n", "asset", "state", "bid", "ask", "mid",
              "spread", "last", "age", "updates");
  shm::Book b;
  for (std::uint32_t i = 0; i < used; ++i) {
    if (r.read_book(i, b) != shm::ReadResult::kOk) continue;
    std::string id = b.asset_id();
    if (id.size() > 24) id = id.substr(0, 10) + "..." + id.substr(id.size() - 11);
    const shm::SlotHead& h = b.head;
    const bool both = h.best_bid != shm::kNoPrice && h.best_ask != shm::kNoPrice;
    std::printf("%-24s %-17s %8s %8s %8s %8s %8s %7s %9llu\n", id.c_str(), shm::state_name(h.state),
                price_text(h.best_bid).c_str(), price_text(h.best_ask).c_str(),
                both ? format_fixed(std::int64_t{h.best_bid} * 5 + std::int64_t{h.best_ask} * 5,
                                    kPriceDecimals + 1)
                           .c_str()
                     : "-",
                both ? format_price(h.best_ask - h.best_bid).c_str() : "-",
                price_text(h.last_trade_price).c_str(), age_text(now_ns, h.received_ns).c_str(),
                static_cast<unsigned long long>(h.update_seq));
  }
}

void print_book(const shm::Book& b, std::int64_t now_ns) {
  const shm::SlotHead& h = b.head;
  std::printf("asset   %s\nmarket  %s\nstate   %s\nupdated %s (%s ago), update %llu\n",
              b.asset_id().c_str(), b.market().empty() ? "-" : b.market().c_str(),
              shm::state_name(h.state), h.received_ns > 0 ? format_utc(h.received_ns).c_str() : "-",
              age_text(now_ns, h.received_ns).c_str(),
              static_cast<unsigned long long>(h.update_seq));
  std::printf("last    %s x %s\n", price_text(h.last_trade_price).c_str(),
              h.last_trade_price == shm::kNoPrice ? "-" : format_size(h.last_trade_size).c_str());
  std::printf("depth   %u bids, %u asks (the table keeps the best %zu / %zu)\n\n", h.bid_depth,
              h.ask_depth, b.bids.size(), b.asks.size());
  std::printf("%16s %8s | %-8s %-16s\n", "bid size", "bid", "ask", "ask size");
  for (std::size_t i = 0; i < std::max(b.bids.size(), b.asks.size()); ++i) {
    const bool bid = i < b.bids.size(), ask = i < b.asks.size();
    std::printf("%16s %8s | %-8s %-16s\n", bid ? format_size(b.bids[i].size).c_str() : "",
                bid ? format_price(b.bids[i].price).c_str() : "",
                ask ? format_price(b.asks[i].price).c_str() : "",
                ask ? format_size(b.asks[i].size).c_str() : "");
  }
}

int run_books(const BooksArgs& a) {
  if (a.asset_given && a.asset.empty()) {
    std::fprintf(stderr, "booktape books: --asset needs a token id\n");
    return 2;
  }
  std::unique_ptr<shm::Reader> r;
  try {
    r = std::make_unique<shm::Reader>(a.shm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "booktape books: %s\n", e.what());
    return 1;
  }
  const std::int64_t now = realtime_now();
  shm::Book b;
  BookMessage message;
  std::string line;
  if (!a.asset.empty()) {
    const auto slot = r->find(a.asset);
    if (!slot || r->read_book(*slot, b) != shm::ReadResult::kOk) {
      std::fprintf(stderr, "booktape books: asset %s is not in /dev/shm/%s (%u tokens there)\n",
                   a.asset.c_str(), a.shm.c_str(), r->slots_used());
      return 1;
    }
    if (a.json) {
      message.build(line, b, now);
      std::printf("%s\n", line.c_str());
    } else {
      print_book(b, now);
    }
    return 0;
  }
  if (!a.json) {
    print_summary(*r, now);
    return 0;
  }
  const std::uint32_t used = r->slots_used();
  for (std::uint32_t i = 0; i < used; ++i) {
    if (r->read_book(i, b) != shm::ReadResult::kOk) continue;
    message.build(line, b, now);
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

}  // namespace

Command add_books_command(CLI::App& app) {
  auto args = std::make_shared<BooksArgs>();
  CLI::App* cmd = app.add_subcommand(
      "books",
      "Show the live books of a running `booktape record --shm NAME` from its shared-memory "
      "table: every token's top of book, or one token's levels.");
  cmd->add_option("--shm", args->shm, "The table's name (the file /dev/shm/NAME)")
      ->required()
      ->type_name("NAME");
  auto* asset =
      cmd->add_option("--asset", args->asset, "Show this token's levels")->type_name("ID");
  cmd->add_flag("--json", args->json,
                "One JSON object a token, as the Redis books are published (docs/CONSUMERS.md)");
  return [args, asset] {
    args->asset_given = asset->count() > 0;
    return run_books(*args);
  };
}

}  // namespace booktape::apps
