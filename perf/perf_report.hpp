#pragma once
// The end-to-end report: one JSON file (every number), one markdown file (the tables people
// read) and two SVG plots (achieved against offered rate; the latency distribution at a
// reference rate), written together into one folder.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "perf/record_scenario.hpp"

namespace booktape::perf {

// A point measured with another build's recorder (--baseline) has its configuration named with
// this prefix, e.g. "baseline: ws, spin-then-park, poisson".
inline constexpr std::string_view kBaselinePrefix = "baseline: ";

struct Point {
  std::string config;  // the curve it belongs to, e.g. "ws, spin-then-park"
  Scenario scenario;
  Result result;
  // Kept up: zero loss, and every frame in the recorder within 3% of the offered pace.
  [[nodiscard]] bool sustained() const noexcept;
  [[nodiscard]] bool baseline() const noexcept { return config.starts_with(kBaselinePrefix); }
};

struct Report {
  std::string title;
  std::string command;                // how it was produced
  std::string baseline;               // what the baseline points ran (a build), if any
  std::vector<Point> points;          // in the order measured
  std::vector<Point> memory;          // the same load with more and more tokens (RSS per token)
  double reference_rate = 50'000;     // the latency plot's rate (the nearest measured one)
};

// The machine the numbers came from: cpu model, cpus, memory, kernel, compiler.
std::string describe_machine();

// Writes report.json, report.md, throughput.svg and latency.svg into `dir`.
void write_report(const Report& r, const std::filesystem::path& dir);

}  // namespace booktape::perf
