#include "io/consumers/consumer_metrics.hpp"

namespace booktape {

namespace {

double v(const std::atomic<std::uint64_t>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));
}

}  // namespace

void add_consumer_metrics(MetricFamilies& m, const ConsumerStage& stage) {
  const ConsumerFeedStats& f = stage.feed_stats();
  m.counter("booktape_consumer_updates_total",
            "Book changes the book stage handed to the consumers (book table slot writes)")
      .sample(v(f.updates));
  m.counter("booktape_consumer_conflated_total",
            "Book changes merged into one already queued for the consumer thread (latest wins)")
      .sample(v(f.conflated));
  m.counter("booktape_consumer_trades_total", "Trades handed to the consumer thread")
      .sample(v(f.trades));
  m.counter("booktape_consumer_trades_dropped_total",
            "Trades dropped because the consumer thread's trade queue was full")
      .sample(v(f.trades_dropped));
  m.counter("booktape_consumer_unserved_updates_total",
            "Book changes of tokens past the book table's slots (consumer_slots)")
      .sample(v(f.unserved));
  m.counter("booktape_consumer_rest_books_total",
            "REST checkpoint books served while a token's websocket was down")
      .sample(v(f.rest_books));

  if (const RedisStats* r = stage.redis_stats()) {
    m.counter("booktape_redis_published_total", "Redis messages accepted, by kind")
        .sample(v(r->published), {{"kind", "book"}})
        .sample(v(r->trades), {{"kind", "trade"}})
        .sample(v(r->refreshed), {{"kind", "ttl_refresh"}});
    m.counter("booktape_redis_conflated_total",
              "Book changes merged while waiting for Redis (latest wins)")
        .sample(v(r->conflated));
    m.counter("booktape_redis_errors_total",
              "Redis error replies, failed connects and commands lost with a connection")
        .sample(v(r->errors));
    m.counter("booktape_redis_trades_dropped_total",
              "Trades not published: the Redis backlog was full or the connection was lost")
        .sample(v(r->trades_dropped));
    m.counter("booktape_redis_connects_total", "Connections made to Redis").sample(v(r->connects));
    m.counter("booktape_redis_disconnects_total", "Connections to Redis lost")
        .sample(v(r->disconnects));
    m.gauge("booktape_redis_connected", "1 while connected to Redis")
        .sample(r->connected.load(std::memory_order_relaxed) ? 1 : 0);
    m.histogram_seconds("booktape_frame_to_redis_publish_seconds",
                        "A book's frame received -> its PUBLISH written to Redis",
                        r->frame_to_publish);
  }
  if (const AlertDeliveryStats* a = stage.alert_stats()) {
    m.counter("booktape_alerts_fired_total", "Alerts fired by the alert rules")
        .sample(v(stage.stats().alerts_fired));
    m.counter("booktape_alerts_delivered_total", "Alerts every configured channel took")
        .sample(v(a->delivered));
    m.counter("booktape_alerts_failed_total", "Alerts a channel refused after every attempt")
        .sample(v(a->failed));
    m.counter("booktape_alert_retries_total", "Alert delivery attempts retried")
        .sample(v(a->retries));
    m.counter("booktape_alerts_dropped_total", "Alerts dropped: the delivery queue was full")
        .sample(v(a->dropped));
    m.histogram_seconds("booktape_frame_to_alert_webhook_seconds",
                        "The frame that crossed a rule received -> its webhook request sent",
                        a->frame_to_webhook);
  }
}

}  // namespace booktape
