#pragma once
// The HTTP book API on the operator listener (`record --http`, docs/CONSUMERS.md "HTTP"):
//   GET /books                every book the table holds, in the consumers' book shape (the
//                             `replay --dump-books` levels and analytics) plus state;
//                             ?offset=K&limit=N pages (N at most kMaxBooksPerPage, the
//                             body at most ~kMaxPageBytes)
//   GET /books/<asset_id>     book_detail_json: the book, depth within 1/5/10 cents, the cost
//                             to buy or sell 100 / 1,000 USDC
//   GET /odds/<slug|condition id>  odds_json: seed 001's odds of a market's outcomes
// Unknown ids answer 404.
//
// Everything is read from the book table (io/consumers/book_table.hpp) under its seqlock, on
// the listener's thread: a request never touches the book stage, and the book stage never waits
// for a request. The levels are those the table keeps (consumer_depth a side); "depth" still
// says how many the whole book has.
//
// Threads: the handlers run on the listener's thread, one at a time (the slot index below is
// theirs alone); set_tokens() from any thread (the control thread, on every plan change).
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/consumers/consumer_stage.hpp"
#include "io/consumers/shm_book_table.hpp"
#include "io/net/http_server.hpp"

namespace booktape {

class BookRoutes {
 public:
  static constexpr std::size_t kDefaultBooksPerPage = 1000;
  static constexpr std::size_t kMaxBooksPerPage = 10000;
  // A page ends early (next_offset set) once its body passes this: deep tables stay bounded.
  static constexpr std::size_t kMaxPageBytes = std::size_t{16} << 20;

  explicit BookRoutes(const shm::TableView& table) : table_(table) {}

  // Registers the three routes on `server` (before it starts); this object must outlive the
  // server's thread.
  void add_to(HttpServer& server);

  // What discovery knows of the tokens (slug, outcome, condition id), for /odds.
  void set_tokens(const std::vector<TokenMeta>& tokens);

  [[nodiscard]] HttpReply books(const HttpRequest& r);
  [[nodiscard]] HttpReply book(const HttpRequest& r);  // /books/<asset_id>
  [[nodiscard]] HttpReply odds(const HttpRequest& r);  // /odds/<slug or condition id>

 private:
  // The slot of a token (the index is brought up to the table's used slots first).
  [[nodiscard]] const std::uint32_t* slot_of(const std::string& asset_id);

  const shm::TableView& table_;
  // Listener thread only.
  std::unordered_map<std::string, std::uint32_t> slots_;
  std::uint32_t indexed_ = 0;
  shm::Book scratch_;

  struct Outcome {
    std::string outcome, asset_id;
  };
  struct Market {
    std::string slug, condition_id;
    std::vector<Outcome> outcomes;
  };
  mutable std::mutex markets_mu_;  // cold: the control thread writes, a request reads
  std::vector<Market> markets_;
  std::map<std::string, std::size_t> market_by_key_;  // slug and condition id -> markets_
};

}  // namespace booktape
