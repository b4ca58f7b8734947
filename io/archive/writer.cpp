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
  std::uint64_t bytes = 0;  // bytes on disk, always whole members
  bool unsynced = false;
  Sha256 sha;               // running digest of the bytes on disk
  ManifestEntry entry;      // counts so far
};

void ArchiveWriter::Block::clear() noexcept {
  bytes.clear();
  rows = 0;
  frames = 0;
  has_started = false;
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
    make_private_dirs(f.dir);
  } catch (const std::exception& e) {
    stats_.last_error = e.what();
    return false;
  }
  // O_EXCL: a name taken since open_file (only another writer with the same run id could) is
  // an error, not something to write over.
  f.fd = ::open(f.open_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (f.fd < 0) {
    stats_.last_error = "cannot create " + f.open_path.string() + ": " + std::strerror(errno);
    return false;
  }
  // Held while the file is open: recovery at another recorder's start leaves a locked ".open"
  // file alone (it is being written). The kernel drops the lock when we die. That recovery may
  // have found the file empty between our open() and flock() and removed it: then the lock
  // fails (it holds it) or the file is gone; create it again on the next try.
  struct stat st {};
  if (::flock(f.fd, LOCK_EX | LOCK_NB) != 0 || ::fstat(f.fd, &st) != 0 || st.st_nlink == 0) {
    stats_.last_error = "another process took " + f.open_path.string() + " as it was created";
    ::close(f.fd);
    f.fd = -1;
    return false;
  }
  if (opt_.fsync != FsyncPolicy::kNone) fsync_dir(f.dir);  // the new name survives a host crash
  return true;
}

void ArchiveWriter::add_record(const std::string& line) {
  block_.bytes.append(line);
  ++block_.rows;
  count_other_row(file_->entry);
  ++stats_.rows;
  // The block's age clock starts with its first frame (or the next poll): record-only calls
  // carry no monotonic time of their own.
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
  if (closed_for_good_ || (stats_.write_failing && pending_bytes() >= opt_.max_pending_bytes)) {
    ++stats_.frames_dropped;  // counted and alarmed (write_failing), never silent
    return;
  }
  ensure_file(m.received_ns);

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

  count_frame(file_->entry, m.received_ns, m.global_sequence, c);

  if (block_.bytes.size() >= opt_.block_bytes && m.monotonic_ns >= retry_after_) write_block();
}

void ArchiveWriter::append_record(UnixNanos at, MonoNanos mono, std::string_view line) {
  last_mono_ = mono;
  if (closed_for_good_ || (stats_.write_failing && pending_bytes() >= opt_.max_pending_bytes)) {
    ++stats_.frames_dropped;
    return;
  }
  ensure_file(at);
  if (!block_.has_started) {
    block_.started = mono;
    block_.has_started = true;
  }
  block_.bytes.append(line);
  ++block_.rows;
  ++stats_.rows;
  count_data_record(file_->entry, at);
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

void ArchiveWriter::write_failed() {
  ++stats_.write_errors;
  stats_.write_failing = true;  // the block waits in memory
  retry_after_ = last_mono_ + 1'000'000'000;  // do not recompress on every frame
}

bool ArchiveWriter::write_block() {
  if (!unpark()) return false;  // older hours first: acknowledgement goes in sequence order
  if (block_.bytes.empty()) return true;
  if (!file_) return false;
  return write_member(*file_, block_);
}

bool ArchiveWriter::write_member(OpenFile& f, Block& b) {
  if (b.bytes.empty()) return true;
  if (f.fd < 0 && !create_file(f)) {
    write_failed();
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
    write_failed();
    return false;
  }
  f.sha.update(member_.data(), member_.size());
  f.bytes += member_.size();
  f.unsynced = true;
  ++f.entry.members;
  ++stats_.blocks;
  stats_.raw_bytes += b.bytes.size();
  stats_.bytes_written += member_.size();
  stats_.write_failing = false;
  // Acknowledged: the member is in the file and, with kEveryBlock, on the disk. A failed
  // fdatasync acknowledges nothing; the next one that succeeds covers these frames too.
  const bool acknowledged = opt_.fsync != FsyncPolicy::kEveryBlock || sync_file(f);
  if (acknowledged && b.last_seq != 0) written_seq_ = b.last_seq;
  b.clear();
  return true;
}

bool ArchiveWriter::sync_file(OpenFile& f) {
  if (!f.unsynced) return true;
  const MonoNanos t0 = monotonic_now();
  if (::fdatasync(f.fd) != 0) {
    ++stats_.fsync_errors;
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
  if (f.fd < 0) return true;  // never created: nothing was written to it
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
  seal_file(realtime_now());
  // Otherwise the disk is failing: a later close() retries.
  if (!file_ && parked_.empty()) closed_for_good_ = true;
}

std::uint64_t ArchiveWriter::abandon() {
  if (closed_for_good_) return 0;
  // The blocks the disk refused never reach the archive: their frames are counted as dropped
  // (the gate fails on them); the files keep their ".open" names for the next start's recovery.
  std::uint64_t lost = block_.frames;
  for (const Parked& p : parked_) lost += p.block.frames;
  stats_.frames_dropped += lost;
  block_.clear();
  parked_.clear();  // closes the files
  file_.reset();
  closed_for_good_ = true;
  return lost;
}

}  // namespace booktape
