#pragma once
// SVG plots written by hand (no plotting library on the box that runs the report): a canvas
// with lines, text and polylines, and a time-series chart on top of it. Used by the
// performance report (perf/perf_report.cpp) and the soak report (io/replay/soak_report.cpp).
#include <array>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"

namespace booktape {

// Curve colours, in order (Tableau's first six).
inline constexpr std::array<const char*, 6> kSvgColours = {"#1f77b4", "#d62728", "#2ca02c",
                                                           "#9467bd", "#ff7f0e", "#8c564b"};

class SvgCanvas {
 public:
  SvgCanvas(int width, int height);
  void line(double x1, double y1, double x2, double y2, const std::string& style);
  // `t` is escaped for XML.
  void text(double x, double y, const std::string& t, const std::string& anchor = "middle",
            const std::string& extra = "");
  // With a dot at every point unless `dots` is false; `step` draws horizontal-then-vertical.
  void polyline(const std::vector<std::pair<double, double>>& pts, const std::string& colour,
                bool dashed, bool dots = true);
  // One faint sample point (the runs behind a median).
  void dot(double x, double y, const std::string& colour);
  std::string done();

 private:
  std::ostringstream o_;
};

struct TimeSeries {
  std::string name;
  std::vector<std::pair<UnixNanos, double>> points;  // in time order
  bool step = false;  // a count that holds until the next point (disk use), not a rate
};

struct TimeSeriesPlot {
  std::string title;
  std::string y_label;
  std::vector<TimeSeries> series;
  std::function<std::string(double)> y_format;  // tick labels; default: "%.0f"
};

// A chart of one or more series against UTC time, y from 0 to a rounded maximum.
std::string time_series_svg(const TimeSeriesPlot& p);

}  // namespace booktape
