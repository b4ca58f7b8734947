// booktape top: seed 003's terminal dashboard over a recorder's operator listener
// (docs/OPERATIONS.md). Wiring only: the layout is io/record/top_view; this file reads /status
// once a second and draws it with plain ANSI escapes (no curses: they are all it needs, and it
// works in any terminal and over ssh), reads the sort keys, and restores the terminal on the
// way out. When stdout is not a terminal it prints the same view as plain text, once per
// refresh, for a log or a pipe.
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <string>

#include "apps/commands.hpp"
#include "io/net/http_client.hpp"
#include "io/net/http_server.hpp"
#include "io/record/top_view.hpp"

namespace booktape::apps {

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_resized = 0;
extern "C" void on_top_stop(int) {
  g_stop = 1;
}
extern "C" void on_top_resize(int) {
  g_resized = 1;
}

struct TopFlags {
  std::string http = "127.0.0.1:9464";
  std::string sort = "market";
  double interval = 1;
  int iterations = 0;
};

// The terminal in a mode for a full-screen view (keys without Enter, no echo, the alternate
// screen, no cursor) while it lives.
class Screen {
 public:
  Screen() {
    if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      restore_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    std::fputs("\033[?1049h\033[?25l", stdout);
  }
  ~Screen() {
    std::fputs("\033[?25h\033[?1049l", stdout);
    std::fflush(stdout);
    if (restore_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

  static void size(int& width, int& height) {
    winsize w{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 0) {
      width = w.ws_col;
      height = w.ws_row;
    }
  }

  // Draws `lines` from the top-left, clearing what the previous frame left.
  static void draw(const std::vector<std::string>& lines) {
    std::string s = "\033[H";
    for (const std::string& l : lines) s += l + "\033[K\r\n";
    s += "\033[J";
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  }

 private:
  termios saved_{};
  bool restore_ = false;
};

// One /status, read into `m`; "" or why it could not be.
std::string fetch(HttpClient& client, TopModel& m) {
  try {
    const HttpResponse r = client.get("/status?tokens=5000");
    if (r.status != 200) return "HTTP " + std::to_string(r.status) + " from /status";
    std::string error;
    if (!parse_top_status(r.body, m, error)) return error;
    return "";
  } catch (const HttpError& e) {
    return e.what();
  }
}

int run_top(const TopFlags& f) {
  std::string host;
  std::uint16_t port = 0;
  if (!parse_listen_address(f.http, host, port) || port == 0) {
    std::fprintf(stderr,
                 "booktape top: --http: expected HOST:PORT of a recorder's operator listener "
                 "(record --http 127.0.0.1:9464), got '%s'\n",
                 f.http.c_str());
    return 2;
  }
  TopLayout layout;
  if (!parse_top_sort(f.sort, layout.sort)) {
    std::fprintf(stderr,
                 "booktape top: --sort: expected market, spread, age or updates, got '%s'\n",
                 f.sort.c_str());
    return 2;
  }
  if (!(f.interval >= 0.1 && f.interval <= 3600)) {
    std::fprintf(stderr, "booktape top: --interval: expected seconds from 0.1 to 3600, got %g\n",
                 f.interval);
    return 2;
  }
  HttpClientOptions o;
  o.base_url = "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
               std::to_string(port);
  o.timeout = std::chrono::milliseconds(2000);
  HttpClient client(o);

  std::signal(SIGINT, on_top_stop);
  std::signal(SIGTERM, on_top_stop);
  std::signal(SIGPIPE, SIG_IGN);
  const bool tty = ::isatty(STDOUT_FILENO) != 0 && ::isatty(STDIN_FILENO) != 0;
  const auto wait_ms = static_cast<int>(f.interval * 1000);
  TopModel model;
  std::string error = "connecting to " + o.base_url + " ...";
  bool ever = false;

  if (!tty) {
    // Plain, periodic: the whole view each refresh, a blank line between; as wide as it takes.
    layout.width = 200;
    for (int i = 0; g_stop == 0 && (f.iterations == 0 || i < f.iterations); ++i) {
      if (i > 0) ::poll(nullptr, 0, wait_ms);
      error = fetch(client, model);
      if (error.empty()) {
        ever = true;
        for (const std::string& l : render_top(model, layout)) std::printf("%s\n", l.c_str());
      } else {
        std::printf("booktape top: cannot read %s/status: %s\n", o.base_url.c_str(), error.c_str());
      }
      std::printf("\n");
      std::fflush(stdout);
    }
    return ever ? 0 : 1;
  }

  std::signal(SIGWINCH, on_top_resize);
  layout.color = true;
  layout.keys = true;
  Screen screen;
  for (int i = 0; g_stop == 0 && (f.iterations == 0 || i < f.iterations); ++i) {
    error = fetch(client, model);
    ever |= error.empty();
    // Keys (and resizes) redraw at once; the next fetch is due one interval after this one.
    const auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    for (bool redraw = true; g_stop == 0;) {
      if (redraw || g_resized != 0) {
        g_resized = 0;
        Screen::size(layout.width, layout.height);
        std::vector<std::string> lines;
        if (ever) lines = render_top(model, layout);
        if (!error.empty()) {
          lines.insert(lines.begin(), "booktape top: cannot read " + o.base_url + "/status: " +
                                          error + " (retrying every second; q quits)");
        }
        Screen::draw(lines);
      }
      redraw = false;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          due - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{STDIN_FILENO, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;  // a signal, or time
      char key = 0;
      if (::read(STDIN_FILENO, &key, 1) != 1) continue;
      switch (key) {
        case 'q':
        case 'Q':
          g_stop = 1;
          break;
        case 'm':
          layout.sort = TopSort::kMarket;
          break;
        case 's':
          layout.sort = TopSort::kSpread;
          break;
        case 'a':
          layout.sort = TopSort::kAge;
          break;
        case 'u':
          layout.sort = TopSort::kUpdates;
          break;
        case 'r':
          layout.descending = !layout.descending;
          break;
        default:
          continue;
      }
      redraw = true;
    }
  }
  return ever ? 0 : 1;
}

}  // namespace

Command add_top_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "top",
      "Terminal dashboard of a running recorder (its --http listener): connection health, one "
      "row per asset (market, outcome, best bid/ask, spread in bps, age of the last update, "
      "updates/s), latency avg/p50/p95/max, books silent over 10 s highlighted. Refreshes every "
      "second; keys m s a u sort by market, spread, age, updates/s, r reverses, q quits. When "
      "stdout is not a terminal it prints the view as plain text each refresh. Exit code 0; 1 if "
      "the recorder never answered; 2 for a bad flag.");
  auto f = std::make_shared<TopFlags>();
  cmd->add_option("--http", f->http, "The recorder's operator listener")
      ->type_name("HOST:PORT")
      ->default_val(f->http);
  cmd->add_option("--sort", f->sort, "Row order: market, spread, age or updates")
      ->type_name("KEY")
      ->default_val(f->sort);
  cmd->add_option("--interval", f->interval, "Seconds between refreshes")
      ->type_name("S")
      ->default_val(f->interval);
  cmd->add_option("-n,--iterations", f->iterations, "Stop after N refreshes (0: until q or Ctrl-C)")
      ->type_name("N")
      ->default_val(f->iterations);
  return [f] { return run_top(*f); };
}

}  // namespace booktape::apps
