#include "io/record/rest_checkpointer.hpp"

#include <simdjson.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "codecs/envelope.hpp"
#include "codecs/polymarket_rest.hpp"
#include "core/clock.hpp"
#include "io/net/http_client.hpp"
#include "io/net/url.hpp"
#include "io/record/book_stage.hpp"

namespace booktape {

bool safe_response_header(std::string_view name) noexcept {
  // An allowlist, not a blocklist: a header we do not know is dropped.
  static constexpr std::string_view kSafe[] = {
      "content-type",     "content-length",      "content-encoding",    "date",
      "age",              "cache-control",       "etag",                "last-modified",
      "retry-after",      "x-ratelimit-limit",   "x-ratelimit-remaining", "x-ratelimit-reset",
      "cf-cache-status",  "vary"};
  for (std::string_view s : kSafe)
    if (s.size() == name.size() && ::strncasecmp(s.data(), name.data(), s.size()) == 0) return true;
  return false;
}

struct RestCheckpointer::Impl {
  Impl(RestCheckpointOptions o, BookStage* b)
      : opt(std::move(o)), books(b), writer(opt.writer), http([&] {
          HttpClientOptions h;
          h.base_url = opt.rest_url;
          h.ca_file = opt.ca_file;
          h.timeout = std::chrono::milliseconds(15'000);
          h.cancel = opt.stop;
          return h;
        }()) {}

  bool fetch(const std::vector<std::string>& ids, std::uint64_t round, std::size_t chunk,
             CheckpointBatch& batch);

  RestCheckpointOptions opt;
  BookStage* books;
  ArchiveWriter writer;
  HttpClient http;
  RestCheckpointStats stats;
  std::mutex tokens_mu;  // control plane only: a list handed over every discovery round
  std::vector<std::string> tokens;
  std::uint64_t failures = 0;
  RestFailureLog failure_log;
};

RestCheckpointer::RestCheckpointer(RestCheckpointOptions options, BookStage* compare_with)
    : impl_(std::make_unique<Impl>(std::move(options), compare_with)) {}
RestCheckpointer::~RestCheckpointer() = default;

const RestCheckpointStats& RestCheckpointer::stats() const noexcept { return impl_->stats; }

void RestFailureLog::record(std::string what) {
  std::lock_guard lock(mu_);
  last_ = std::move(what);
}

std::string RestFailureLog::note(MonoNanos now, std::int64_t every_ns, std::uint64_t failures) {
  std::lock_guard lock(mu_);
  if (failures == said_failures_ || now < next_) return {};
  const std::uint64_t fresh = failures - said_failures_;
  said_failures_ = failures;
  next_ = now + every_ns;
  return "REST checkpoint request failed: " + last_ + " (" + std::to_string(fresh) +
         " failed request(s) since the last note; backing off)";
}

std::string RestCheckpointer::failure_note(MonoNanos now) {
  const RestCheckpointStats& s = impl_->stats;
  const std::uint64_t failures = s.http_errors.load() + s.transport_errors.load() +
                                 s.bad_bodies.load() + s.empty_answers.load();
  return impl_->failure_log.note(now, 10 * kNanosPerSecond, failures);
}
const ArchiveWriter& RestCheckpointer::writer() const noexcept { return impl_->writer; }

void RestCheckpointer::set_tokens(std::vector<std::string> tokens) {
  std::lock_guard lock(impl_->tokens_mu);
  impl_->tokens = std::move(tokens);
}

bool RestCheckpointer::Impl::fetch(const std::vector<std::string>& ids, std::uint64_t round,
                                   std::size_t chunk, CheckpointBatch& batch) {
  std::string body = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    body += i ? ",{\"token_id\":" : "{\"token_id\":";
    append_json_string(body, ids[i]);
    body += '}';
  }
  body += ']';
  const UnixNanos at = realtime_now();
  const MonoNanos mono = monotonic_now();
  std::string line = "{\"record\":\"rest_checkpoint\",\"requested_at_utc\":\"" + format_utc(at) +
                     "\",\"requested_at_ns\":" + std::to_string(at) +
                     ",\"checkpoint\":" + std::to_string(round) + ",\"chunk\":" +
                     std::to_string(chunk) + ",\"request\":{\"method\":\"POST\",\"url\":";
  append_json_string(line, redact_url(opt.rest_url + "/books"));
  line += ",\"body\":" + body + "}";
  stats.requests.fetch_add(1, std::memory_order_relaxed);
  bool ok = false;
  try {
    const HttpResponse r = http.post_json("/books", body);
    stats.last_latency_ns.store(r.latency_ns, std::memory_order_relaxed);
    line += ",\"response\":{\"status\":" + std::to_string(r.status) +
            ",\"latency_ns\":" + std::to_string(r.latency_ns) + ",\"headers\":{";
    // Names in lower case (HTTP names are case-insensitive; one spelling for readers); a
    // header sent more than once is one key, its values joined with ", " (as HTTP defines).
    std::vector<std::pair<std::string, std::string>> kept;
    for (const auto& [k, v] : r.headers) {
      if (!safe_response_header(k)) continue;
      std::string name(k);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      auto it = std::find_if(kept.begin(), kept.end(), [&](const auto& h) { return h.first == name; });
      if (it == kept.end()) kept.emplace_back(std::move(name), v);
      else it->second.append(", ").append(v);
    }
    for (std::size_t i = 0; i < kept.size(); ++i) {
      if (i) line += ',';
      append_json_string(line, kept[i].first);
      line += ':';
      append_json_string(line, kept[i].second);
    }
    line += '}';
    // The body verbatim when it is valid JSON (minified only if it spans lines), else as text
    // (a Cloudflare HTML page, say).
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    if (!r.body.empty() && parser.parse(r.body).get(e) == simdjson::SUCCESS) {
      line += ",\"raw_response_json\":";
      if (r.body.find_first_of("\r\n") == std::string::npos) {
        line += r.body;
      } else {
        line += simdjson::minify(e);
      }
    } else {
      line += ",\"raw_response_json\":null,\"raw_response_text\":";
      append_json_string(line, r.body);
    }
    line += '}';
    if (r.status == 200) {
      std::vector<polymarket::ParsedBook> parsed;
      std::string error;
      if (polymarket::parse_books_response(r.body, parsed, error)) {
        stats.responses_ok.fetch_add(1, std::memory_order_relaxed);
        // Only books of the tokens asked for, each once, count; the rest of the asked tokens
        // are missing (no book, a venue error, levels that do not decode exactly).
        std::unordered_set<std::string_view> asked(ids.begin(), ids.end());
        std::size_t usable = 0;
        for (polymarket::ParsedBook& p : parsed) {
          if (!p.ok || asked.erase(p.asset_id) == 0) continue;
          ++usable;
          CheckpointBook b;
          b.asset_id = std::move(p.asset_id);
          b.timestamp_ms = p.timestamp_ms;
          b.bids = std::move(p.bids);
          b.asks = std::move(p.asks);
          batch.books.push_back(std::move(b));
        }
        stats.books_missing.fetch_add(ids.size() - usable, std::memory_order_relaxed);
        ok = usable > 0;  // an answer without one usable book asked for checks nothing
        if (!ok) stats.empty_answers.fetch_add(1, std::memory_order_relaxed);
      } else {
        stats.bad_bodies.fetch_add(1, std::memory_order_relaxed);
      }
    } else {
      stats.http_errors.fetch_add(1, std::memory_order_relaxed);
      if (r.status == 429) stats.throttled.fetch_add(1, std::memory_order_relaxed);
      failure_log.record("POST " + redact_url(opt.rest_url + "/books") + ": HTTP " +
                         std::to_string(r.status) + " " +
                         r.body.substr(0, std::min<std::size_t>(r.body.size(), 120)));
    }
    if (r.status == 200 && !ok) {
      failure_log.record("POST " + redact_url(opt.rest_url + "/books") +
                         ": HTTP 200 without a usable book of those asked (empty, or not a "
                         "books answer)");
    }
    line += ",\"error\":null}\n";
  } catch (const HttpError& e) {
    stats.transport_errors.fetch_add(1, std::memory_order_relaxed);
    failure_log.record("POST " + redact_url(opt.rest_url + "/books") + ": " + e.what());
    line += ",\"response\":null,\"error\":";
    append_json_string(line, e.what());
    line += "}\n";
  }
  if (opt.archive) {
    writer.append_record(at, mono, line);
    writer.poll(monotonic_now(), realtime_now());
  }
  return ok;
}

bool RestCheckpointer::checkpoint_once() {
  Impl& im = *impl_;
  std::vector<std::string> ids;
  {
    std::lock_guard lock(im.tokens_mu);
    ids = im.tokens;
  }
  if (ids.empty()) return false;
  const std::uint64_t round = im.stats.rounds.fetch_add(1, std::memory_order_relaxed) + 1;
  auto batch = std::make_unique<CheckpointBatch>();
  batch->fetched_at = realtime_now();
  const std::size_t step = static_cast<std::size_t>(std::max(1, im.opt.batch));
  bool all_ok = true;
  for (std::size_t i = 0, chunk = 0; i < ids.size(); i += step, ++chunk) {
    if (im.opt.stop != nullptr && im.opt.stop->load(std::memory_order_acquire)) break;
    const std::vector<std::string> part(ids.begin() + static_cast<std::ptrdiff_t>(i),
                                        ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + step)));
    if (!im.fetch(part, round, chunk, *batch)) {
      all_ok = false;
      break;  // the next round backs off; the rest of this one would likely fail too
    }
  }
  im.stats.books.fetch_add(batch->books.size(), std::memory_order_relaxed);
  if (all_ok) {
    im.stats.rounds_ok.fetch_add(1, std::memory_order_relaxed);
    im.failures = 0;
  } else {
    ++im.failures;
  }
  if (im.books != nullptr && !batch->books.empty()) im.books->submit_checkpoint(std::move(batch));
  return true;
}

void RestCheckpointer::run(const std::atomic<bool>& stop) {
  Impl& im = *impl_;
  MonoNanos next = monotonic_now();
  while (!stop.load(std::memory_order_acquire)) {
    if (monotonic_now() >= next) {
      // Nothing subscribed yet: try again soon, so the first round follows the first
      // subscription closely and even a short bounded run gets its checkpoints.
      double wait = std::min(im.opt.interval_seconds, 1.0);
      if (checkpoint_once()) {
        // After failures wait longer: the interval doubles per failed round, up to the maximum.
        wait = im.opt.interval_seconds;
        for (std::uint64_t f = 0; f < im.failures && wait < im.opt.backoff_max_seconds; ++f) wait *= 2;
        wait = std::min(wait, std::max(im.opt.backoff_max_seconds, im.opt.interval_seconds));
      }
      next = monotonic_now() + static_cast<std::int64_t>(wait * 1e9);
    }
    im.writer.poll(monotonic_now(), realtime_now());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a cold thread: sleeping is fine
  }
  // A disk that still refuses: retried until the archive stage has given back the space reserved
  // for the end of the run (it tries for 5 s first), then what is left is named in a loss record.
  im.writer.close();
  for (int i = 0; i < 70 && !im.writer.closed(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    im.writer.close();
  }
  if (!im.writer.closed()) im.writer.abandon();
}

}  // namespace booktape
