#include "io/archive/writer.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "io/archive/paths.hpp"

namespace booktape {

namespace fs = std::filesystem;

namespace {
// How long after an hour ends poll() waits before sealing its file (frames read before the end
// may still be in the ring); a frame of the next hour seals it at once.
constexpr std::int64_t kSealGraceNs = 2'000'000'000;
}  // namespace

const char* to_string(FsyncPolicy p) noexcept {
  switch (p) {
    case FsyncPolicy::kNone: return "none";
    case FsyncPolicy::kOnClose: return "close";
    case FsyncPolicy::kInterval: return "interval";
    case FsyncPolicy::kEveryBlock: return "block";
  }
  return "?";
}

bool parse_fsync_policy(std::string_view s, FsyncPolicy& out) noexcept {
  if (s == "none") out = FsyncPolicy::kNone;
  else if (s == "close") out = FsyncPolicy::kOnClose;
  else if (s == "interval") out = FsyncPolicy::kInterval;
  else if (s == "block") out = FsyncPolicy::kEveryBlock;
  else return false;
  return true;
}


struct ArchiveWriter::OpenFile {
  OpenFile() = default;
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);  // a writer destroyed while the disk still refuses
  }
  int fd = -1;
  UnixNanos hour_start = 0;
  fs::path dir, open_path, final_path;
  dev_t dev = 0;            // the file we created, to tell it from another at its path
  ino_t ino = 0;
  std::uint64_t bytes = 0;  // bytes on disk, always whole members
  bool unsynced = false;
  bool vanished = false;    // deleted or moved while open: closed, no entry, its blocks lost
  Sha256 sha;               // running digest of the bytes on disk
  ManifestEntry entry;      // counts of the blocks written so far
  LossSpan written;         // the frames in those blocks (what a vanished file takes along)
  std::vector<LossRecord> losses;  // loss records in those blocks (they go too)
};

void ArchiveWriter::Block::clear() noexcept {
  bytes.clear();
  rows = 0;
  frames = 0;
  has_started = false;
  clear_counts(counts);
  span.clear();
  losses.clear();
}

ArchiveWriter::ArchiveWriter(ArchiveWriterOptions options)
    : opt_(std::move(options)), gzip_(opt_.gzip_level) {
  if (opt_.root.empty()) throw std::invalid_argument("archive root is empty");
  if (opt_.manifest_dir.empty()) opt_.manifest_dir = opt_.root / "manifests";
  if (opt_.run_id.empty()) opt_.run_id = make_run_id(realtime_now());
  if (opt_.block_bytes == 0 || opt_.block_bytes > kMaxBlockRawBytes / 2)
    throw std::invalid_argument("block_bytes must be between 1 and 512 MiB");
  block_.bytes.reserve(opt_.block_bytes + (std::size_t{64} << 10));
  member_.reserve(gzip_.bound(opt_.block_bytes + (std::size_t{64} << 10)));
}

ArchiveWriter::~ArchiveWriter() {
  try {
    close();
  } catch (const std::exception& e) {
    stats_.last_error = e.what();
  }
}

void ArchiveWriter::open_file(UnixNanos hour_start, UnixNanos now) {
  // The file itself is created with its first block (create_file): a directory or file that
  // cannot be made then fails like a refused write, never the thread.
  auto f = std::make_unique<OpenFile>();
  f->hour_start = hour_start;
  f->dir = archive_hour_dir(opt_.root, opt_.venue, opt_.stream, hour_start);
  // The name is chosen now, so the file record names the file its block lands in; one that is
  // taken (a writer given the same run id before) is skipped.
  for (;;) {
    ++file_sequence_;
    const std::string name =
        archive_file_name(opt_.venue, opt_.stream, hour_start, opt_.run_id, file_sequence_);
    f->final_path = f->dir / name;
    f->open_path = f->dir / open_name(name);
    std::error_code ec1, ec2;
    if (!fs::exists(f->final_path, ec1) && !fs::exists(f->open_path, ec2)) break;
  }
  f->entry.run_id = opt_.run_id;
  f->entry.file_sequence = file_sequence_;
  file_ = std::move(f);
  // Each file stands alone: its first lines say what it is and which sessions are open.
  add_record(render_file_record(opt_.run_id, file_sequence_, now, opt_.envelope,
                                opt_.writer_version));
  for (const auto& [id, s] : sessions_) add_record(render_session_record(s.info, "continued", now));
}

bool ArchiveWriter::create_file(OpenFile& f) {
  try {
    errno = 0;
    make_private_dirs(f.dir);
  } catch (const std::exception& e) {
    stats_.last_errno = errno;
    stats_.last_error = e.what();
    return false;
  }
  // O_EXCL: a name taken since open_file (only another writer with the same run id could) is
  // an error, not something to write over.
  f.fd = ::open(f.open_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (f.fd < 0) {
    stats_.last_errno = errno;
    stats_.last_error = "cannot create " + f.open_path.string() + ": " + std::strerror(errno);
    return false;
  }
  // Held while the file is open: recovery at another recorder's start leaves a locked ".open"
  // file alone (it is being written). The kernel drops the lock when we die. That recovery may
  // have found the file empty between our open() and flock() and removed it: then the lock
  // fails (it holds it) or the file is gone; create it again on the next try.
  struct stat st {};
  if (::flock(f.fd, LOCK_EX | LOCK_NB) != 0 || ::fstat(f.fd, &st) != 0 || st.st_nlink == 0) {
    stats_.last_errno = 0;
    stats_.last_error = "another process took " + f.open_path.string() + " as it was created";
    ::close(f.fd);
    f.fd = -1;
    return false;
  }
  f.dev = st.st_dev;
  f.ino = st.st_ino;
  if (opt_.fsync != FsyncPolicy::kNone) fsync_dir(f.dir);  // the new name survives a host crash
  return true;
}

void ArchiveWriter::add_record(const std::string& line) {
  block_.bytes.append(line);
  ++block_.rows;
  count_other_row(block_.counts);
  ++stats_.rows;
  // The block's age clock starts with its first frame (or the next poll): record-only calls
  // carry no monotonic time of their own.
}

void ArchiveWriter::add_loss_line(const LossRecord& r) {
  block_.bytes.append(render_loss_record(r));
  ++block_.rows;
  count_loss(block_.counts, r.frames.value_or(0));
  block_.losses.push_back(r);
  ++stats_.rows;
  ++stats_.loss_records;
}

void ArchiveWriter::note_loss(LossRecord r) {
  if (r.run_id.empty()) r.run_id = opt_.run_id;
  if (closed_for_good_) {
    unwritten_.push_back(std::move(r));
    return;
  }
  const UnixNanos at = r.at;
  deferred_.push_back(std::move(r));
  place_deferred(at);  // in order with the lines around it (before a session's close record)
}

void ArchiveWriter::place_deferred(UnixNanos at) {
  if (deferred_.empty() || closed_for_good_) return;
  // Into whatever file is open (its hour need not match: a loss record carries no receive
  // time), else a new one. A file whose block is still empty gets its header lines first.
  if (!file_) open_file(utc_hour_start(at), at);
  for (const LossRecord& r : deferred_) add_loss_line(r);
  deferred_.clear();
}

bool ArchiveWriter::refuse(UnixNanos at, const FrameMeta* m) {
  const bool full = stats_.write_failing && pending_bytes() >= opt_.max_pending_bytes;
  if (!closed_for_good_ && !full) {
    if (!dropping_.empty()) close_drop_run(at);  // writes work again: say what went
    return false;
  }
  ++stats_.frames_dropped;  // counted and alarmed (write_failing), never silent
  if (closed_for_good_) return true;  // nobody appends after the end; counted all the same
  if (dropping_.empty()) {
    ++stats_.drop_runs;
    drop_cause_ = stats_.last_error;
  }
  if (m != nullptr) {
    dropping_.add_frame(m->received_ns, m->global_sequence, m->connection_sequence,
                        m->message_sequence, m->session_id);
  } else {
    dropping_.add_record(at);
  }
  return true;
}

void ArchiveWriter::close_drop_run(UnixNanos at) {
  deferred_.push_back(dropping_.to_record(
      opt_.run_id, LossReason::kMemoryBound, at,
      "writes failed (" + drop_cause_ + ") until the unwritten blocks held max_pending_bytes (" +
          std::to_string(opt_.max_pending_bytes) + " bytes): these were not kept"));
  dropping_.clear();
}

void ArchiveWriter::check_vanished(OpenFile& f) {
  if (f.fd < 0 || f.vanished) return;
  struct stat mine {}, at_path {};
  if (::fstat(f.fd, &mine) != 0) return;  // cannot tell: assume it is there
  std::string why;
  if (mine.st_nlink == 0) {
    why = f.open_path.string() + " was deleted while being written";
  } else if (::stat(f.open_path.c_str(), &at_path) != 0) {
    if (errno != ENOENT && errno != ENOTDIR) return;
    why = f.open_path.string() + " is no longer at its path (moved away, or its folder was)";
  } else if (at_path.st_dev != f.dev || at_path.st_ino != f.ino) {
    why = f.open_path.string() + " was replaced by another file while being written";
  } else {
    return;
  }
  // Its blocks are no longer where the manifest would say: none of them counts as archived.
  f.vanished = true;
  ++stats_.files_vanished;
  stats_.frames_dropped += f.written.frames();
  stats_.last_errno = 0;
  stats_.last_error = why;
  deferred_.push_back(f.written.to_record(
      opt_.run_id, LossReason::kFileVanished, realtime_now(),
      why + ": its " + std::to_string(f.entry.members) + " written block(s) are lost"));
  for (LossRecord& r : f.losses) deferred_.push_back(std::move(r));  // they were in it too
  f.losses.clear();
  ::close(f.fd);
  f.fd = -1;
}

void ArchiveWriter::ensure_file(UnixNanos t) {
  const UnixNanos hour = utc_hour_start(t);
  if (file_ && (file_->hour_start != hour || file_->bytes >= opt_.max_file_bytes) &&
      may_retry()) {
    seal_file(t);  // stays open if the disk is failing
  }
  // The disk refuses the last hour's block: that file waits in memory, this hour gets its own.
  if (file_ && file_->hour_start != hour) park_file();
  if (!file_) open_file(hour, t);
}

void ArchiveWriter::park_file() {
  Parked p;
  p.file = std::move(file_);
  std::swap(p.block, block_);
  parked_.push_back(std::move(p));
}

bool ArchiveWriter::unpark() {
  while (!parked_.empty()) {
    Parked& p = parked_.front();
    if (!write_member(*p.file, p.block) || !finish_file(*p.file, realtime_now())) return false;
    parked_.erase(parked_.begin());
  }
  return true;
}

std::size_t ArchiveWriter::pending_bytes() const noexcept {
  std::size_t n = block_.bytes.size();
  for (const Parked& p : parked_) n += p.block.bytes.size();
  return n;
}

std::uint64_t ArchiveWriter::pending_frames() const noexcept {
  std::uint64_t n = block_.frames;
  for (const Parked& p : parked_) n += p.block.frames;
  return n;
}

void ArchiveWriter::open_session(const SessionInfo& s, UnixNanos at) {
  ensure_file(at);  // before registering, so a new file does not list it as "continued"
  Session& entry = sessions_[s.session_id];
  entry.info = s;
  entry.fragment = render_full_fragment(s);
  add_record(render_session_record(s, "open", at));
}

void ArchiveWriter::update_session(const SessionInfo& s, UnixNanos at) {
  ensure_file(at);
  Session& entry = sessions_[s.session_id];
  entry.info = s;
  entry.fragment = render_full_fragment(s);
  add_record(render_session_record(s, "subscription", at));
}

void ArchiveWriter::close_session(std::string_view session_id, UnixNanos at,
                                  std::string_view reason) {
  ensure_file(at);
  auto it = sessions_.find(session_id);
  const std::uint64_t conn = it == sessions_.end() ? 0 : it->second.info.connection_sequence;
  add_record(render_session_close(session_id, conn, at, reason));
  if (it != sessions_.end()) sessions_.erase(it);
}

void ArchiveWriter::append(const FrameMeta& m, std::string_view payload,
                           const polymarket::Classification& c) {
  last_mono_ = m.monotonic_ns;
  if (refuse(m.received_ns, &m)) return;
  ensure_file(m.received_ns);
  place_deferred(m.received_ns);

  const std::string* fragment = nullptr;
  if (opt_.envelope == EnvelopeMode::kFull) {
    auto it = sessions_.find(m.session_id);
    if (it != sessions_.end()) fragment = &it->second.fragment;
  }
  if (!block_.has_started) {
    block_.started = m.monotonic_ns;
    block_.has_started = true;
  }
  encoder_.encode_frame(m, payload, c, fragment, block_.bytes);
  ++block_.rows;
  ++block_.frames;
  block_.last_seq = m.global_sequence;
  ++stats_.frames;
  ++stats_.rows;

  count_frame(block_.counts, m.received_ns, m.global_sequence, c);
  block_.span.add_frame(m.received_ns, m.global_sequence, m.connection_sequence,
                        m.message_sequence, m.session_id);

  if (block_.bytes.size() >= opt_.block_bytes && m.monotonic_ns >= retry_after_) write_block();
}

void ArchiveWriter::append_oversized(const FrameMeta& m, std::string_view line) {
  last_mono_ = m.monotonic_ns;
  if (refuse(m.received_ns, &m)) return;
  ensure_file(m.received_ns);
  place_deferred(m.received_ns);
  if (!block_.has_started) {
    block_.started = m.monotonic_ns;
    block_.has_started = true;
  }
  block_.bytes.append(line);
  ++block_.rows;
  block_.last_seq = m.global_sequence;
  ++stats_.rows;
  ++stats_.oversized_frames;
  count_oversized(block_.counts, m.received_ns, m.global_sequence);
  block_.span.add_frame(m.received_ns, m.global_sequence, m.connection_sequence,
                        m.message_sequence, m.session_id);
  if (block_.bytes.size() >= opt_.block_bytes && m.monotonic_ns >= retry_after_) write_block();
}

void ArchiveWriter::append_record(UnixNanos at, MonoNanos mono, std::string_view line) {
  last_mono_ = mono;
  if (refuse(at, nullptr)) return;
  ensure_file(at);
  place_deferred(at);
  if (!block_.has_started) {
    block_.started = mono;
    block_.has_started = true;
  }
  block_.bytes.append(line);
  ++block_.rows;
  ++stats_.rows;
  count_data_record(block_.counts, at);
  block_.span.add_record(at);
  if (block_.bytes.size() >= opt_.block_bytes && mono >= retry_after_) write_block();
}

bool ArchiveWriter::write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

void ArchiveWriter::write_failed(int err) {
  stats_.last_errno = err;
  ++stats_.write_errors;
  stats_.write_failing = true;  // the block waits in memory
  retry_after_ = last_mono_ + 1'000'000'000;  // do not recompress on every frame
}

bool ArchiveWriter::write_block() {
  if (!unpark()) return false;  // older hours first: acknowledgement goes in sequence order
  if (block_.bytes.empty()) return true;
  if (!file_) return false;
  const bool ok = write_member(*file_, block_);
  if (ok && file_->vanished) file_.reset();  // the next line starts a new file
  return ok;
}

bool ArchiveWriter::write_member(OpenFile& f, Block& b) {
  if (b.bytes.empty()) return true;
  if (f.fd < 0 && !create_file(f)) {
    write_failed(stats_.last_errno);
    return false;
  }
  member_.clear();
  gzip_.compress(b.bytes.view(), b.rows, member_);
  if (!write_all(f.fd, member_.data(), member_.size())) {
    const int err = errno;
    stats_.last_error = "write " + f.open_path.string() + ": " + std::strerror(err);
    // Cut off any partial member so the file stays a clean sequence of members.
    if (::ftruncate(f.fd, static_cast<off_t>(f.bytes)) != 0 ||
        ::lseek(f.fd, static_cast<off_t>(f.bytes), SEEK_SET) < 0) {
      stats_.last_error += " (and could not truncate the partial block)";
    }
    write_failed(err);
    return false;
  }
  f.sha.update(member_.data(), member_.size());
  f.bytes += member_.size();
  f.unsynced = true;
  merge_counts(f.entry, b.counts);
  ++f.entry.members;
  f.written.merge(b.span);
  for (LossRecord& r : b.losses) f.losses.push_back(std::move(r));
  ++stats_.blocks;
  stats_.raw_bytes += b.bytes.size();
  stats_.bytes_written += member_.size();
  stats_.write_failing = false;
  // Acknowledged: the member is in the file and, with kEveryBlock, on the disk. A failed
  // fdatasync acknowledges nothing; the next one that succeeds covers these frames too.
  const bool acknowledged = opt_.fsync != FsyncPolicy::kEveryBlock || sync_file(f);
  if (acknowledged && b.last_seq != 0) written_seq_ = b.last_seq;
  b.clear();
  check_vanished(f);  // at every block: a file gone from its path takes this block along
  return true;
}

bool ArchiveWriter::sync_file(OpenFile& f) {
  if (!f.unsynced) return true;
  const MonoNanos t0 = monotonic_now();
  if (::fdatasync(f.fd) != 0) {
    ++stats_.fsync_errors;
    stats_.last_errno = errno;
    stats_.last_error = "fdatasync " + f.open_path.string() + ": " + std::strerror(errno);
    return false;
  }
  const std::int64_t took = monotonic_now() - t0;
  ++stats_.fsyncs;
  stats_.fsync_ns_total += took;
  if (took > stats_.fsync_ns_max) stats_.fsync_ns_max = took;
  f.unsynced = false;
  last_fsync_ = t0;
  return true;
}

bool ArchiveWriter::may_retry() const noexcept {
  // After a refused write the next attempt waits a second: compressing a large pending block
  // again for every frame would stall the stage.
  return !stats_.write_failing || last_mono_ >= retry_after_;
}

void ArchiveWriter::flush() {
  if ((!block_.bytes.empty() || !parked_.empty()) && may_retry()) write_block();
}

void ArchiveWriter::seal_file(UnixNanos now) {
  if (!write_block()) return;  // cannot seal while the disk refuses a block
  if (file_ && finish_file(*file_, now)) file_.reset();
}

bool ArchiveWriter::finish_file(OpenFile& f, UnixNanos now) {
  // A manifest entry only for a file verified at its path.
  check_vanished(f);
  if (f.fd < 0) return true;  // never created (nothing was written to it), or gone
  const bool durable = opt_.fsync != FsyncPolicy::kNone;
  if (durable && !sync_file(f)) {
    // A manifest entry must not vouch for bytes the disk did not confirm: retry later.
    stats_.write_failing = true;
    retry_after_ = last_mono_ + 1'000'000'000;
    return false;
  }
  const SealPaths paths{opt_.root, f.open_path, f.final_path,
                        manifest_path(opt_.manifest_dir, opt_.venue, opt_.stream)};
  const SealOutcome r = seal_archive_file(f.fd, paths, f.entry, f.sha.finish(), f.bytes,
                                          now > realtime_now() ? now : realtime_now(), durable);
  ::close(f.fd);  // also drops the lock that tells recovery the file is in use
  f.fd = -1;
  if (!r.error.empty()) {
    stats_.last_error = r.error;
    ++stats_.write_errors;  // alarmed; the ".open" file is sealed by the next start's recovery
  }
  if (r.sealed) {
    closed_.push_back(std::move(f.entry));
    ++stats_.files_closed;
  }
  // Not sealed: the file keeps its ".open" name (with or without its entry) and the next start's
  // recovery seals it (io/archive/recovery.hpp).
  return true;
}

void ArchiveWriter::poll(MonoNanos now_mono, UnixNanos now_real) {
  last_mono_ = now_mono;
  if (closed_for_good_) return;
  if (!dropping_.empty() && !stats_.write_failing) close_drop_run(now_real);
  // An idle file is checked too (a busy one is, after each block); only between blocks, so a
  // replacement file starts with its own header lines.
  if (file_ && block_.bytes.empty() && now_mono >= next_vanish_check_) {
    next_vanish_check_ = now_mono + 1'000'000'000;
    check_vanished(*file_);
    if (file_->vanished) file_.reset();
  }
  place_deferred(now_real);
  if (!block_.bytes.empty() && !block_.has_started) {
    block_.started = now_mono;
    block_.has_started = true;
  }
  if ((!block_.bytes.empty() || !parked_.empty()) && now_mono >= retry_after_ &&
      (now_mono - block_.started >= opt_.block_max_age_ns || stats_.write_failing)) {
    write_block();
  }
  // The hour is over (by a margin: the ring may still hold frames read before its end, which
  // would otherwise open a second file for it): nothing more will land in this file.
  if (file_ && utc_hour_start(now_real - kSealGraceNs) > file_->hour_start && may_retry()) {
    seal_file(now_real);
  }
  if (file_ && opt_.fsync == FsyncPolicy::kInterval && file_->unsynced &&
      now_mono - last_fsync_ >= opt_.fsync_interval_ns) {
    sync_file(*file_);
  }
}

void ArchiveWriter::close() {
  if (closed_for_good_) return;
  const UnixNanos now = realtime_now();
  if (!dropping_.empty()) close_drop_run(now);
  place_deferred(now);
  seal_file(now);
  // A file that vanished at its seal leaves its loss record waiting: it goes into a file of its
  // own, sealed in turn (a bounded number of times: the disk might keep losing them).
  for (int i = 0; i < 3 && !file_ && parked_.empty() && !deferred_.empty(); ++i) {
    place_deferred(now);
    seal_file(now);
  }
  // Otherwise the disk is failing: a later close() retries.
  if (!file_ && parked_.empty() && deferred_.empty()) closed_for_good_ = true;
}

std::uint64_t ArchiveWriter::abandon() {
  if (closed_for_good_) return 0;
  const UnixNanos now = realtime_now();
  if (!dropping_.empty()) close_drop_run(now);
  // The blocks the disk refused never reach the archive: their frames are counted as dropped
  // and named, with the loss records those blocks carried.
  LossSpan lost;
  std::vector<LossRecord> records;
  std::vector<LossRecord> carried;
  const auto drop = [&](Block& b) {
    lost.merge(b.span);
    for (LossRecord& r : b.losses) carried.push_back(std::move(r));
    b.clear();
  };
  for (Parked& p : parked_) drop(p.block);
  drop(block_);
  stats_.frames_dropped += lost.frames();
  if (!lost.empty()) {
    const bool full = stats_.last_errno == ENOSPC || stats_.last_errno == EDQUOT;
    records.push_back(lost.to_record(
        opt_.run_id, full ? LossReason::kDiskFull : LossReason::kWriteError, now,
        "the run ended while the disk still refused these blocks (" + stats_.last_error + ")"));
  }
  for (LossRecord& r : carried) records.push_back(std::move(r));
  for (LossRecord& r : deferred_) records.push_back(std::move(r));
  deferred_.clear();
  // The files' written blocks are whole: seal them if the disk lets us (else recovery will).
  for (Parked& p : parked_) finish_file(*p.file, now);
  parked_.clear();
  // The records, as one small block of their own (the space reserved for the end of a run is
  // meant for this), in the open file or a new one.
  if (!records.empty()) {
    if (file_ && file_->fd < 0) file_.reset();  // its header lines went with the dropped block
    if (!file_) open_file(utc_hour_start(now), now);
    for (const LossRecord& r : records) add_loss_line(r);
    if (!write_member(*file_, block_) || file_->vanished) {
      unwritten_ = std::move(records);
      block_.clear();
    }
  }
  if (file_) finish_file(*file_, now);  // not sealed: the ".open" file is left for recovery
  file_.reset();
  closed_for_good_ = true;
  return lost.frames();
}

}  // namespace booktape
