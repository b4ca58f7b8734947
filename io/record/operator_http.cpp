#include "io/record/operator_http.hpp"

#include <charconv>

namespace booktape {

void add_operator_routes(HttpServer& server, OperatorSources sources) {
  // The handlers share one copy of the sources (the server keeps them for its life).
  auto s = std::make_shared<const OperatorSources>(std::move(sources));

  server.route("GET", "/metrics", [s](const HttpRequest&) {
    HttpReply r = HttpReply::text(operator_metrics_text(*s));
    r.content_type = MetricFamilies::kContentType;
    return r;
  });

  server.route("GET", "/status", [s](const HttpRequest& req) {
    std::size_t limit = kDefaultStatusTokens;
    if (const std::optional<std::string> n = req.query_param("tokens")) {
      const auto [end, ec] = std::from_chars(n->data(), n->data() + n->size(), limit);
      if (n->empty() || ec != std::errc() || end != n->data() + n->size() ||
          limit > kMaxStatusTokens) {
        return HttpReply::error(400, "tokens: expected a count from 0 to " +
                                         std::to_string(kMaxStatusTokens) + ", got '" + *n + "'");
      }
    }
    return HttpReply::json(operator_status_json(*s, limit));
  });

  server.route("GET", "/", [](const HttpRequest&) {
    HttpReply r;
    r.content_type = "text/html; charset=utf-8";
    r.body = operator_page_html();
    // Self-contained: the page may load nothing but itself and /status.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; script-src 'unsafe-inline'; "
                           "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    return r;
  });
}

}  // namespace booktape
