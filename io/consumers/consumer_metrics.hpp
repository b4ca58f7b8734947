#pragma once
// The consumers' Prometheus families on the operator listener's /metrics (docs/OPERATIONS.md
// lists them): the book stage's feed (updates, conflated, trades dropped), the Redis fan-out
// (published, conflated, errors, frame -> publish latency) when Redis is configured, and the
// alerts (fired, delivered, failed, frame -> webhook latency) when rules are. Reads only
// relaxed counters: any thread.
#include "io/consumers/consumer_stage.hpp"
#include "io/net/metrics_exposition.hpp"

namespace booktape {

void add_consumer_metrics(MetricFamilies& m, const ConsumerStage& stage);

}  // namespace booktape
