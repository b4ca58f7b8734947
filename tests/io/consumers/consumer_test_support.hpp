#pragma once
// Small builders shared by the consumer tests.
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "core/book_keeper.hpp"

namespace booktape::testing {

// A live token book with these levels (any order).
inline TokenBook book_of(std::vector<Level> bids, std::vector<Level> asks) {
  TokenBook tb;
  (void)tb.book.side(Side::kBid).assign(bids);
  (void)tb.book.side(Side::kAsk).assign(asks);
  tb.state = BookState::kLive;
  return tb;
}

// A /dev/shm name no other test or run uses.
inline std::string unique_shm_name(const std::string& what) {
  static std::atomic<int> n{0};
  return "booktape-test-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

}  // namespace booktape::testing
