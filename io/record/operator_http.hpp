#pragma once
// What the recorder serves on its operator listener (`record --http HOST:PORT`,
// docs/OPERATIONS.md):
//   GET /metrics  the Prometheus text format (operator_metrics.cpp)
//   GET /status   JSON: the status line's data, per connection and per token (operator_status.cpp)
//   GET /         the status page, one self-contained HTML file reading /status (operator_page.cpp)
// Everything here runs on the listener's thread and reads only relaxed counters and the
// OperatorView's published snapshot: a scrape or a page never touches a stage's own state.
//
// Other parts of the recorder add to it without editing these files: more metric families
// through `more_metrics`, the alerts list through `alerts_json`, and routes of their own on the
// same HttpServer (io/net/http_server.hpp) before it starts.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "io/net/http_server.hpp"
#include "io/net/metrics_exposition.hpp"
#include "io/record/archive_stage.hpp"
#include "io/record/book_stage.hpp"
#include "io/record/network_stage.hpp"
#include "io/record/operator_view.hpp"
#include "io/record/rest_checkpointer.hpp"

namespace booktape {

struct OperatorSources {
  const NetworkStats* net = nullptr;
  const BookStageStats* book = nullptr;
  const ArchiveStageStats* archive = nullptr;
  const RestCheckpointStats* rest = nullptr;  // null: REST checkpoints are off
  const PipelineRing* ring = nullptr;
  const HttpServerStats* http = nullptr;
  const OperatorView* view = nullptr;
  // The recorder's counters as one JSON object (Recorder::status_json); any thread.
  std::function<std::string()> status_json;
  // The last alerts fired, newest first, as a JSON array; unset: "[]". Any thread, must not
  // block.
  std::function<std::string()> alerts_json;
  // Families other parts of the recorder add to every scrape (e.g. Redis, alerts); each runs on
  // the listener's thread and must only read counters.
  std::vector<std::function<void(MetricFamilies&)>> more_metrics;
};

// The body of GET /metrics.
std::string operator_metrics_text(const OperatorSources& s);
// The body of GET /status: status_json's object plus the view's connections, tokens (at most
// `token_limit`, in market order), books by state, frames/s history, alerts and disk.
std::string operator_status_json(const OperatorSources& s, std::size_t token_limit);
// The body of GET /: the status page (HTML, CSS and script inline; it fetches only /status).
const std::string& operator_page_html();

// Registers GET /metrics, /status and / on `server` (before it starts). /status takes
// ?tokens=N (default kDefaultStatusTokens, at most kMaxStatusTokens).
inline constexpr std::size_t kDefaultStatusTokens = 1000;
inline constexpr std::size_t kMaxStatusTokens = 20000;
void add_operator_routes(HttpServer& server, OperatorSources sources);

}  // namespace booktape
