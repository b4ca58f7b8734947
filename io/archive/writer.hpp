#pragma once
// Writes the raw-first archive: envelope lines batched into blocks, each block one gzip member
// appended to a hidden ".open" file; files rotate on the UTC hour of the frames' receive time
// (and by size), are renamed when closed, and get a manifest entry (docs/DATA_CONTRACT.md).
//
// Single-threaded: the archive stage owns it. Durability is a setting (FsyncPolicy). A failed
// write (disk full) never tears the file: the partial member is cut off, the block is kept in
// memory and retried, and only past `max_pending_bytes` are frames dropped, each one counted.
// Files still rotate on the hour meanwhile: a file that cannot be sealed waits in memory with
// its block, and the next hour's frames start the next hour's file.
//
// Nothing goes silently (docs/DATA_CONTRACT.md, "loss"): frames dropped past the memory bound,
// blocks the disk still refuses when the run ends (abandon()), and the written blocks of a file
// that was deleted or moved while open (checked after every block and before the seal; such a
// file gets no manifest entry) are each named in a loss record, written into the archive as soon
// as a block can be written. A block's counts join its file's manifest entry only once the block
// is on disk, so an entry never counts frames its file does not hold.
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/envelope.hpp"
#include "codecs/gzip_member.hpp"
#include "codecs/polymarket_classifier.hpp"
#include "codecs/sha256.hpp"
#include "core/byte_buffer.hpp"
#include "core/version.hpp"
#include "io/archive/loss_record.hpp"
#include "io/archive/manifest.hpp"

namespace booktape {

enum class FsyncPolicy : std::uint8_t {
  kNone,        // leave it to the kernel (a host crash can lose recent minutes)
  kOnClose,     // fsync each file when it is sealed
  kInterval,    // also fsync the open file every fsync_interval (default)
  kEveryBlock,  // fsync after every block: a frame in a written block survives a host crash
};
const char* to_string(FsyncPolicy p) noexcept;
bool parse_fsync_policy(std::string_view s, FsyncPolicy& out) noexcept;

struct ArchiveWriterOptions {
  std::filesystem::path root;          // the data root (--out)
  std::filesystem::path manifest_dir;  // default: <root>/manifests
  std::string venue = "polymarket";
  std::string stream = "ws_raw";
  std::string run_id;                  // default: make_run_id(now)
  std::string writer_version = "booktape " BOOKTAPE_VERSION;
  EnvelopeMode envelope = EnvelopeMode::kCompact;
  // libdeflate level 3: 327 MB/s at 1.02x the size of zlib -6, which does 91 MB/s
  // (bench/archive_bench.cpp, docs/PERFORMANCE.md).
  int gzip_level = 3;
  std::size_t block_bytes = std::size_t{256} << 10;  // raw bytes that close a block
  std::int64_t block_max_age_ns = 200'000'000;     // poll() closes an older block
  std::uint64_t max_file_bytes = std::uint64_t{1} << 30;  // rotate past this many bytes
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  std::int64_t fsync_interval_ns = 1'000'000'000;
  std::size_t max_pending_bytes = std::size_t{512} << 20;  // unwritable data kept in memory
};

struct ArchiveWriterStats {
  std::uint64_t frames = 0;            // frames accepted
  std::uint64_t rows = 0;              // lines written (all record types)
  std::uint64_t blocks = 0;            // gzip members written
  std::uint64_t files_closed = 0;
  std::uint64_t raw_bytes = 0;         // envelope bytes before compression
  std::uint64_t bytes_written = 0;     // compressed bytes on disk
  std::uint64_t fsyncs = 0;
  std::int64_t fsync_ns_max = 0;
  std::int64_t fsync_ns_total = 0;
  std::uint64_t write_errors = 0;      // failed block writes (retried)
  std::uint64_t fsync_errors = 0;      // failed fdatasync calls
  std::uint64_t frames_dropped = 0;    // frames not in the archive: dropped past the memory
                                       // bound, abandoned at the end, or in a vanished file
  std::uint64_t oversized_frames = 0;  // oversized_frame stubs appended
  std::uint64_t loss_records = 0;      // loss records added (each is written with its block)
  std::uint64_t drop_runs = 0;         // times dropping began (the memory bound was reached)
  std::uint64_t files_vanished = 0;    // files deleted or moved while being written
  bool write_failing = false;          // the last write attempt failed (alarm)
  int last_errno = 0;                  // of the last failure (0: none, or not a system error)
  std::string last_error;              // what failed last: the call, the path, strerror
};

class ArchiveWriter {
 public:
  explicit ArchiveWriter(ArchiveWriterOptions options);
  ~ArchiveWriter();  // close(); errors there are only recorded in stats()
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  // Session records: a connection opened, changed its subscription, or closed.
  void open_session(const SessionInfo& s, UnixNanos at);
  void update_session(const SessionInfo& s, UnixNanos at);
  void close_session(std::string_view session_id, UnixNanos at, std::string_view reason);

  // Appends one frame. The frame's session must be open (its id is referenced, not copied,
  // into the compact envelope; an unknown session still archives, with no full fragment).
  void append(const FrameMeta& m, std::string_view payload,
              const polymarket::Classification& c);

  // Appends one JSONL line that is not a frame (a REST checkpoint, ...) for time `at`: same
  // blocks, rotation and manifest as frames. `line` must end with '\n'.
  void append_record(UnixNanos at, MonoNanos mono, std::string_view line);
  // Appends the stub of a frame too large to keep (render_oversized_frame): it takes the frame's
  // place in the sequences and counts as `oversized_frames` in the manifest.
  void append_oversized(const FrameMeta& m, std::string_view line);
  // Adds a loss record (its run id defaults to this writer's) to the archive: into the current
  // file, or a new one, before the next line; written with that block.
  void note_loss(LossRecord r);

  // Housekeeping; call regularly (e.g. every few ms when idle). Closes a block older than
  // block_max_age, seals the file when the UTC hour has passed, fsyncs on interval, and
  // retries failed writes.
  void poll(MonoNanos now_mono, UnixNanos now_real);
  // Writes the current block now (a frame is "in a written block" after this).
  void flush();
  // Flushes, seals the open file (manifest entry, then the rename: seal_archive_file).
  // Idempotent. While the disk refuses the last block it leaves everything as it is (a later
  // close() retries): see closed().
  void close();
  [[nodiscard]] bool closed() const noexcept { return closed_for_good_; }
  // The last word when close() cannot finish (the disk still refuses at the end of a run): the
  // unwritten blocks' frames are added to frames_dropped and named in a loss record (disk_full
  // or write_error), which goes, with any loss record those blocks held, into one small block of
  // its own; every file is then sealed if the disk lets it (else left ".open" for recovery) and
  // the writer takes nothing more. Returns the frames dropped.
  std::uint64_t abandon();
  // Loss records abandon() could not write either (the disk refused even them): the caller
  // must say so, and leave the run marked unclean for the next start (root_lock.hpp).
  [[nodiscard]] const std::vector<LossRecord>& unwritten_losses() const noexcept {
    return unwritten_;
  }
  // Data waiting in memory for the disk: raw bytes and frames of every unwritten block.
  [[nodiscard]] std::size_t pending_bytes() const noexcept;
  [[nodiscard]] std::uint64_t pending_frames() const noexcept;
  // The frames being dropped right now (the memory bound is reached; empty otherwise).
  [[nodiscard]] const LossSpan& dropping() const noexcept { return dropping_; }

  [[nodiscard]] const ArchiveWriterStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const std::string& run_id() const noexcept { return opt_.run_id; }
  [[nodiscard]] const ArchiveWriterOptions& options() const noexcept { return opt_; }
  // Entries of the files sealed so far by this writer, oldest first.
  [[nodiscard]] const std::vector<ManifestEntry>& closed_files() const noexcept {
    return closed_;
  }
  // Global sequence of the last frame acknowledged as written: the write() of its block's gzip
  // member returned in full and, with kEveryBlock, the fdatasync after it succeeded. A process
  // crash cannot lose it (recovery keeps every complete member); with kEveryBlock neither can a
  // host crash (docs/RELIABILITY.md).
  [[nodiscard]] std::uint64_t last_written_sequence() const noexcept { return written_seq_; }

 private:
  struct OpenFile;
  struct Session {
    SessionInfo info;
    std::string fragment;  // full-envelope fields, rendered once
  };

  // A block of envelope lines waiting to become one gzip member.
  struct Block {
    ByteBuffer bytes;          // raw JSONL
    std::uint32_t rows = 0;
    std::uint64_t frames = 0;  // frame rows (rows also count records)
    std::uint64_t last_seq = 0;
    MonoNanos started = 0;     // age clock, from its first frame (or the next poll)
    bool has_started = false;
    ManifestEntry counts;      // what its lines add to the file's entry, once written
    LossSpan span;             // its frames and records: what a loss of the block would name
    std::vector<LossRecord> losses;  // the loss records among its lines
    void clear() noexcept;
  };
  // A file whose hour ended while the disk refused its last block: it waits, with that block,
  // to be written and sealed (oldest first, before anything newer), so the next hour's frames
  // go to the next hour's file even while the disk refuses.
  struct Parked {
    std::unique_ptr<OpenFile> file;
    Block block;
  };

  bool refuse(UnixNanos at, const FrameMeta* m);  // true: the line is dropped (counted)
  void close_drop_run(UnixNanos at);
  void place_deferred(UnixNanos at);  // deferred loss records into the block
  void add_loss_line(const LossRecord& r);
  void check_vanished(OpenFile& f);   // deleted or moved: its written blocks are lost
  void ensure_file(UnixNanos t);  // the file for time t, rotating if needed
  void open_file(UnixNanos hour_start, UnixNanos now);  // starts the next file's block
  bool create_file(OpenFile& f);  // creates it on disk; false: last_error says why (a write error)
  void park_file();
  bool unpark();  // false while the disk refuses a parked file
  void seal_file(UnixNanos now);
  bool finish_file(OpenFile& f, UnixNanos now);  // false: not sealable yet (retry)
  void add_record(const std::string& line);
  bool write_block();  // parked files first, then the current block
  bool write_member(OpenFile& f, Block& b);
  void write_failed(int err);
  [[nodiscard]] bool may_retry() const noexcept;  // not within a second of a refused write
  bool write_all(int fd, const char* data, std::size_t n);
  bool sync_file(OpenFile& f);  // false: fdatasync failed (counted, last_error)

  ArchiveWriterOptions opt_;
  GzipMemberWriter gzip_;
  EnvelopeEncoder encoder_;
  Block block_;            // the current file's
  ByteBuffer member_;      // a block's compressed member
  std::unique_ptr<OpenFile> file_;
  std::vector<Parked> parked_;  // oldest first; empty unless the disk refuses
  std::uint64_t file_sequence_ = 0;
  std::map<std::string, Session, std::less<>> sessions_;
  std::vector<ManifestEntry> closed_;
  ArchiveWriterStats stats_;
  std::uint64_t written_seq_ = 0;
  MonoNanos last_mono_ = 0;
  MonoNanos retry_after_ = 0;
  MonoNanos last_fsync_ = 0;
  MonoNanos next_vanish_check_ = 0;
  bool closed_for_good_ = false;
  LossSpan dropping_;              // frames dropped since the memory bound was reached
  std::string drop_cause_;         // the write error that started the drop run
  std::vector<LossRecord> deferred_;  // loss records waiting for a file to go into
  std::vector<LossRecord> unwritten_;  // abandon() could not write them
};

}  // namespace booktape
