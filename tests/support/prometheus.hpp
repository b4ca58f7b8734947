#pragma once
// Prometheus for tests, from Debian's `prometheus` package: `promtool check metrics` on a
// scrape's text, and a real server on loopback that scrapes one target every second and
// answers instant queries.
#include <simdjson.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "io/net/http_client.hpp"
#include "tests/support/loopback.hpp"
#include "tests/support/process.hpp"
#include "tests/support/shell.hpp"

namespace booktape::testing {

// `promtool check metrics` on `text` (written to `dir`): exit code and what it printed.
inline ShellResult promtool_check_metrics(const std::string& text,
                                          const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / "metrics.txt";
  std::ofstream(file) << text;
  return shell("promtool check metrics < " + file.string() + " 2>&1");
}

// The value on the line `series value` of a Prometheus text ("" if none).
inline std::string sample_value(const std::string& text, const std::string& series) {
  const std::size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return "";
  const std::size_t start = at + series.size() + 2;
  return text.substr(start, text.find('\n', start) - start);
}

class PrometheusServer {
 public:
  // Scrapes http://127.0.0.1:<target_port>/metrics every second; its data lives in `dir`.
  PrometheusServer(std::uint16_t target_port, const std::filesystem::path& dir)
      : port_(dead_port()) {
    const std::filesystem::path config = dir / "prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
                             "scrape_configs:\n  - job_name: booktape\n    static_configs:\n"
                             "      - targets: ['127.0.0.1:"
                          << target_port << "']\n";
    child_ = std::make_unique<Child>(std::vector<std::string>{
        "/usr/bin/prometheus", "--config.file=" + config.string(),
        "--storage.tsdb.path=" + (dir / "tsdb").string(),
        "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"});
  }
  ~PrometheusServer() {
    using namespace std::chrono_literals;
    child_->signal(SIGTERM);
    if (child_->wait(15s) < 0) child_->signal(SIGKILL);
  }
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  // Waits (bounded) until the server answers /-/ready.
  bool ready(std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      try {
        if (client().get("/-/ready").status == 200) return true;
      } catch (const HttpError&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  // An instant query's single value, if it has exactly one sample.
  std::optional<double> query(const std::string& promql) {
    std::string encoded;
    for (const char ch : promql) {
      const auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) || c == '_' || c == '.' || c == '-') {
        encoded += static_cast<char>(c);
      } else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        encoded += hex;
      }
    }
    HttpResponse r;
    try {
      r = client().get("/api/v1/query?query=" + encoded);
    } catch (const HttpError&) {
      return std::nullopt;
    }
    if (r.status != 200) return std::nullopt;
    simdjson::dom::parser p;
    simdjson::dom::element e;
    if (p.parse(r.body).get(e)) return std::nullopt;
    simdjson::dom::array result;
    if (e["data"]["result"].get_array().get(result) || result.size() != 1) return std::nullopt;
    std::string_view value;
    if (result.at(0)["value"].at(1).get_string().get(value)) return std::nullopt;
    return std::stod(std::string(value));
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

 private:
  HttpClient& client() {
    if (!client_) {
      HttpClientOptions o;
      o.base_url = "http://127.0.0.1:" + std::to_string(port_);
      o.timeout = std::chrono::seconds(5);
      client_ = std::make_unique<HttpClient>(o);
    }
    return *client_;
  }

  std::uint16_t port_;
  std::unique_ptr<Child> child_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace booktape::testing
