#pragma once
// A small blocking HTTP/1.1 client (Beast) for the cold paths: Gamma discovery, REST /books
// checkpoints, the simulator's control endpoint. Keeps one connection alive and reconnects once
// if the server closed it. HTTPS verifies the certificate chain (system store or `ca_file`) and
// the host name, always.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace booktape {

struct HttpClientOptions {
  std::string base_url;                  // http(s)://host[:port] (a path prefix is kept)
  std::filesystem::path ca_file;         // empty: the system's trusted CAs
  std::chrono::milliseconds timeout{10'000};  // per request, connect included
  std::size_t max_body = std::size_t{64} << 20;
  // Set: a request under way gives up (HttpError "cancelled") within ~100 ms of it turning
  // true, so a stopping recorder does not wait out the timeout (name resolution included).
  const std::atomic<bool>* cancel = nullptr;
  // A request under way at this time is abandoned like a cancel (a bounded run's end).
  std::chrono::steady_clock::time_point stop_at = std::chrono::steady_clock::time_point::max();
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  std::string body;
  std::int64_t latency_ns = 0;           // request written to response read
  [[nodiscard]] std::string header(std::string_view name) const;  // case-insensitive; "" if absent
};

// Transport failures (DNS, connect, TLS, timeout, malformed response). HTTP error statuses are
// returned, not thrown.
struct HttpError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse get(std::string_view target);
  HttpResponse post_json(std::string_view target, std::string_view body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace booktape
