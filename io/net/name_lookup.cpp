#include "io/net/name_lookup.hpp"

#include <boost/asio/io_context.hpp>

#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

namespace booktape {

struct NameLookup::State {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  Results results;
  boost::system::error_code error;
};

NameLookup::NameLookup(std::string host, std::string port) : state_(std::make_shared<State>()) {
  auto run = [st = state_, host = std::move(host), port = std::move(port)] {
    boost::asio::io_context ioc;  // the thread's own: nothing outside waits for it
    boost::asio::ip::tcp::resolver resolver(ioc);
    boost::system::error_code ec;
    Results r = resolver.resolve(host, port, ec);
    const std::lock_guard lock(st->mutex);
    st->results = std::move(r);
    st->error = ec;
    st->done = true;
    st->cv.notify_all();
  };
  try {
    std::thread(std::move(run)).detach();
  } catch (const std::system_error& e) {  // no thread to be had (resource limits)
    state_->error = boost::system::error_code(e.code().value(), boost::system::system_category());
    state_->done = true;
  }
}

NameLookup::~NameLookup() = default;  // a lookup under way keeps its own reference

bool NameLookup::done() const {
  const std::lock_guard lock(state_->mutex);
  return state_->done;
}

bool NameLookup::wait_until(std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(state_->mutex);
  return state_->cv.wait_until(lock, until, [&] { return state_->done; });
}

const NameLookup::Results& NameLookup::results() const { return state_->results; }
const boost::system::error_code& NameLookup::error() const { return state_->error; }

}  // namespace booktape
