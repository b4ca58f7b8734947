// How many frames/s `booktape sim` pushes to one client over loopback, plain and TLS (issue:
// the simulator must never be what limits a recorder benchmark). The simulator runs on its own
// thread in pregenerated mode; the client is a raw reader that only walks frame headers, so it
// is not the bottleneck. Usage: booktape_perf_sim [--frames N] [--tls-only|--plain-only]
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "io/net/url.hpp"
#include "io/sim/server.hpp"

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace booktape;

namespace {

struct Result {
  std::uint64_t frames = 0, bytes = 0;
  double seconds = 0;
};

template <class Stream>
Result drain(Stream& s, const std::string& host_port, const std::string& subscribe,
             std::uint64_t frames_wanted) {
  const std::string upgrade = "GET /ws/market HTTP/1.1\r\nHost: " + host_port +
                              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n";
  asio::write(s, asio::buffer(upgrade));
  std::string head;
  char c;
  while (head.find("\r\n\r\n") == std::string::npos) {
    asio::read(s, asio::buffer(&c, 1));
    head += c;
  }
  // A masked text frame with the subscription (mask key 0x01020304).
  std::string f;
  f += static_cast<char>(0x81);
  const std::size_t n = subscribe.size();
  if (n < 126) {
    f += static_cast<char>(0x80 | n);
  } else {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xFF);
  }
  const unsigned char key[4] = {1, 2, 3, 4};
  f.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < n; ++i) f += static_cast<char>(subscribe[i] ^ key[i & 3]);
  asio::write(s, asio::buffer(f));

  // Count frames by walking headers across reads.
  std::vector<char> buf(std::size_t{4} << 20);
  std::size_t have = 0;
  Result r;
  MonoNanos t0 = 0;
  while (r.frames < frames_wanted) {
    const std::size_t got = s.read_some(asio::buffer(buf.data() + have, buf.size() - have));
    if (t0 == 0) t0 = monotonic_now();
    have += got;
    r.bytes += got;
    std::size_t pos = 0;
    for (;;) {
      if (have - pos < 2) break;
      const auto* p = reinterpret_cast<const unsigned char*>(buf.data() + pos);
      std::uint64_t len = p[1] & 0x7F;
      std::size_t hdr = 2;
      if (len == 126) {
        if (have - pos < 4) break;
        len = (std::uint64_t{p[2]} << 8) | p[3];
        hdr = 4;
      } else if (len == 127) {
        if (have - pos < 10) break;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
        hdr = 10;
      }
      if (have - pos < hdr + len) break;
      pos += hdr + len;
      ++r.frames;
    }
    std::memmove(buf.data(), buf.data() + pos, have - pos);
    have -= pos;
  }
  r.seconds = static_cast<double>(monotonic_now() - t0) / 1e9;
  return r;
}

Result run(bool tls, std::uint64_t frames) {
  SimServerOptions o;
  o.tls = tls;
  o.market.lanes = 4;
  o.rate = 0;
  o.pregenerate = 200'000;
  o.max_frames = frames;
  o.digest = false;
  SimServer sim(o);
  sim.start();
  std::thread t([&] { sim.run(); });
  // Subscribe to every token the generator has (tokens 0..N: read them from its books).
  const std::string books = sim.books_json();
  std::string sub = "{\"assets_ids\":[";
  std::size_t pos = 0;
  int count = 0;
  while ((pos = books.find("\"asset_id\":\"", pos)) != std::string::npos) {
    pos += 12;
    const std::size_t e = books.find('"', pos);
    sub += (count++ ? ",\"" : "\"") + books.substr(pos, e - pos) + "\"";
  }
  // custom features on: every generated frame (best_bid_ask too) is due to this client.
  sub += "],\"type\":\"market\",\"initial_dump\":false,\"custom_feature_enabled\":true}";
  asio::io_context ioc;
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), sim.port());
  Result r;
  if (tls) {
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(sim.ca_file().string());
    ctx.set_verify_mode(ssl::verify_peer);
    ssl::stream<tcp::socket> s(ioc, ctx);
    s.next_layer().connect(ep);
    s.set_verify_callback(ssl::host_name_verification("localhost"));
    s.handshake(ssl::stream_base::client);
    r = drain(s, "localhost:" + std::to_string(sim.port()), sub, frames);
  } else {
    tcp::socket s(ioc);
    s.connect(ep);
    r = drain(s, "127.0.0.1:" + std::to_string(sim.port()), sub, frames);
  }
  sim.stop();
  t.join();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t frames = 3'000'000;
  bool plain = true, tls = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--frames") && i + 1 < argc) frames = std::stoull(argv[++i]);
    else if (!std::strcmp(argv[i], "--tls-only")) plain = false;
    else if (!std::strcmp(argv[i], "--plain-only")) tls = false;
    else {
      std::fprintf(stderr, "usage: %s [--frames N] [--tls-only|--plain-only]\n", argv[0]);
      return 2;
    }
  }
  std::printf("| transport | frames | seconds | frames/s | MB/s |\n|---|---:|---:|---:|---:|\n");
  for (bool use_tls : {false, true}) {
    if ((use_tls && !tls) || (!use_tls && !plain)) continue;
    const Result r = run(use_tls, frames);
    std::printf("| %s | %llu | %.2f | %.0f | %.0f |\n", use_tls ? "wss (TLS 1.3)" : "ws",
                static_cast<unsigned long long>(r.frames), r.seconds,
                static_cast<double>(r.frames) / r.seconds,
                static_cast<double>(r.bytes) / r.seconds / 1e6);
  }
  return 0;
}
