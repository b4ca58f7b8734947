#include "io/record/gamma_fetcher.hpp"

#include <algorithm>
#include <charconv>
#include <thread>
#include <utility>

#include "core/clock.hpp"

namespace booktape {

namespace pm = polymarket;

namespace {

// After this many transport failures in a row the host is taken as unreachable: with a
// blackholed address every further request would only add another full timeout.
constexpr int kMaxTransportFailuresInARow = 2;
constexpr std::size_t kSnippetChars = 80;
constexpr std::int64_t kWindowNs = 10 * kNanosPerSecond;
// How often a wait looks at the cancel flag and the deadline.
constexpr auto kWaitSlice = std::chrono::milliseconds(20);

// The start of a body for an error line (a Cloudflare page or a Gamma error says why), on one
// line and printable.
std::string snippet(std::string_view body) {
  std::string out;
  bool space = false;
  for (const char c : body) {
    if (out.size() >= kSnippetChars) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string with_snippet(std::string line, std::string_view body) {
  const std::string s = snippet(body);
  if (!s.empty()) line += " (" + s + ")";
  return line;
}

std::int64_t steady_ns(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

GammaFetcher::GammaFetcher(const DiscoveryOptions& options, DiscoveryResult& result)
    : options_(options),
      result_(result),
      pace_(static_cast<std::size_t>(std::max(options.requests_per_10s, 0)), kWindowNs) {}

bool GammaFetcher::sleep_until(std::chrono::steady_clock::time_point t) const {
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (options_.cancel && options_.cancel->load(std::memory_order_relaxed)) return false;
    if (now >= options_.stop_at) return false;
    if (now >= t) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(t - now, kWaitSlice));
  }
}

std::chrono::milliseconds GammaFetcher::backoff(int attempt, const HttpResponse& r) const {
  // The venue's own hint first (whole seconds), else doubling from the initial wait.
  const std::string after = r.header("Retry-After");
  long long seconds = 0;
  const auto [p, ec] = std::from_chars(after.data(), after.data() + after.size(), seconds);
  std::chrono::milliseconds wait = options_.backoff_initial * (1LL << std::min(attempt, 20));
  if (!after.empty() && ec == std::errc{} && p == after.data() + after.size() && seconds >= 0) {
    wait = std::chrono::seconds(seconds);
  }
  return std::min(wait, options_.backoff_max);
}

bool GammaFetcher::fetch(const std::string& target, const std::string& label,
                         pm::GammaPage& page) {
  page = pm::GammaPage{};
  for (int attempt = 0;; ++attempt) {
    if (gave_up_) return false;
    if (!client_ && !connect(label)) return false;
    // Under the venue's limit before asking, rather than drawing 429s and waiting after.
    const std::int64_t now = steady_ns(std::chrono::steady_clock::now());
    const std::int64_t at = pace_.next_allowed(now);
    if (at > now &&
        !sleep_until(std::chrono::steady_clock::now() + std::chrono::nanoseconds(at - now))) {
      result_.errors.push_back(label + ": cancelled while pacing under the rate limit");
      return false;
    }
    (void)pace_.try_take(steady_ns(std::chrono::steady_clock::now()));
    ++result_.requests;
    HttpResponse response;
    try {
      response = client_->get(target);
    } catch (const std::exception& e) {
      // HttpError for transport failures; anything else is reported the same way rather than
      // thrown, as the header promises.
      result_.errors.push_back(label + ": " + e.what());
      if (++failures_in_a_row_ >= kMaxTransportFailuresInARow) give_up();
      return false;
    }
    failures_in_a_row_ = 0;
    GammaResponse raw;
    raw.target = target;
    raw.status = response.status;
    raw.fetched_at = realtime_now();
    raw.body = std::move(response.body);  // headers stay for the backoff
    result_.raw_responses.push_back(std::move(raw));
    if (response.status == 429 && attempt < options_.max_retries) {
      ++result_.throttled;
      if (!sleep_until(std::chrono::steady_clock::now() + backoff(attempt, response))) {
        result_.errors.push_back(label + ": HTTP 429, cancelled while backing off");
        return false;
      }
      continue;
    }
    const std::string& body = result_.raw_responses.back().body;
    if (response.status != 200) {
      std::string line = label + ": HTTP " + std::to_string(response.status);
      if (response.status == 429) line += " after " + std::to_string(attempt) + " retries";
      result_.errors.push_back(with_snippet(std::move(line), body));
      return false;
    }
    std::string error;
    if (!pm::parse_gamma_page(body, page, error)) {
      result_.errors.push_back(with_snippet(label + ": " + error, body));
      return false;
    }
    result_.skipped.insert(result_.skipped.end(), page.skipped.begin(), page.skipped.end());
    return true;
  }
}

bool GammaFetcher::connect(const std::string& label) {
  HttpClientOptions o;
  o.base_url = options_.gamma_url;
  o.ca_file = options_.ca_file;
  o.timeout = options_.timeout;
  o.cancel = options_.cancel;
  o.stop_at = options_.stop_at;
  try {
    client_ = std::make_unique<HttpClient>(std::move(o));
    return true;
  } catch (const std::exception& e) {
    // A bad URL or CA file: every request would fail the same way.
    result_.errors.push_back(label + ": " + e.what());
    gave_up_ = true;
    return false;
  }
}

void GammaFetcher::give_up() {
  gave_up_ = true;
  result_.errors.push_back("giving up on " + options_.gamma_url + " after " +
                           std::to_string(failures_in_a_row_) +
                           " transport failures in a row; later requests were not sent");
}

}  // namespace booktape
