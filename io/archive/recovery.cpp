#include "io/archive/recovery.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "codecs/gzip_member.hpp"
#include "codecs/polymarket_classifier.hpp"
#include "io/archive/manifest_index.hpp"
#include "io/archive/loss_record.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/reader.hpp"

namespace booktape {

namespace fs = std::filesystem;

namespace {

// Recounts a file's lines into its manifest entry with the writer's own counting functions.
class EntryCounter final : public ArchiveVisitor {
 public:
  EntryCounter(ManifestEntry& e, std::size_t max_frame_bytes)
      : e_(e), classifier_(max_frame_bytes) {}

  bool on_frame(const ArchiveFrame& f) override {
    // The archive stage classified the payload as it arrived; the classifier is a pure
    // function of the payload, so classifying it again gives the same counts.
    const polymarket::Classification c = f.opcode == Opcode::kBinary
                                             ? polymarket::Classifier::binary()
                                             : classifier_.classify(f.data, f.size, f.readable);
    count_frame(e_, f.received_ns, f.global_sequence, c);
    return true;
  }

  void on_record(std::string_view line) override {
    const bool file = line.starts_with("{\"record\":\"file\"");
    if (file || line.starts_with("{\"record\":\"session\"")) {
      count_other_row(e_);
      if (file) read_file_record(line);
      return;
    }
    if (LossRecord loss; parse_loss_record(line, loss)) {
      count_loss(e_, loss.frames.value_or(0));
      return;
    }
    if (line.starts_with("{\"record\":\"oversized_frame\"")) {
      simdjson::dom::element d;
      std::int64_t at = 0;
      std::uint64_t seq = 0;
      if (parser_.parse(line.data(), line.size(), true).get(d) == simdjson::SUCCESS) {
        if (d["received_at_ns"].get_int64().get(at) != simdjson::SUCCESS) at = 0;
        if (d["global_message_sequence"].get_uint64().get(seq) != simdjson::SUCCESS) seq = 0;
      }
      count_oversized(e_, at, seq);
      return;
    }
    // A data record (a REST checkpoint): the writer counted it at its request time.
    UnixNanos at = e_.last_received_ns;
    simdjson::dom::element d;
    std::int64_t v = 0;
    if (parser_.parse(line.data(), line.size(), true).get(d) == simdjson::SUCCESS &&
        d["requested_at_ns"].get_int64().get(v) == simdjson::SUCCESS) {
      at = v;
    }
    count_data_record(e_, at);
  }

 private:
  void read_file_record(std::string_view line) {
    simdjson::dom::element d;
    if (parser_.parse(line.data(), line.size(), true).get(d) != simdjson::SUCCESS) return;
    std::string_view run;
    std::uint64_t seq = 0;
    if (d["run_id"].get_string().get(run) == simdjson::SUCCESS) e_.run_id.assign(run);
    if (d["file_sequence"].get_uint64().get(seq) == simdjson::SUCCESS) e_.file_sequence = seq;
  }

  ManifestEntry& e_;
  polymarket::Classifier classifier_;
  simdjson::dom::parser parser_;
};

// The run id and sequence from the file's name, for a file whose first member (with its file
// record) was torn.
void ids_from_name(std::string_view name, std::string_view venue, std::string_view stream,
                   ManifestEntry& e) {
  const std::optional<ArchiveName> n = parse_archive_file_name(name);
  if (!n || n->venue_stream != std::string(venue) + "_" + std::string(stream)) return;
  e.run_id = n->run_id;
  e.file_sequence = n->sequence;
}

// SHA-256 of the first `n` bytes of the file; false if they cannot all be read.
bool prefix_digest(int fd, std::uint64_t n, Sha256Digest& out) {
  Sha256 h;
  std::vector<char> buf(std::size_t{1} << 20);
  std::uint64_t off = 0;
  while (off < n) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), n - off));
    const ssize_t got = ::pread(fd, buf.data(), want, static_cast<off_t>(off));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    h.update(buf.data(), static_cast<std::size_t>(got));
    off += static_cast<std::uint64_t>(got);
  }
  out = h.finish();
  return true;
}

// A manifest whose last append was cut short ends without a newline; our entry must not be
// glued to that fragment, so the fragment gets its newline first.
std::string end_manifest_line(const fs::path& file, bool durable) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};  // no manifest yet
  struct stat st{};
  char last = '\n';
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    if (::pread(fd, &last, 1, st.st_size - 1) != 1) last = '\n';
  }
  ::close(fd);
  return last == '\n' ? std::string() : append_line(file, "\n", durable);
}

class Recovery {
 public:
  explicit Recovery(const RecoveryOptions& o) : o_(o) {
    if (o_.manifest_dir.empty()) o_.manifest_dir = o_.root / "manifests";
  }

  RecoveryResult run() {
    for (const std::string& stream : o_.streams) recover_stream(stream);
    return std::move(r_);
  }

 private:
  void problem(const fs::path& p, const std::string& why, std::uint64_t& counter) {
    ++counter;
    r_.problems.push_back(p.string() + ": " + why);
  }

  void recover_stream(const std::string& stream) {
    const fs::path dir = archive_stream_dir(o_.root, o_.venue, stream);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;
    std::vector<fs::path> open_files;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_regular_file(ec) && is_open_name(it->path().filename().string()))
        open_files.push_back(it->path());
    }
    if (ec) problem(dir, "cannot list: " + ec.message(), r_.failed);
    if (open_files.empty()) return;
    std::sort(open_files.begin(), open_files.end());
    r_.open_files += open_files.size();

    const fs::path manifest = manifest_path(o_.manifest_dir, o_.venue, stream);
    // The manifest's entries (the last one for a path wins; a torn line is skipped).
    const ManifestIndex listed = ManifestIndex::load(manifest);
    const std::string err = end_manifest_line(manifest, o_.durable);
    if (!err.empty()) r_.problems.push_back(err);
    for (const fs::path& p : open_files) {
      const int fd = ::open(p.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) {
        problem(p, std::string("cannot open: ") + std::strerror(errno), r_.failed);
        continue;
      }
      if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ++r_.in_use;  // a live writer has it: not ours to seal
      } else {
        recover_file(fd, p, stream, manifest, listed);
      }
      ::close(fd);
    }
  }

  void recover_file(int fd, const fs::path& p, const std::string& stream, const fs::path& manifest,
                    const ManifestIndex& listed) {
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
      problem(p, std::string("cannot stat: ") + std::strerror(errno), r_.failed);
      return;
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size == 0) {
      // Created, nothing written: the crash came before its first block. Nothing to keep.
      if (::unlink(p.c_str()) != 0) {
        problem(p, std::string("cannot remove the empty file: ") + std::strerror(errno), r_.failed);
        return;
      }
      if (o_.durable) fsync_dir(p.parent_path());
      ++r_.empty_removed;
      return;
    }
    const std::string name = p.filename().string();
    const SealPaths paths{o_.root, p, p.parent_path() / closed_name_of(name), manifest};
    std::error_code ec;
    if (fs::exists(paths.final_path, ec)) {
      problem(p, "a closed file of the same name exists; left as it is", r_.failed);
      return;
    }

    // A crash between a seal's manifest entry and its rename: the entry is there already and
    // describes the file's first `bytes` bytes; finish that seal instead of adding an entry.
    const ManifestEntry* listed_entry = listed.find(manifest_path_of(paths.final_path, o_.root));
    if (listed_entry != nullptr && listed_entry->bytes <= size) {
      Sha256Digest d{};
      std::string hex(kSha256HexChars, '0');
      if (prefix_digest(fd, listed_entry->bytes, d)) to_hex(d.data(), d.size(), hex.data());
      if (hex == listed_entry->sha256) {
        const std::string err = finish_seal(fd, paths, listed_entry->bytes, o_.durable);
        if (err.empty()) {
          ++r_.seals_completed;
        } else {
          problem(p, err, r_.failed);
        }
        return;
      }
      // The entry describes other bytes: seal afresh; the later entry is the file's.
    }

    ManifestEntry e;
    FileReport rep;
    // Shorter than a gzip header but starting like one: the first member was torn at once (the
    // reader would take a lone byte for a plain text file).
    unsigned char first = 0;
    if (size < kGzipMemberHeaderBytes && ::pread(fd, &first, 1, 0) == 1 && first == 0x1f) {
      rep.bytes = size;
      rep.torn_tail_bytes = size;
      rep.booktape_members = true;
    } else {
      EntryCounter counter(e, o_.max_frame_bytes);
      ArchiveReader().read_file(p, counter, rep);
    }
    if (rep.corrupt || !rep.booktape_members) {
      problem(p,
              rep.corrupt ? "damaged, not just torn (" + rep.error + "); left in place"
                          : "not a booktape archive file; left in place",
              r_.corrupt);
      return;
    }
    for (std::uint64_t i = 0; i < rep.bad_lines; ++i) count_other_row(e);  // still lines
    const std::uint64_t keep = size - rep.torn_tail_bytes;
    Sha256Digest digest{};
    if (!prefix_digest(fd, keep, digest)) {
      problem(p, "cannot read it back", r_.failed);
      return;
    }
    if (e.run_id.empty()) ids_from_name(closed_name_of(name), o_.venue, stream, e);
    e.members = rep.members;
    e.recovered = true;
    e.torn_tail_bytes = rep.torn_tail_bytes;
    e.torn_tail_rows = rep.torn_tail_rows;
    const SealOutcome s = seal_archive_file(fd, paths, e, digest, keep, realtime_now(), o_.durable);
    if (!s.sealed) {
      problem(p, s.error, r_.failed);  // with its entry written, the next start completes it
      return;
    }
    ++r_.files_recovered;
    r_.frames += e.frames;
    r_.records += e.records;
    r_.rows += e.rows;
    r_.torn_tail_bytes += e.torn_tail_bytes;
    r_.torn_tail_rows += e.torn_tail_rows;
    r_.entries.push_back(std::move(e));
  }

  RecoveryOptions o_;
  RecoveryResult r_;
};

}  // namespace

RecoveryResult recover_open_files(const RecoveryOptions& o) { return Recovery(o).run(); }

}  // namespace booktape
