#include "codecs/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace booktape {

namespace {

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A round step for about `n` ticks up to `max`: 1, 2 or 5 times a power of ten.
double nice_step(double max, int n) {
  const double raw = max / n;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

std::string hhmm(UnixNanos t, bool with_date) {
  const CivilTime c = to_civil(t);
  char b[32];
  if (with_date) {
    std::snprintf(b, sizeof b, "%02d-%02d %02d:%02d", c.month, c.day, c.hour, c.minute);
  } else {
    std::snprintf(b, sizeof b, "%02d:%02d:%02d", c.hour, c.minute, c.second);
  }
  return b;
}

}  // namespace

SvgCanvas::SvgCanvas(int width, int height) {
  o_ << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
     << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
        "fill=\"white\"/>\n";
}

void SvgCanvas::line(double x1, double y1, double x2, double y2, const std::string& style) {
  o_ << "<line x1=\"" << x1 << "\" y1=\"" << y1 << "\" x2=\"" << x2 << "\" y2=\"" << y2
     << "\" style=\"" << style << "\"/>\n";
}

void SvgCanvas::text(double x, double y, const std::string& t, const std::string& anchor,
                     const std::string& extra) {
  o_ << "<text x=\"" << x << "\" y=\"" << y << "\" text-anchor=\"" << anchor << "\" " << extra
     << ">" << xml_escape(t) << "</text>\n";
}

void SvgCanvas::polyline(const std::vector<std::pair<double, double>>& pts,
                         const std::string& colour, bool dashed, bool dots) {
  o_ << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\""
     << (dashed ? " stroke-dasharray=\"6,4\"" : "") << " points=\"";
  for (const auto& [x, y] : pts) o_ << x << "," << y << " ";
  o_ << "\"/>\n";
  if (!dots) return;
  for (const auto& [x, y] : pts)
    o_ << "<circle cx=\"" << x << "\" cy=\"" << y << "\" r=\"3\" fill=\"" << colour << "\"/>\n";
}

void SvgCanvas::dot(double x, double y, const std::string& colour) {
  o_ << "<circle cx=\"" << x << "\" cy=\"" << y << "\" r=\"2\" fill=\"" << colour
     << "\" fill-opacity=\"0.45\"/>\n";
}

std::string SvgCanvas::done() { return o_.str() + "</svg>\n"; }

std::string time_series_svg(const TimeSeriesPlot& p) {
  const int w = 900, h = 420, l = 90, t = 40, pw = 620, ph = 300;
  UnixNanos t0 = 0, t1 = 0;
  double vmax = 0;
  bool any = false;
  for (const TimeSeries& s : p.series) {
    for (const auto& [tt, v] : s.points) {
      if (!any || tt < t0) t0 = tt;
      if (!any || tt > t1) t1 = tt;
      vmax = std::max(vmax, v);
      any = true;
    }
  }
  if (t1 <= t0) t1 = t0 + kNanosPerSecond;
  if (vmax <= 0) vmax = 1;
  const double step = nice_step(vmax, 5);
  vmax = std::ceil(vmax / step) * step;
  auto x = [&](UnixNanos tt) {
    return l + pw * static_cast<double>(tt - t0) / static_cast<double>(t1 - t0);
  };
  auto y = [&](double v) { return t + ph - ph * v / vmax; };
  auto label = [&p](double v) {
    if (p.y_format) return p.y_format(v);
    char b[32];
    std::snprintf(b, sizeof b, "%.0f", v);
    return std::string(b);
  };
  SvgCanvas s(w, h);
  s.text(l + pw / 2.0, 20, p.title);
  for (double v = 0; v <= vmax + step / 2; v += step) {
    s.line(l, y(v), l + pw, y(v), "stroke:#ddd");
    s.text(l - 6, y(v) + 4, label(v), "end");
  }
  const bool days = t1 - t0 > 20 * 3'600 * kNanosPerSecond;
  for (int i = 0; i <= 6; ++i) {
    const UnixNanos tt = t0 + (t1 - t0) * i / 6;
    s.line(x(tt), t, x(tt), t + ph, "stroke:#eee");
    s.text(x(tt), t + ph + 16, hhmm(tt, days));
  }
  s.text(l + pw / 2.0, t + ph + 36, "time (UTC)" + std::string(days ? "" : ", " + format_utc(t0).substr(0, 10)));
  s.text(18, t + ph / 2.0, p.y_label, "middle",
         "transform=\"rotate(-90 18 " + std::to_string(t + ph / 2) + ")\"");
  for (std::size_t c = 0; c < p.series.size(); ++c) {
    const TimeSeries& ts = p.series[c];
    std::vector<std::pair<double, double>> pts;
    for (std::size_t i = 0; i < ts.points.size(); ++i) {
      if (ts.step && i > 0) pts.emplace_back(x(ts.points[i].first), y(ts.points[i - 1].second));
      pts.emplace_back(x(ts.points[i].first), y(ts.points[i].second));
    }
    const char* colour = kSvgColours[c % kSvgColours.size()];
    s.polyline(pts, colour, false, ts.points.size() <= 60);
    s.line(l + pw + 20, t + 10 + 20.0 * static_cast<double>(c), l + pw + 44,
           t + 10 + 20.0 * static_cast<double>(c), std::string("stroke-width:3;stroke:") + colour);
    s.text(l + pw + 50, t + 14 + 20.0 * static_cast<double>(c), ts.name, "start");
  }
  return s.done();
}

}  // namespace booktape
