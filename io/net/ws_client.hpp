#pragma once
// A websocket client with blocking calls and timeouts (Boost.Beast over Asio and OpenSSL), for
// tests, `booktape demo` and tools. TLS always verifies the server: the certificate chain against
// the system store (or `ca_file`) and the host name (SNI sent); there is no switch to turn that
// off.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace booktape {

struct WsClientOptions {
  std::string url;                     // ws:// or wss://
  std::filesystem::path ca_file;       // empty: the system's trusted CAs
  std::size_t max_message = std::size_t{16} << 20;
  std::chrono::milliseconds connect_timeout{10'000};
};

struct WsMessage {
  std::string data;
  bool binary = false;
  UnixNanos received_ns = 0;  // when the read completed
  MonoNanos monotonic_ns = 0;
};

// Thrown for anything that ends the connection; what() says what to check.
struct WsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class WsClient {
 public:
  explicit WsClient(WsClientOptions options);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  void connect();                         // TCP, TLS (verified), websocket handshake
  void send_text(std::string_view text);
  // Waits up to `timeout` for one message: false on timeout (the connection stays usable).
  bool read(WsMessage& out, std::chrono::milliseconds timeout);
  void close();                           // a polite close; never throws

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace booktape
