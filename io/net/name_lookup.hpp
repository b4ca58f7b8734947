#pragma once
// A DNS lookup the caller can walk away from. getaddrinfo cannot be interrupted, and Asio's
// resolver joins its worker thread when its io_context goes away, so with either a stop waits
// for a DNS server that does not answer (glibc: 5 s per try and server, by default). Each lookup
// runs on a detached thread of its own; a caller that gives up drops the handle and the thread
// ends alone when getaddrinfo returns. Cold path: one lookup per connection attempt.
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace booktape {

class NameLookup {
 public:
  using Results = boost::asio::ip::tcp::resolver::results_type;

  NameLookup(std::string host, std::string port);  // starts the lookup
  NameLookup(const NameLookup&) = delete;
  NameLookup& operator=(const NameLookup&) = delete;
  ~NameLookup();

  [[nodiscard]] bool done() const;
  // Waits until the lookup is done or `until`; returns done().
  bool wait_until(std::chrono::steady_clock::time_point until);
  // Once done(): the endpoints, or why there are none.
  [[nodiscard]] const Results& results() const;
  [[nodiscard]] const boost::system::error_code& error() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace booktape
