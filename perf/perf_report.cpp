#include "perf/perf_report.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "codecs/json_text.hpp"
#include "codecs/svg_chart.hpp"
#include "core/version.hpp"

namespace fs = std::filesystem;

namespace booktape::perf {
namespace {

[[gnu::format(printf, 1, 2)]] std::string fmt(const char* f, ...) {
  char b[64];
  va_list args;
  va_start(args, f);
  std::vsnprintf(b, sizeof b, f, args);
  va_end(args);
  return b;
}

std::string fmt_ns(std::uint64_t ns) {
  const auto v = static_cast<double>(ns);
  if (ns == 0) return "-";
  if (v < 1e3) return fmt("%.0f ns", v);
  if (v < 1e6) return fmt("%.1f us", v / 1e3);
  if (v < 1e9) return fmt("%.1f ms", v / 1e6);
  return fmt("%.2f s", v / 1e9);
}

std::string fmt_bytes(std::uint64_t b) {
  const auto v = static_cast<double>(b);
  if (v < 1024 * 1024) return fmt("%.1f KiB", v / 1024);
  return fmt("%.1f MiB", v / (1024 * 1024));
}

// A JSON string body (the project's escaper: quotes, backslashes and control bytes).
std::string escaped(std::string_view s) {
  std::string out(json_escape_bound(s.size()), '\0');
  out.resize(static_cast<std::size_t>(json_escape(out.data(), s) - out.data()));
  return out;
}

// CPU ns per frame of the threads named `name` (all others with name "").
double stage_ns(const Result& r, const std::string& name) {
  if (r.sent == 0) return 0;
  std::int64_t ns = 0;
  for (const auto& [thread, cpu] : r.cpu_ns_by_thread) {
    const bool stage = thread == "bt-net" || thread == "bt-book" || thread == "bt-archive";
    if (name.empty() ? !stage : thread == name) ns += cpu;
  }
  return static_cast<double>(ns) / static_cast<double>(r.sent);
}

std::string point_json(const Point& p) {
  const Scenario& s = p.scenario;
  const Result& r = p.result;
  std::ostringstream o;
  o << "{\"config\":\"" << escaped(p.config) << "\",\"scenario\":\"" << escaped(s.name)
    << "\",\"offered_rate\":" << s.rate << ",\"burst\":" << s.burst << ",\"tls\":"
    << (s.tls ? "true" : "false") << ",\"wait\":\"" << s.wait << "\",\"envelope\":\""
    << s.envelope << "\",\"cpus\":\"" << s.cpus << "\",\"markets\":" << s.markets
    << ",\"seconds\":" << s.seconds << ",\"ok\":" << (r.ok ? "true" : "false")
    << ",\"error\":\"" << escaped(r.error) << "\",\"sent\":" << r.sent
    << ",\"archived\":" << r.archived << ",\"loss\":" << r.loss()
    << ",\"frames_per_s\":" << fmt("%.0f", r.frames_per_second())
    << ",\"sustained\":" << (p.sustained() ? "true" : "false") << ",\"tokens\":" << r.tokens
    << ",\"cpu_seconds\":" << fmt("%.3f", r.cpu_seconds)
    << ",\"wall_seconds\":" << fmt("%.3f", r.wall_seconds)
    << ",\"cpu_ns_per_frame\":" << fmt("%.0f", r.cpu_ns_per_frame()) << ",\"cpu_ns_by_thread\":{";
  bool first = true;
  for (const auto& [name, ns] : r.cpu_ns_by_thread) {
    o << (first ? "" : ",") << "\"" << escaped(name) << "\":" << ns;
    first = false;
  }
  o << "},\"rss_bytes\":" << r.rss_bytes << ",\"rss_peak_bytes\":" << r.rss_peak_bytes
    << ",\"ring_bytes\":" << r.ring_bytes << ",\"ring_high_water\":" << r.ring_high_water
    << ",\"ring_full_waits\":" << r.ring_full_waits
    << ",\"read_to_book\":" << (r.read_to_book.json.empty() ? "null" : r.read_to_book.json)
    << ",\"read_to_archive\":" << (r.read_to_archive.json.empty() ? "null" : r.read_to_archive.json)
    << ",\"exit_code\":" << r.exit_code << ",\"pace\":\"" << escaped(s.pace)
    << "\",\"window\":{\"seconds\":" << fmt("%.3f", r.window_seconds)
    << ",\"frames\":" << r.window_frames
    << ",\"cpu_ns_per_frame\":" << fmt("%.0f", r.window_cpu_ns_per_frame())
    << ",\"load_1m\":" << fmt("%.2f", r.load_1m)
    << ",\"machine_busy\":" << fmt("%.3f", r.machine_busy) << ",\"cpu_ns_by_thread\":{";
  first = true;
  for (const auto& [name, ns] : r.window_cpu_ns_by_thread) {
    o << (first ? "" : ",") << "\"" << escaped(name) << "\":" << ns;
    first = false;
  }
  o << "}}}";
  return o.str();
}

// ---- SVG ----------------------------------------------------------------------------------

// The canvas and colours are the library's (codecs/svg_chart.hpp), shared with the soak report.
using Svg = SvgCanvas;

std::vector<std::string> configs_of(const std::vector<Point>& points) {
  std::vector<std::string> out;
  for (const Point& p : points)
    if (std::find(out.begin(), out.end(), p.config) == out.end()) out.push_back(p.config);
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// A point of the paced comparison: measured in a steady window, and either paced or saturated
// (offered as fast as the simulator sends; the sweep's steady-rate points are not in it).
bool in_paced(const Point& p) {
  return p.result.ok && p.result.window_frames > 0 &&
         (p.scenario.pace != "steady" || p.scenario.rate <= 0);
}

// `f` of every paced point of `config` at `rate` (0: saturated).
template <typename F>
std::vector<double> paced_values(const Report& r, const std::string& config, double rate, F f) {
  std::vector<double> out;
  for (const Point& p : r.points)
    if (in_paced(p) && p.config == config && p.scenario.rate == rate) out.push_back(f(p));
  return out;
}

double window_ns(const Point& p) {
  return p.result.window_cpu_ns_per_frame();
}
// Frames per second the recorder read in the window.
double window_rate(const Point& p) {
  return static_cast<double>(p.result.window_frames) / std::max(p.result.window_seconds, 1e-9);
}

// The saturated reference of the paced goal: the median CPU per frame of the points offered as
// fast as possible, of this build or of the baseline (0: none).
double saturated_ns(const Report& r, bool baseline) {
  std::vector<double> v;
  for (const Point& p : r.points)
    if (in_paced(p) && p.scenario.rate <= 0 && p.baseline() == baseline) v.push_back(window_ns(p));
  return median(v);
}

// Issue 21's goal for paced rates: CPU per frame at most 1.5x the saturated cost, or 10 us,
// whichever is larger (0 without a saturated point).
double paced_goal_ns(const Report& r, bool baseline = false) {
  const double sat = saturated_ns(r, baseline);
  return sat > 0 ? std::max(1.5 * sat, 10'000.0) : 0;
}

// Achieved frames/s against offered frames/s, one curve per configuration, and the diagonal.
std::string throughput_svg(const Report& r) {
  const int w = 820, h = 460, l = 80, t = 40, pw = 520, ph = 360;
  double max_rate = 1;
  for (const Point& p : r.points)
    max_rate = std::max({max_rate, p.scenario.rate, p.result.frames_per_second()});
  const double step = max_rate > 200'000 ? 50'000 : max_rate > 50'000 ? 25'000 : 10'000;
  max_rate = std::ceil(max_rate / step) * step;
  auto x = [&](double v) { return l + pw * v / max_rate; };
  auto y = [&](double v) { return t + ph - ph * v / max_rate; };
  Svg s(w, h);
  s.text(l + pw / 2.0, 20, "booktape record: frames/s kept up with, against frames/s offered");
  for (double v = 0; v <= max_rate + 1; v += step) {
    s.line(x(v), t, x(v), t + ph, "stroke:#ddd");
    s.line(l, y(v), l + pw, y(v), "stroke:#ddd");
    s.text(x(v), t + ph + 16, fmt("%.0fk", v / 1e3));
    s.text(l - 6, y(v) + 4, fmt("%.0fk", v / 1e3), "end");
  }
  s.text(l + pw / 2.0, h - 24, "offered (frames/s from the simulator)");
  s.text(18, t + ph / 2.0, "achieved, zero loss (frames/s)", "middle",
         "transform=\"rotate(-90 18 " + std::to_string(t + ph / 2) + ")\"");
  s.polyline({{x(0), y(0)}, {x(max_rate), y(max_rate)}}, "#999", true);
  const auto configs = configs_of(r.points);
  for (std::size_t c = 0; c < configs.size(); ++c) {
    std::vector<std::pair<double, double>> pts;
    for (const Point& p : r.points)
      if (p.config == configs[c] && p.result.ok)
        pts.emplace_back(x(p.scenario.rate), y(p.result.frames_per_second()));
    const char* colour = kSvgColours[c % kSvgColours.size()];
    s.polyline(pts, colour, false);
    s.line(l + pw + 20, t + 10 + 20.0 * static_cast<double>(c), l + pw + 44,
           t + 10 + 20.0 * static_cast<double>(c), std::string("stroke-width:3;stroke:") + colour);
    s.text(l + pw + 50, t + 14 + 20.0 * static_cast<double>(c), configs[c], "start");
  }
  s.text(l + pw + 50, t + 14 + 20.0 * static_cast<double>(configs.size()), "offered (ideal)",
         "start", "fill=\"#999\"");
  return s.done();
}

// Percentiles of read->book and read->archive at the reference rate, log scale.
std::string latency_svg(const Report& r, const std::vector<const Point*>& at_ref) {
  const int w = 980, h = 460, t = 50, pw = 330, ph = 340;
  const char* labels[] = {"p50", "p90", "p99", "p99.9", "p99.99", "max"};
  const double lo = 2, hi = 10;  // log10 ns: 100 ns .. 10 s
  Svg s(w, h);
  s.text(w / 2.0, 20, "booktape record: latency percentiles at ~" +
                          fmt("%.0fk", r.reference_rate / 1e3) + " frames/s offered");
  const auto configs = configs_of(r.points);
  for (int panel = 0; panel < 2; ++panel) {
    const double l = 80 + panel * (pw + 90.0);
    auto x = [&](int i) { return l + pw * i / 5.0; };
    auto y = [&](double ns) {
      const double v = std::clamp(std::log10(std::max(ns, 1.0)), lo, hi);
      return t + ph - ph * (v - lo) / (hi - lo);
    };
    s.text(l + pw / 2.0, t - 10, panel == 0 ? "read completed -> book updated"
                                            : "read completed -> frame in a written block");
    const char* ticks[] = {"100 ns", "1 us", "10 us", "100 us", "1 ms", "10 ms", "100 ms", "1 s",
                           "10 s"};
    for (int d = 0; d <= 8; ++d) {
      const double yy = y(std::pow(10.0, lo + d));
      s.line(l, yy, l + pw, yy, "stroke:#ddd");
      s.text(l - 6, yy + 4, ticks[d], "end");
    }
    for (int i = 0; i < 6; ++i) {
      s.line(x(i), t, x(i), t + ph, "stroke:#eee");
      s.text(x(i), t + ph + 16, labels[i]);
    }
    for (const Point* p : at_ref) {
      const Latency& lat = panel == 0 ? p->result.read_to_book : p->result.read_to_archive;
      if (lat.count == 0) continue;
      const std::uint64_t v[] = {lat.p50, lat.p90, lat.p99, lat.p999, lat.p9999, lat.max};
      std::vector<std::pair<double, double>> pts;
      for (int i = 0; i < 6; ++i) pts.emplace_back(x(i), y(static_cast<double>(v[i])));
      const auto c = static_cast<std::size_t>(
          std::find(configs.begin(), configs.end(), p->config) - configs.begin());
      s.polyline(pts, kSvgColours[c % kSvgColours.size()], false);
    }
  }
  for (std::size_t c = 0; c < configs.size(); ++c) {
    const double xx = 80 + 200.0 * static_cast<double>(c % 4);
    const double yy = h - 40 + 18.0 * static_cast<double>(c / 4);
    const char* colour = kSvgColours[c % kSvgColours.size()];
    s.line(xx, yy - 4, xx + 24, yy - 4, std::string("stroke-width:3;stroke:") + colour);
    s.text(xx + 30, yy, configs[c], "start");
  }
  return s.done();
}

// CPU per frame in the steady window against frames/s, one curve per configuration, both axes
// logarithmic: paced and swept points at their offered rate, saturated ones (offered 0) at the
// rate the recorder read in the window. A dot per run, the curve through the medians (--repeat);
// the paced goal (max(1.5x saturated, 10 us)) dashed when there is a saturated point.
std::string cpu_svg(const Report& r) {
  const int w = 980, h = 460, l = 80, t = 40, pw = 520, ph = 360;
  const double x_lo = 2.5, x_hi = 6;  // log10 frames/s: ~300 .. 1 M
  const double y_lo = 0, y_hi = 3;    // log10 us: 1 .. 1,000
  auto x = [&](double rate) {
    return l + pw * (std::clamp(std::log10(rate), x_lo, x_hi) - x_lo) / (x_hi - x_lo);
  };
  auto y = [&](double us) {
    return t + ph - ph * (std::clamp(std::log10(std::max(us, 1e-3)), y_lo, y_hi) - y_lo) /
                        (y_hi - y_lo);
  };
  Svg s(w, h);
  s.text(l + pw / 2.0, 20, "booktape record: CPU per frame (steady window) against frames/s");
  for (double d = x_lo; d <= x_hi + 1e-9; d += 0.5) {
    const double v = std::pow(10.0, d);
    s.line(x(v), t, x(v), t + ph, "stroke:#ddd");
    s.text(x(v), t + ph + 16,
           v >= 1e6 ? fmt("%.0fM", v / 1e6) : v >= 1e3 ? fmt("%.0fk", v / 1e3) : fmt("%.0f", v));
  }
  for (double d = y_lo; d <= y_hi + 1e-9; d += 1) {
    const double v = std::pow(10.0, d);
    s.line(l, y(v), l + pw, y(v), "stroke:#ddd");
    s.text(l - 6, y(v) + 4, fmt("%.0f us", v), "end");
  }
  s.text(l + pw / 2.0, h - 24, "frames/s offered (saturated: as read in the window), log scale");
  s.text(18, t + ph / 2.0, "CPU per frame, whole process (log scale)", "middle",
         "transform=\"rotate(-90 18 " + std::to_string(t + ph / 2) + ")\"");
  const auto configs = configs_of(r.points);
  std::size_t row = 0;
  for (std::size_t c = 0; c < configs.size(); ++c) {
    std::vector<double> rates;  // offered; 0: saturated
    for (const Point& p : r.points)
      if (p.config == configs[c] && p.result.ok && p.result.window_frames > 0 &&
          std::find(rates.begin(), rates.end(), p.scenario.rate) == rates.end())
        rates.push_back(p.scenario.rate);
    if (rates.empty()) continue;
    const char* colour = kSvgColours[c % kSvgColours.size()];
    std::vector<std::pair<double, double>> pts;
    for (const double rate : rates) {
      std::vector<double> cpu, read;
      for (const Point& p : r.points) {
        if (p.config != configs[c] || !p.result.ok || p.scenario.rate != rate ||
            p.result.window_frames == 0)
          continue;
        cpu.push_back(window_ns(p));
        read.push_back(window_rate(p));
        s.dot(x(rate > 0 ? rate : read.back()), y(cpu.back() / 1e3), colour);
      }
      pts.emplace_back(x(rate > 0 ? rate : median(read)), y(median(cpu) / 1e3));
    }
    std::sort(pts.begin(), pts.end());
    s.polyline(pts, colour, false);
    const double yy = t + 10 + 20.0 * static_cast<double>(row++);
    s.line(l + pw + 20, yy, l + pw + 44, yy, std::string("stroke-width:3;stroke:") + colour);
    s.text(l + pw + 50, yy + 4, configs[c], "start");
  }
  if (const double goal = paced_goal_ns(r); goal > 0) {
    s.polyline({{x(std::pow(10.0, x_lo)), y(goal / 1e3)}, {x(std::pow(10.0, x_hi)), y(goal / 1e3)}},
               "#999", true);
    const double yy = t + 10 + 20.0 * static_cast<double>(row);
    s.text(l + pw + 50, yy + 4, "paced goal: " + fmt("%.1f us", goal / 1e3), "start",
           "fill=\"#999\"");
    s.text(l + pw + 50, yy + 24, "dots: runs; lines: medians", "start", "fill=\"#999\"");
  }
  return s.done();
}

// For each configuration, the measured point whose offered rate is nearest the reference.
std::vector<const Point*> points_at_reference(const Report& r) {
  std::vector<const Point*> out;
  for (const std::string& c : configs_of(r.points)) {
    const Point* best = nullptr;
    for (const Point& p : r.points) {
      if (p.config != c || !p.result.ok) continue;
      if (best == nullptr || std::abs(p.scenario.rate - r.reference_rate) <
                                 std::abs(best->scenario.rate - r.reference_rate))
        best = &p;
    }
    if (best) out.push_back(best);
  }
  return out;
}

// Per configuration of this build and offered rate: the medians of its runs, beside the
// baseline's of the same configuration (when measured) and their ratio.
void medians_table(std::ostringstream& o, const Report& r) {
  std::vector<std::pair<std::string, double>> keys;  // this build's (config, rate), as measured
  for (const Point& p : r.points) {
    const std::pair<std::string, double> k{p.config, p.scenario.rate};
    if (in_paced(p) && !p.baseline() && std::find(keys.begin(), keys.end(), k) == keys.end())
      keys.push_back(k);
  }
  const auto runs = std::count_if(r.points.begin(), r.points.end(), in_paced);
  if (static_cast<std::size_t>(runs) == keys.size()) return;  // one run each: the table above
  const auto p99 = [](const Point& p) { return static_cast<double>(p.result.read_to_book.p99); };
  const auto load = [](const Point& p) { return p.result.load_1m; };
  const auto busy = [](const Point& p) { return p.result.machine_busy; };
  const auto stage = [](const char* t) {
    return [t](const Point& p) { return p.result.window_cpu_ns_per_frame(t); };
  };
  o << "\n### Medians of the runs\n\n| configuration | offered | read in window | runs | CPU/frame "
       "(min - max) | net / book / archive | read->book p99 | load | busy | goal |"
    << (r.baseline.empty() ? ""
                           : " baseline CPU/frame (min - max) | baseline book | baseline "
                             "read->book p99 | baseline / this |")
    << "\n| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |"
    << (r.baseline.empty() ? "" : " ---: | ---: | ---: | ---: |") << "\n";
  const double goal = paced_goal_ns(r);
  for (const auto& [config, rate] : keys) {
    const std::vector<double> cpu = paced_values(r, config, rate, window_ns);
    const double med = median(cpu);
    o << "| " << config << " | " << (rate > 0 ? fmt("%.0f", rate) : "max") << " | "
      << fmt("%.0f/s", median(paced_values(r, config, rate, window_rate))) << " | " << cpu.size()
      << " | **" << fmt("%.2f us", med / 1e3) << "** ("
      << fmt("%.2f", *std::min_element(cpu.begin(), cpu.end()) / 1e3) << " - "
      << fmt("%.2f", *std::max_element(cpu.begin(), cpu.end()) / 1e3) << ") | "
      << fmt("%.2f", median(paced_values(r, config, rate, stage("bt-net"))) / 1e3) << " / "
      << fmt("%.2f", median(paced_values(r, config, rate, stage("bt-book"))) / 1e3) << " / "
      << fmt("%.2f", median(paced_values(r, config, rate, stage("bt-archive"))) / 1e3) << " | "
      << fmt_ns(static_cast<std::uint64_t>(median(paced_values(r, config, rate, p99)))) << " | "
      << fmt("%.2f", median(paced_values(r, config, rate, load))) << " | "
      << fmt("%.0f%%", 100 * median(paced_values(r, config, rate, busy))) << " | "
      << (rate <= 0     ? "reference"
          : med <= goal ? "met"
                        : "**missed**")
      << " |";
    if (!r.baseline.empty()) {
      const std::string base = std::string(kBaselinePrefix) + config;
      const std::vector<double> b = paced_values(r, base, rate, window_ns);
      if (b.empty()) {
        o << " - | - | - | - |";
      } else {
        o << " " << fmt("%.2f us", median(b) / 1e3) << " ("
          << fmt("%.2f", *std::min_element(b.begin(), b.end()) / 1e3) << " - "
          << fmt("%.2f", *std::max_element(b.begin(), b.end()) / 1e3) << ") | "
          << fmt("%.2f", median(paced_values(r, base, rate, stage("bt-book"))) / 1e3) << " | "
          << fmt_ns(static_cast<std::uint64_t>(median(paced_values(r, base, rate, p99)))) << " | **"
          << fmt("%.2fx", median(b) / med) << "** |";
      }
    }
    o << "\n";
  }
}

std::string markdown(const Report& r, const std::string& machine) {
  std::ostringstream o;
  o << "# " << r.title << "\n\n"
    << "Machine: " << machine << "\n\nCommand: `" << r.command << "`\n\n"
    << "The simulator (`booktape sim`, nice 19) and the recorder (`booktape record`) run on the "
       "same machine, two processes on loopback. A point is **sustained** when nothing was lost "
       "and every frame reached the recorder within 3% of the offered pace. CPU per frame is "
       "the recorder process's (getrusage), split by thread from /proc; \"other\" is the REST, "
       "control and main threads. Latencies are the recorder's own histograms (upper bucket "
       "edges, within 6.25%).\n\n## Highest sustained rate\n\n"
    << "| configuration | frames/s sustained | CPU per frame there | read->book p99 there |\n"
    << "| --- | ---: | ---: | ---: |\n";
  for (const std::string& c : configs_of(r.points)) {
    const Point* best = nullptr;
    for (const Point& p : r.points)
      if (p.config == c && p.sustained() && (!best || p.scenario.rate > best->scenario.rate))
        best = &p;
    if (!best) {
      o << "| " << c << " | none | | |\n";
      continue;
    }
    o << "| " << c << " | " << fmt("%.0f", best->result.frames_per_second()) << " | "
      << fmt("%.1f us", best->result.cpu_ns_per_frame() / 1e3) << " | "
      << fmt_ns(best->result.read_to_book.p99) << " |\n";
  }
  if (const double sat = saturated_ns(r, false); sat > 0) {
    const double goal = paced_goal_ns(r);
    o << "\n## Paced against saturated: CPU per frame in a steady window\n\n"
      << "The recorder's CPU (every thread, from /proc/PID/task/*/schedstat) over a window of "
         "steady generation (from 1 s after its first summary counting frames to 1.5 s before "
         "the end), per frame "
         "read in it. Saturated (as fast as the simulator sends; the median of its runs): **"
      << fmt("%.2f us", sat / 1e3)
      << "** a frame. Goal at paced rates: at most max(1.5x that, 10 us) = **"
      << fmt("%.2f us", goal / 1e3)
      << "**. Load: the machine's 1-minute load average at the "
         "window's start; busy: the share of all cpus busy in the window (every process).\n\n";
    if (!r.baseline.empty())
      o << "Baseline: `" << r.baseline << "` runs the recorder of the rows named `"
        << kBaselinePrefix
        << "...` (the simulator is this build in both); each point ran this "
           "build and the baseline back to back, the baseline first in every other round.\n\n";
    o << "| configuration | offered | frames in window | CPU/frame | net | book | archive | other "
         "| CPU (cores) | read->book p50 / p99 | load | busy | goal |\n"
      << "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- "
         "|\n";
    for (const Point& p : r.points) {
      const Result& x = p.result;
      if (!in_paced(p)) continue;
      std::int64_t other = 0, total = 0;
      for (const auto& [name, ns] : x.window_cpu_ns_by_thread) {
        total += ns;
        if (name != "bt-net" && name != "bt-book" && name != "bt-archive") other += ns;
      }
      const double per = x.window_cpu_ns_per_frame();
      o << "| " << p.config << " | " << (p.scenario.rate > 0 ? fmt("%.0f", p.scenario.rate) : "max")
        << " | " << x.window_frames << " | " << fmt("%.2f us", per / 1e3) << " | "
        << fmt("%.2f", x.window_cpu_ns_per_frame("bt-net") / 1e3) << " | "
        << fmt("%.2f", x.window_cpu_ns_per_frame("bt-book") / 1e3) << " | "
        << fmt("%.2f", x.window_cpu_ns_per_frame("bt-archive") / 1e3) << " | "
        << fmt("%.2f", static_cast<double>(other) / static_cast<double>(x.window_frames) / 1e3)
        << " | " << fmt("%.3f", static_cast<double>(total) / 1e9 / x.window_seconds) << " | "
        << fmt_ns(x.read_to_book.p50) << " / " << fmt_ns(x.read_to_book.p99) << " | "
        << fmt("%.2f", x.load_1m) << " | " << fmt("%.0f%%", 100 * x.machine_busy) << " | "
        << (p.scenario.rate <= 0                    ? "reference"
            : per <= paced_goal_ns(r, p.baseline()) ? "met"
                                                    : "**missed**")
        << " |\n";
    }
    o << "\n![CPU per frame](cpu.svg)\n";
    medians_table(o, r);
  }
  o << "\n![throughput](throughput.svg)\n\n![latency](latency.svg)\n\n## Every point\n\n"
    << "| configuration | offered | simulator sent | achieved | loss | sustained | CPU/frame | net | book | "
       "archive | other | read->book p50 / p99 / p99.9 / max | read->archive p50 / p99 / p99.9 / "
       "max | ring high-water | full waits | RSS | RSS / token |\n"
    << "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | "
       "---: | ---: | ---: |\n";
  for (const Point& p : r.points) {
    const Result& x = p.result;
    if (!x.ok) {
      o << "| " << p.config << " | " << fmt("%.0f", p.scenario.rate) << " | failed: " << x.error
        << " ||||||||||||||\n";
      continue;
    }
    auto lat = [](const Latency& l) {
      return fmt_ns(l.p50) + " / " + fmt_ns(l.p99) + " / " + fmt_ns(l.p999) + " / " +
             fmt_ns(l.max);
    };
    o << "| " << p.config << " | " << fmt("%.0f", p.scenario.rate) << " | "
      << fmt("%.0f", static_cast<double>(x.sent) / p.scenario.seconds)
      << (p.scenario.rate > 0 && static_cast<double>(x.sent) < 0.97 * p.scenario.rate * p.scenario.seconds
              ? " (behind)"
              : "")
      << " | " << fmt("%.0f", x.frames_per_second()) << " | " << x.loss() << " | "
      << (p.sustained() ? "yes" : "**no**") << " | " << fmt("%.0f ns", x.cpu_ns_per_frame())
      << " | " << fmt("%.0f", stage_ns(x, "bt-net")) << " | "
      << fmt("%.0f", stage_ns(x, "bt-book")) << " | " << fmt("%.0f", stage_ns(x, "bt-archive"))
      << " | " << fmt("%.0f", stage_ns(x, "")) << " | " << lat(x.read_to_book) << " | "
      << lat(x.read_to_archive) << " | "
      << (x.ring_bytes ? fmt_bytes(x.ring_high_water) + " of " + fmt_bytes(x.ring_bytes) : "-")
      << " | " << x.ring_full_waits << " | " << fmt_bytes(x.rss_bytes) << " | "
      << (x.tokens ? fmt_bytes(x.rss_bytes / x.tokens) : "-") << " |\n";
  }
  if (!r.memory.empty()) {
    o << "\n## Memory per tracked token\n\nThe same load (" << fmt("%.0f", r.memory[0].scenario.rate)
      << " frames/s) with more markets; RSS read from /proc when every frame was in. The slope "
         "between the smallest and the largest run is what one more token costs; RSS / tokens "
         "also carries the fixed rings and buffers.\n\n"
      << "| markets | tokens | RSS | peak RSS | RSS / token |\n| ---: | ---: | ---: | ---: | ---: |\n";
    for (const Point& p : r.memory) {
      const Result& x = p.result;
      o << "| " << p.scenario.markets << " | " << x.tokens << " | " << fmt_bytes(x.rss_bytes)
        << " | " << fmt_bytes(x.rss_peak_bytes) << " | "
        << (x.tokens ? fmt_bytes(x.rss_bytes / x.tokens) : "-") << " |\n";
    }
    const Result& a = r.memory.front().result;
    const Result& b = r.memory.back().result;
    if (b.tokens > a.tokens) {
      const double slope = (static_cast<double>(b.rss_bytes) - static_cast<double>(a.rss_bytes)) /
                           static_cast<double>(b.tokens - a.tokens);
      o << "\nMarginal RSS per token: **" << fmt("%.1f KiB", slope / 1024) << "**.\n";
    }
  }
  return o.str();
}

}  // namespace

bool Point::sustained() const noexcept {
  return result.ok && result.loss() == 0 && result.sent > 0 &&
         (scenario.rate <= 0 || result.frames_per_second() >= 0.97 * scenario.rate);
}

std::string describe_machine() {
  std::string model = "unknown cpu";
  {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) == 0) {
        model = line.substr(line.find(':') + 2);
        break;
      }
    }
  }
  std::uint64_t mem_kb = 0;
  {
    std::ifstream in("/proc/meminfo");
    std::string key;
    in >> key >> mem_kb;
  }
  utsname u{};
  ::uname(&u);
  return std::to_string(std::thread::hardware_concurrency()) + " cpus of " + model + ", " +
         fmt("%.0f GiB", static_cast<double>(mem_kb) / (1024.0 * 1024.0)) + ", Linux " +
         u.release + ", g++ " + __VERSION__ + ", booktape " BOOKTAPE_VERSION;
}

void write_report(const Report& r, const fs::path& dir) {
  fs::create_directories(dir);
  const std::string machine = describe_machine();
  {
    std::ofstream o(dir / "report.json");
    o << "{\"title\":\"" << escaped(r.title) << "\",\"command\":\"" << escaped(r.command)
      << "\",\"baseline\":\"" << escaped(r.baseline) << "\",\"machine\":\"" << escaped(machine)
      << "\",\"reference_rate\":" << r.reference_rate << ",\"points\":[";
    for (std::size_t i = 0; i < r.points.size(); ++i)
      o << (i ? ",\n" : "\n") << point_json(r.points[i]);
    o << "],\"memory\":[";
    for (std::size_t i = 0; i < r.memory.size(); ++i)
      o << (i ? ",\n" : "\n") << point_json(r.memory[i]);
    o << "]}\n";
  }
  std::ofstream(dir / "report.md") << markdown(r, machine);
  std::ofstream(dir / "throughput.svg") << throughput_svg(r);
  std::ofstream(dir / "latency.svg") << latency_svg(r, points_at_reference(r));
  std::ofstream(dir / "cpu.svg") << cpu_svg(r);
}

}  // namespace booktape::perf
