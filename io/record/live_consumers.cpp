#include "io/record/live_consumers.hpp"

#include <cstdlib>

#include "core/thread_util.hpp"
#include "io/consumers/consumer_metrics.hpp"

namespace booktape {

namespace {

ConsumerFeedOptions feed_options(const RecorderConfig& c) {
  ConsumerFeedOptions o;
  o.table.shm_name = c.shm;
  o.table.slots = c.consumer_slots;
  o.table.depth = c.consumer_depth;
  return o;
}

ConsumerStageOptions stage_options(const RecorderConfig& c,
                                   const std::atomic<std::uint64_t>* connects,
                                   const std::atomic<std::uint64_t>* failures) {
  ConsumerStageOptions o;
  if (!c.redis_url.empty()) {
    std::string why;
    const auto e = parse_redis_url(c.redis_url, &why);
    if (!e) throw std::runtime_error("redis_url: " + why + "; expected " + kRedisUrlForm);
    RedisOptions r;
    r.endpoint = *e;
    // A password may stay out of the URL (and so out of ps, shell history and config files).
    const char* env = std::getenv("REDIS_PASSWORD");
    if (r.endpoint.password.empty() && env != nullptr) r.endpoint.password = env;
    r.ttl_seconds = c.redis_ttl_seconds;
    o.redis = std::move(r);
  }
  for (const std::string& text : c.alerts) {
    std::string why;
    const auto rule = parse_alert_rule(text, &why);
    if (!rule) throw std::runtime_error("alerts: " + why);
    o.alerts.push_back(*rule);
  }
  o.alert_cooldown_seconds = c.alert_cooldown_seconds;
  o.delivery.webhook_url = c.alert_webhook;
  // ca_file is the venue's (a private CA replaces the system store): a webhook is verified
  // against the system store.
  o.delivery.command = c.alert_command;
  o.delivery.timeout_seconds = c.alert_timeout_seconds;
  o.connects = connects;
  o.connect_failures = failures;
  return o;
}

}  // namespace

LiveConsumers::LiveConsumers(const RecorderConfig& cfg, const std::atomic<std::uint64_t>* connects,
                             const std::atomic<std::uint64_t>* connect_failures)
    : feed_(std::make_unique<ConsumerFeed>(feed_options(cfg))),
      stage_(
          std::make_unique<ConsumerStage>(stage_options(cfg, connects, connect_failures), *feed_)),
      routes_(std::make_unique<BookRoutes>(feed_->table().view())) {}

LiveConsumers::~LiveConsumers() {
  stop();
}

void LiveConsumers::start(int cpu) {
  thread_ = std::thread([this, cpu] {
    name_current_thread("bt-consumers");
    (void)pin_current_thread(cpu);
    stage_->run(stop_);
  });
}

void LiveConsumers::stop() {
  stop_.store(true, std::memory_order_release);
  feed_->bell().ring();
  if (thread_.joinable()) thread_.join();
}

void LiveConsumers::set_tokens(const std::vector<std::vector<TokenInfo>>& groups) {
  std::vector<TokenMeta> tokens;
  for (const auto& g : groups)
    for (const TokenInfo& t : g)
      tokens.push_back({t.token_id, t.market_slug, t.outcome, t.condition_id});
  routes_->set_tokens(tokens);
  stage_->set_tokens(std::move(tokens));
}

void LiveConsumers::serve(HttpServer& server, OperatorSources& sources) {
  routes_->add_to(server);
  sources.more_metrics.push_back(
      [s = stage_.get()](MetricFamilies& m) { add_consumer_metrics(m, *s); });
  if (stage_->alert_stats() != nullptr)
    sources.alerts_json = [s = stage_.get()] { return s->recent_alerts_json(); };
}

void LiveConsumers::pop_notices(const std::function<void(const std::string&)>& log) {
  std::string s;
  while (stage_->pop_notice(s)) log(s);
}

}  // namespace booktape
