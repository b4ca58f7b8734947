#include "io/consumers/alert_delivery.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "core/clock.hpp"
#include "core/thread_util.hpp"
#include "io/net/http_client.hpp"
#include "io/net/url.hpp"

extern char** environ;

namespace booktape {

std::string run_command(const std::vector<std::string>& argv, const std::string& input,
                        double timeout_seconds) {
  if (argv.empty()) return "no command";
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  if (rc != 0) {
    ::close(in[1]);
    return "cannot run " + argv[0] + ": " + std::strerror(rc);
  }
  // The alert is small (a pipe holds 64 KiB): the write does not wait for the child. A child
  // that exits without reading gives EPIPE (SIGPIPE is blocked on the calling thread).
  std::size_t off = 0;
  while (off < input.size()) {
    const ssize_t n = ::write(in[1], input.data() + off, input.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  ::close(in[1]);
  const MonoNanos deadline = monotonic_now() + static_cast<std::int64_t>(timeout_seconds * 1e9);
  int status = 0;
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) return std::string("waitpid: ") + std::strerror(errno);
    if (monotonic_now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return argv[0] + " did not finish within its timeout; killed";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFEXITED(status))
    return argv[0] + " exited with status " + std::to_string(WEXITSTATUS(status));
  return argv[0] + " was killed by signal " + std::to_string(WTERMSIG(status));
}

struct AlertDelivery::Impl {
  Impl(AlertDeliveryOptions o, std::function<void(std::string)> n)
      : opt(std::move(o)), notice(std::move(n)) {
    if (!opt.webhook_url.empty()) {
      const std::optional<Url> u = parse_url(opt.webhook_url);
      if (!u || (u->scheme != "http" && u->scheme != "https"))
        throw std::runtime_error("alert webhook: expected an http:// or https:// URL");
      target = u->target;
      // Only scheme://host[:port] ever appears in a message: a bot token is often in the path.
      shown = redact_webhook_url(opt.webhook_url);
      HttpClientOptions h;
      h.base_url = u->scheme + "://" + u->host_port();
      h.ca_file = opt.ca_file;
      h.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(opt.timeout_seconds * 1000));
      h.max_body = 1 << 20;
      h.cancel = &cancel;
      http = std::make_unique<HttpClient>(h);
    }
    thread = std::thread([this] { run(); });
  }
  ~Impl() {
    {
      const std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    cv.notify_all();
    // What is queued gets up to one timeout to go out; then a request under way is abandoned.
    std::unique_lock<std::mutex> lock(mu);
    done_cv.wait_for(lock, std::chrono::duration<double>(opt.timeout_seconds),
                     [this] { return finished; });
    cancel.store(true);
    lock.unlock();
    thread.join();
  }

  void run();
  bool deliver(const AlertMessage& m);
  std::string webhook(const AlertMessage& m);

  AlertDeliveryOptions opt;
  std::function<void(std::string)> notice;
  AlertDeliveryStats stats;
  std::unique_ptr<HttpClient> http;
  std::string target, shown;
  std::atomic<bool> cancel{false};
  std::mutex mu;  // alerts are rare: a lock on the consumer thread, never on the book thread
  std::condition_variable cv, done_cv;
  std::deque<AlertMessage> queue;
  bool stopping = false, finished = false;
  std::thread thread;
};

std::string AlertDelivery::Impl::webhook(const AlertMessage& m) {
  try {
    if (m.received_ns > 0) stats.frame_to_webhook.record(realtime_now() - m.received_ns);
    const HttpResponse r = http->post_json(target, m.json);
    if (r.status >= 200 && r.status < 300) return {};
    return shown + " answered HTTP " + std::to_string(r.status);
  } catch (const std::exception& e) {
    return shown + ": " + e.what();
  }
}

bool AlertDelivery::Impl::deliver(const AlertMessage& m) {
  bool ok = true;
  for (int channel = 0; channel < 2; ++channel) {
    if (channel == 0 && !http) continue;
    if (channel == 1 && opt.command.empty()) continue;
    std::string why;
    for (int attempt = 0; attempt < opt.attempts; ++attempt) {
      if (attempt > 0) {
        stats.retries.fetch_add(1, std::memory_order_relaxed);
        if (cancel.load()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(250 << (attempt - 1)));
      }
      // A command gets a line (for line-based tools: tee, jq, logger); a webhook the JSON.
      why =
          channel == 0 ? webhook(m) : run_command(opt.command, m.json + '\n', opt.timeout_seconds);
      if (why.empty()) break;
    }
    if (!why.empty()) {
      ok = false;
      notice("alert delivery failed after " + std::to_string(opt.attempts) + " attempt(s): " + why);
    }
  }
  return ok;
}

void AlertDelivery::Impl::run() {
  name_current_thread("bt-alerts");
  // A command that exits without reading its stdin must not kill the recorder with SIGPIPE.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    cv.wait(lock, [this] { return stopping || !queue.empty(); });
    if (queue.empty()) break;  // stopping, and nothing left
    AlertMessage m = std::move(queue.front());
    queue.pop_front();
    lock.unlock();
    const bool ok = deliver(m);
    (ok ? stats.delivered : stats.failed).fetch_add(1, std::memory_order_relaxed);
    timespec zero{};
    while (sigtimedwait(&pipe, nullptr, &zero) > 0) {
    }  // a SIGPIPE left pending by an EPIPE
    lock.lock();
  }
  finished = true;
  done_cv.notify_all();
}

AlertDelivery::AlertDelivery(AlertDeliveryOptions options, std::function<void(std::string)> notice)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(notice))) {}

AlertDelivery::~AlertDelivery() = default;

void AlertDelivery::post(AlertMessage m) {
  Impl& im = *impl_;
  {
    const std::lock_guard<std::mutex> lock(im.mu);
    if (im.queue.size() >= im.opt.queue) {
      im.stats.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    im.queue.push_back(std::move(m));
  }
  im.cv.notify_one();
}

const AlertDeliveryStats& AlertDelivery::stats() const noexcept {
  return impl_->stats;
}

}  // namespace booktape
