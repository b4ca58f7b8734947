#include "io/record/operator_view.hpp"

#include <sys/statvfs.h>

#include <algorithm>

namespace booktape {

namespace {
constexpr std::int64_t kWalkEveryNs = 60 * kNanosPerSecond;  // the archive's size: a directory walk
}  // namespace

std::vector<std::string> book_state_names() {
  std::vector<std::string> names;
  // Every value BookState names, in order: a state added to the keeper shows up here.
  for (int i = 0; i < 16; ++i) {
    const std::string name = to_string(static_cast<BookState>(i));
    if (name == "?") break;
    names.push_back(name);
  }
  if (std::find(names.begin(), names.end(), "unconfirmed") == names.end())
    names.emplace_back("unconfirmed");
  return names;
}

OperatorView::OperatorView(std::filesystem::path archive_root)
    : root_(std::move(archive_root)), latest_(std::make_shared<OperatorSnapshot>()) {
  disk_.path = root_.string();
}

void OperatorView::set_plan(const SubscriptionPlan& plan) {
  std::unordered_map<std::string, TokenIndex> known;
  for (const PlanToken& t : plan_) known.emplace(t.info.token_id, t.book);
  plan_.clear();
  for (std::size_t s = 0; s < plan.shard_count(); ++s) {
    for (const TokenInfo& info : plan.shard(s)) {
      PlanToken t;
      t.info = info;
      t.shard = static_cast<std::uint32_t>(s);
      const auto it = known.find(info.token_id);
      t.book = it != known.end() ? it->second : kNoToken;
      plan_.push_back(std::move(t));
    }
  }
  // By market; within one, the plan's order (discovery's outcome order: Up before Down).
  std::stable_sort(plan_.begin(), plan_.end(), [](const PlanToken& a, const PlanToken& b) {
    return a.info.market_slug < b.info.market_slug;
  });
}

void OperatorView::refresh(BookStage& book, NetworkStage& net, std::uint64_t frames, MonoNanos now,
                           const std::function<std::string(double)>& status_line) {
  auto snap = std::make_shared<OperatorSnapshot>();
  snap->taken_mono = now;
  snap->taken_at = realtime_now();

  // Books: learn the indices of new tokens, then rates over the last sweep interval.
  bool fresh = false;
  const BookHealth& bh = book.health(&fresh);
  snap->books_taken_mono = bh.taken_mono;
  for (std::size_t i = book_index_.size(); i < bh.tokens.size(); ++i)
    book_index_.emplace(bh.tokens[i].asset_id, static_cast<TokenIndex>(i));
  std::vector<double> rates(bh.tokens.size(), 0.0);
  const double dt_book = static_cast<double>(bh.taken_mono - prev_mono_) / 1e9;
  for (std::size_t i = 0; i < bh.tokens.size(); ++i) {
    const std::uint64_t before = i < prev_updates_.size() ? prev_updates_[i] : 0;
    if (prev_mono_ != 0 && dt_book > 0 && bh.tokens[i].updates >= before)
      rates[i] = static_cast<double>(bh.tokens[i].updates - before) / dt_book;
  }
  if (fresh) {
    prev_updates_.resize(bh.tokens.size());
    for (std::size_t i = 0; i < bh.tokens.size(); ++i) prev_updates_[i] = bh.tokens[i].updates;
    prev_mono_ = bh.taken_mono;
    last_rates_ = rates;
  } else {
    rates = last_rates_;  // no new sweep since: the last known rates
    rates.resize(bh.tokens.size(), 0.0);
  }

  for (const std::string& name : book_state_names()) snap->books_by_state[name] = 0;
  snap->tokens.reserve(plan_.size());
  for (PlanToken& t : plan_) {
    if (t.book == kNoToken) {
      const auto it = book_index_.find(t.info.token_id);
      if (it != book_index_.end()) t.book = it->second;
    }
    TokenRow& r = snap->tokens.emplace_back();
    r.asset_id = t.info.token_id;
    r.market = t.info.market_slug;
    r.outcome = t.info.outcome;
    r.connection = t.shard;
    r.has_book = t.book != kNoToken && t.book < bh.tokens.size();
    if (r.has_book) {
      r.book = bh.tokens[t.book];
      r.updates_per_second = rates[t.book];
    }
    ++snap->books_by_state[to_string(r.has_book ? r.book.state : BookState::kAwaitingSnapshot)];
  }

  const ConnectionsHealth& links = net.connections();
  snap->connections = links.shards;
  snap->connections_taken_mono = links.taken_mono;

  const double dt = static_cast<double>(now - prev_frames_mono_) / 1e9;
  if (prev_frames_mono_ != 0 && dt > 0 && frames >= prev_frames_) {
    history_.push_back(static_cast<double>(frames - prev_frames_) / dt);
    if (history_.size() > OperatorSnapshot::kHistory) history_.erase(history_.begin());
  }
  prev_frames_ = frames;
  prev_frames_mono_ = now;
  snap->frames_per_second = history_.empty() ? 0 : history_.back();
  snap->frames_history = history_;
  snap->status_line = status_line(snap->frames_per_second);

  struct statvfs fs {};
  if (::statvfs(root_.c_str(), &fs) == 0) {
    disk_.free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    disk_.total_bytes = static_cast<std::uint64_t>(fs.f_blocks) * fs.f_frsize;
  }
  if (now >= next_walk_) {
    next_walk_ = now + kWalkEveryNs;
    std::uint64_t bytes = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(root_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code size_ec;
      if (it->is_regular_file(size_ec)) {
        const std::uintmax_t n = it->file_size(size_ec);
        if (!size_ec) bytes += n;
      }
    }
    disk_.archive_bytes = bytes;
  }
  snap->disk = disk_;

  const std::lock_guard<std::mutex> lock(mu_);
  latest_ = std::move(snap);
}

std::shared_ptr<const OperatorSnapshot> OperatorView::latest() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

}  // namespace booktape
