#include "io/archive/verify.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <simdjson.h>

#include <algorithm>
#include <map>

#include "codecs/envelope.hpp"
#include "codecs/json_out.hpp"
#include "io/archive/manifest_index.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/upload_manifest.hpp"

namespace booktape {

namespace fs = std::filesystem;

const char* to_string(FileVerdict v) noexcept {
  switch (v) {
    case FileVerdict::kOk: return "ok";
    case FileVerdict::kInvalid: return "invalid";
    case FileVerdict::kMissing: return "missing";
    case FileVerdict::kOffloaded: return "offloaded";
    case FileVerdict::kUnlisted: return "unlisted";
    case FileVerdict::kOpenInUse: return "open_in_use";
    case FileVerdict::kOpenLeft: return "open_left_by_crash";
    case FileVerdict::kForeign: return "foreign";
  }
  return "?";
}

bool fails(FileVerdict v) noexcept {
  return v == FileVerdict::kInvalid || v == FileVerdict::kMissing || v == FileVerdict::kUnlisted;
}

bool is_data_root(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "raw_orderbooks", ec) || fs::is_directory(dir / "manifests", ec);
}

namespace {

// Frames and loss records of one file, as the reader hands them out.
struct SequenceVisitor final : ArchiveVisitor {
  bool on_frame(const ArchiveFrame& f) override {
    if (!f.has_envelope) return true;
    ++frames;
    const std::uint64_t s = f.global_sequence;
    if (last != 0 && s > last + 1) gaps.emplace_back(last + 1, s - 1);
    if (last != 0 && s <= last) ++backwards;
    if (first == 0 || s < first) first = s;
    if (s > last) last = s;
    return true;
  }
  void on_record(std::string_view line) override {
    LossRecord l;
    if (parse_loss_record(line, l)) losses.push_back(std::move(l));
  }
  std::uint64_t frames = 0, first = 0, last = 0, backwards = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> gaps;
  std::vector<LossRecord> losses;
};

// One file's place in its run's sequence.
struct Segment {
  std::uint64_t first = 0, last = 0;
  std::string path;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> gaps;  // inside the file
  bool damaged = false;
};

struct Listed {
  const ManifestEntry* entry = nullptr;
  const ManifestLabel* label = nullptr;
  fs::path manifest;
  bool seen = false;
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& p : v) {
    if (!s.empty()) s += "; ";
    s += p;
  }
  return s;
}

// Whether a live process holds the writer's lock on an ".open" file.
bool held_by_a_writer(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

// Appends a label, first ending a torn last line so the label is a line of its own.
std::string append_label(const fs::path& manifest, const ManifestLabel& l) {
  std::string line = render_manifest_label(l);
  const int fd = ::open(manifest.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char last = '\n';
    const off_t end = ::lseek(fd, 0, SEEK_END);
    if (end > 0 && ::pread(fd, &last, 1, end - 1) == 1 && last != '\n') line.insert(0, "\n");
    ::close(fd);
  }
  return append_line(manifest, line, true);
}

std::vector<std::string> read_problems(const FileReport& r) {
  std::vector<std::string> p;
  if (r.unreadable) p.push_back(r.error);
  if (r.manifest == ManifestCheck::kMismatch) p.push_back(r.manifest_problem);
  for (const CorruptSpan& c : r.corrupt_spans) {
    p.push_back("unreadable: " + std::to_string(c.bytes) + " bytes at byte " +
                std::to_string(c.offset) +
                (c.rows > 0 ? " (" + std::to_string(c.rows) + " rows)" : std::string()) + ": " +
                c.reason);
  }
  if (r.torn_tail_bytes > 0)
    p.push_back("torn tail: " + std::to_string(r.torn_tail_bytes) + " bytes after the last whole member");
  if (!r.unreadable && r.format != FileFormat::kBooktape && r.bytes > 0)
    p.push_back("not a booktape archive (no file record)");
  if (r.bad_lines > 0) p.push_back(std::to_string(r.bad_lines) + " lines that are not records");
  if (r.length_mismatches > 0)
    p.push_back(std::to_string(r.length_mismatches) + " frames whose payload_length_bytes is wrong");
  if (r.sha_mismatches > 0)
    p.push_back(std::to_string(r.sha_mismatches) + " frames whose payload_sha256 is wrong");
  return p;
}

class RootVerifier {
 public:
  RootVerifier(const fs::path& root, const VerifyOptions& o)
      : o_(o), reader_(ArchiveReader::Options{o.verify_payloads, true}) {
    out_.root = root;
  }

  RootVerification run() {
    if (!is_data_root(out_.root)) {
      out_.errors.push_back(out_.root.string() +
                            ": not a booktape data root (no raw_orderbooks/ or manifests/ in it)");
      return std::move(out_);
    }
    load_manifests();
    uploads_ = read_upload_manifest(upload_manifest_path(out_.root));
    walk();
    unseen_entries();
    sequences();
    if (o_.label) label();
    return std::move(out_);
  }

 private:
  void load_manifests() {
    const fs::path dir = out_.root / "manifests";
    std::error_code ec;
    std::vector<fs::path> files;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->is_regular_file(ec) && name.ends_with(".manifest.jsonl")) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      indexes_.push_back(std::make_unique<ManifestIndex>(ManifestIndex::load(f)));
      const ManifestIndex& ix = *indexes_.back();
      out_.manifest_bad_lines += ix.bad_lines();
      for (const ManifestEntry* e : ix.entries()) listed_[e->path] = Listed{e, ix.label(e->path), f};
    }
  }

  void progress(const std::string& file) {
    if (!o_.progress) return;
    const MonoNanos now = monotonic_now();
    if (now - last_progress_ < kNanosPerSecond) return;
    last_progress_ = now;
    o_.progress(files_done_, frames_done_, file);
  }

  void walk() {
    const fs::path raw = out_.root / "raw_orderbooks";
    std::error_code ec;
    if (!fs::is_directory(raw, ec)) return;
    std::vector<fs::path> paths;
    for (auto it = fs::recursive_directory_iterator(raw, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_regular_file(ec)) paths.push_back(it->path());
    }
    if (ec) out_.errors.push_back(raw.string() + ": cannot list: " + ec.message());
    std::sort(paths.begin(), paths.end());
    for (const fs::path& p : paths) check_file(p);
  }

  void check_file(const fs::path& p) {
    progress(p.filename().string());
    VerifiedFile v;
    v.path = manifest_path_of(p, out_.root);
    if (o_.select && !o_.select(v.path)) {
      const auto it = listed_.find(v.path);
      if (it != listed_.end()) it->second.seen = true;  // present; not asked about
      return;
    }
    const std::optional<ArchiveLocation> loc = locate_archive_file(p);
    if (loc) v.stream = loc->stream;
    const std::string name = p.filename().string();
    const bool open = is_open_name(name);
    if (!open && (name.starts_with('.') || !parse_archive_file_name(name))) {
      v.verdict = FileVerdict::kForeign;
      v.problems.push_back(name.starts_with('.') ? "a hidden or temporary file; not read"
                                                 : "not a booktape archive file name; not read");
      out_.files.push_back(std::move(v));
      return;
    }
    SequenceVisitor seq;
    reader_.read_file(p, seq, v.report);
    ++files_done_;
    frames_done_ += v.report.frames;
    for (LossRecord& l : seq.losses) out_.losses.push_back(std::move(l));
    v.problems = read_problems(v.report);
    if (open) {
      const bool held = held_by_a_writer(p);
      v.verdict = held ? FileVerdict::kOpenInUse : FileVerdict::kOpenLeft;
      // Torn tails are what an ".open" file may have; a live writer's is its next block.
      std::erase_if(v.problems, [](const std::string& s) { return s.starts_with("torn tail"); });
      v.problems.insert(v.problems.begin(),
                        held ? "being written by a live recorder"
                             : "left by a crash: the recorder's next start seals it");
      const auto it = listed_.find(manifest_path_of(p.parent_path() / closed_name_of(name),
                                                    out_.root));
      if (it != listed_.end()) {
        it->second.seen = true;  // its seal was cut short after the entry: recovery finishes it
        v.entry = *it->second.entry;
      }
    } else {
      const auto it = listed_.find(v.path);
      if (it == listed_.end()) {
        v.verdict = FileVerdict::kUnlisted;
        v.problems.insert(v.problems.begin(), "no manifest lists it");
      } else {
        it->second.seen = true;
        v.entry = *it->second.entry;
        v.verdict = v.problems.empty() ? FileVerdict::kOk : FileVerdict::kInvalid;
      }
    }
    if (seq.frames > 0 || (v.entry && v.entry->frames > 0)) add_segment(v, seq);
    out_.files.push_back(std::move(v));
  }

  void add_segment(const VerifiedFile& v, const SequenceVisitor& seq) {
    Segment s;
    s.path = v.path;
    s.first = seq.first;
    s.last = seq.last;
    s.gaps = seq.gaps;
    s.damaged = v.verdict == FileVerdict::kInvalid;
    std::string run = v.report.run_id;
    if (v.entry && v.entry->frames > 0) {
      // What the entry lists but the file no longer holds (a cut or emptied file) is a gap too.
      if (run.empty()) run = v.entry->run_id;
      if (seq.frames == 0) {
        s.first = v.entry->first_global_sequence;
        s.last = v.entry->last_global_sequence;
        s.gaps.emplace_back(s.first, s.last);
      } else {
        if (v.entry->first_global_sequence < s.first) {
          s.gaps.insert(s.gaps.begin(), std::make_pair(v.entry->first_global_sequence, s.first - 1));
          s.first = v.entry->first_global_sequence;
        }
        if (v.entry->last_global_sequence > s.last) {
          s.gaps.emplace_back(s.last + 1, v.entry->last_global_sequence);
          s.last = v.entry->last_global_sequence;
        }
      }
    }
    if (run.empty()) return;
    segments_[run].push_back(std::move(s));
  }

  void unseen_entries() {
    for (auto& [path, l] : listed_) {
      if (l.seen || (o_.select && !o_.select(path))) continue;
      VerifiedFile v;
      v.path = path;
      v.entry = *l.entry;
      const std::optional<ArchiveLocation> loc = locate_archive_file(out_.root / path);
      if (loc) v.stream = loc->stream;
      const auto up = uploads_.find(path);
      if (up != uploads_.end() && up->second.removed_at != 0 && up->second.sha256 == l.entry->sha256) {
        v.verdict = FileVerdict::kOffloaded;
        v.problems.push_back("removed locally after a verified upload to " + up->second.remote_path);
      } else {
        v.verdict = FileVerdict::kMissing;
        v.problems.push_back("listed in the manifest but not at its path");
      }
      if (l.entry->frames > 0 && !l.entry->run_id.empty()) {
        Segment s;
        s.path = path;
        s.first = l.entry->first_global_sequence;
        s.last = l.entry->last_global_sequence;
        if (v.verdict == FileVerdict::kMissing) {
          s.gaps.emplace_back(s.first, s.last);
          s.damaged = true;
        }
        segments_[l.entry->run_id].push_back(std::move(s));
      }
      out_.files.push_back(std::move(v));
    }
  }

  void add_gap(const std::string& run, std::uint64_t first, std::uint64_t last, std::string where,
               bool damaged, RunSummary& rs) {
    SequenceGap g;
    g.run_id = run;
    g.first = first;
    g.last = last;
    g.where = std::move(where);
    g.in_damaged_file = damaged;
    for (const LossRecord& l : out_.losses) {
      if (l.run_id == run && l.covers(first, last)) {
        g.recorded_loss = true;
        g.loss_reason = to_string(l.reason);
        break;
      }
    }
    const std::uint64_t n = last - first + 1;
    if (g.recorded_loss) {
      rs.lost_recorded += n;
    } else {
      rs.missing_unexplained += n;
    }
    out_.gaps.push_back(std::move(g));
  }

  void sequences() {
    for (auto& [run, segs] : segments_) {
      std::sort(segs.begin(), segs.end(),
                [](const Segment& a, const Segment& b) { return a.first < b.first; });
      RunSummary rs;
      rs.run_id = run;
      rs.files = segs.size();
      rs.first_sequence = segs.front().first;
      std::uint64_t expected = 1;
      const Segment* prev = nullptr;
      for (const Segment& s : segs) {
        if (s.first > expected) {
          add_gap(run, expected, s.first - 1,
                  prev ? "between " + prev->path + " and " + s.path : "before " + s.path, false, rs);
        }
        for (const auto& [a, b] : s.gaps) add_gap(run, a, b, "inside " + s.path, s.damaged, rs);
        expected = std::max(expected, s.last + 1);
        rs.last_sequence = std::max(rs.last_sequence, s.last);
        prev = &s;
      }
      rs.frames = rs.last_sequence - rs.missing_unexplained - rs.lost_recorded;
      for (const LossRecord& l : out_.losses) {
        if (l.run_id != run) continue;
        ++rs.loss_records;
        rs.crash_records += !l.last_global_sequence.has_value();
      }
      out_.runs.push_back(std::move(rs));
    }
    // Loss records of runs that left no frames here are still listed (in `losses`).
  }

  void label() {
    for (VerifiedFile& v : out_.files) {
      const auto it = listed_.find(v.path);
      if (it == listed_.end() || v.verdict == FileVerdict::kOpenInUse ||
          v.verdict == FileVerdict::kOpenLeft) {
        continue;
      }
      const ManifestLabel* current = it->second.label;
      ManifestLabel l;
      l.path = v.path;
      l.labelled_at = realtime_now();
      if (v.verdict == FileVerdict::kInvalid || v.verdict == FileVerdict::kMissing) {
        l.label = "invalid";
        l.reason = (v.verdict == FileVerdict::kMissing ? "missing: " : "") + join(v.problems);
        if (current != nullptr && current->label == l.label && current->reason == l.reason)
          continue;  // said already
      } else if (v.verdict == FileVerdict::kOk && current != nullptr &&
                 current->label == "invalid") {
        l.label = "valid";
        l.reason = "verified again: matches its manifest entry";
      } else {
        continue;
      }
      const std::string err = append_label(it->second.manifest, l);
      if (err.empty()) {
        v.label_written = l.label;
      } else {
        out_.errors.push_back("cannot label " + v.path + " " + l.label + ": " + err);
      }
    }
  }

  const VerifyOptions& o_;
  ArchiveReader reader_;
  RootVerification out_;
  std::vector<std::unique_ptr<ManifestIndex>> indexes_;
  std::map<std::string, Listed> listed_;
  std::map<std::string, UploadRecord> uploads_;
  std::map<std::string, std::vector<Segment>> segments_;  // by run id
  std::uint64_t files_done_ = 0, frames_done_ = 0;
  MonoNanos last_progress_ = 0;
};

void opt_u64(std::string& s, const char* key, const std::optional<std::uint64_t>& v) {
  json_key(s, key);
  s += v ? std::to_string(*v) : std::string("null");
}

}  // namespace

RootVerification verify_root(const fs::path& root, const VerifyOptions& o) {
  return RootVerifier(root, o).run();
}

VerifyResult verify_archive(const std::vector<fs::path>& roots, const VerifyOptions& o) {
  VerifyResult r;
  for (const fs::path& root : roots) r.roots.push_back(verify_root(root, o));
  return r;
}

std::uint64_t VerifyResult::count(FileVerdict v) const noexcept {
  std::uint64_t n = 0;
  for (const RootVerification& root : roots)
    for (const VerifiedFile& f : root.files) n += f.verdict == v;
  return n;
}

std::uint64_t VerifyResult::unexplained_gaps() const noexcept {
  std::uint64_t n = 0;
  for (const RootVerification& root : roots)
    for (const SequenceGap& g : root.gaps) n += !g.recorded_loss && !g.in_damaged_file;
  return n;
}

bool VerifyResult::ok() const noexcept {
  for (const RootVerification& root : roots) {
    if (!root.errors.empty()) return false;
    for (const VerifiedFile& f : root.files)
      if (fails(f.verdict)) return false;
  }
  return unexplained_gaps() == 0;
}

std::string VerifyResult::json() const {
  std::string s = "{\"ok\":";
  s += ok() ? "true" : "false";
  s += ",\"files\":{\"checked\":";
  std::uint64_t all = 0;
  for (const RootVerification& root : roots) all += root.files.size();
  s += std::to_string(all);
  for (const FileVerdict v :
       {FileVerdict::kOk, FileVerdict::kInvalid, FileVerdict::kMissing, FileVerdict::kOffloaded,
        FileVerdict::kUnlisted, FileVerdict::kOpenInUse, FileVerdict::kOpenLeft,
        FileVerdict::kForeign})
    json_u64(s, to_string(v), count(v));
  s += "}";
  json_u64(s, "unexplained_gaps", unexplained_gaps());
  s += ",\"roots\":[";
  for (std::size_t i = 0; i < roots.size(); ++i) {
    const RootVerification& root = roots[i];
    if (i) s += ',';
    s += "{";
    json_str(s, "root", root.root.string(), true);
    json_u64(s, "manifest_bad_lines", root.manifest_bad_lines);
    json_str_array(s, "errors", root.errors);
    s += ",\"files\":[";
    for (std::size_t j = 0; j < root.files.size(); ++j) {
      const VerifiedFile& f = root.files[j];
      const FileReport& r = f.report;
      if (j) s += ',';
      s += "{";
      json_str(s, "path", f.path, true);
      json_str(s, "stream", f.stream);
      json_str(s, "verdict", to_string(f.verdict));
      json_str_array(s, "problems", f.problems);
      json_u64(s, "bytes", r.bytes);
      json_u64(s, "members", r.members);
      json_u64(s, "rows", r.lines);
      json_u64(s, "frames", r.frames);
      json_u64(s, "corrupt_bytes", r.corrupt_bytes);
      json_u64(s, "missing_rows", r.missing_rows);
      if (f.entry) {
        s += ",\"manifest\":{\"sha256\":";
        append_json_string(s, f.entry->sha256);
        json_u64(s, "bytes", f.entry->bytes);
        json_u64(s, "rows", f.entry->rows);
        json_u64(s, "frames", f.entry->frames);
        json_u64(s, "members", f.entry->members);
        s += "}";
      }
      if (!f.label_written.empty()) json_str(s, "label_written", f.label_written);
      s += "}";
    }
    s += "],\"runs\":[";
    for (std::size_t j = 0; j < root.runs.size(); ++j) {
      const RunSummary& rs = root.runs[j];
      if (j) s += ',';
      s += "{\"run_id\":";
      append_json_string(s, rs.run_id);
      json_u64(s, "files", rs.files);
      json_u64(s, "frames", rs.frames);
      json_u64(s, "first_global_message_sequence", rs.first_sequence);
      json_u64(s, "last_global_message_sequence", rs.last_sequence);
      json_u64(s, "lost_recorded", rs.lost_recorded);
      json_u64(s, "missing_unexplained", rs.missing_unexplained);
      json_u64(s, "loss_records", rs.loss_records);
      json_u64(s, "crash_records", rs.crash_records);
      s += "}";
    }
    s += "],\"gaps\":[";
    for (std::size_t j = 0; j < root.gaps.size(); ++j) {
      const SequenceGap& g = root.gaps[j];
      if (j) s += ',';
      s += "{\"run_id\":";
      append_json_string(s, g.run_id);
      json_u64(s, "first", g.first);
      json_u64(s, "last", g.last);
      json_u64(s, "frames", g.last - g.first + 1);
      json_str(s, "where", g.where);
      json_str(s, "status", g.recorded_loss     ? "lost_recorded"
                       : g.in_damaged_file ? "in_damaged_file"
                                           : "unexplained");
      if (g.recorded_loss) json_str(s, "loss_reason", g.loss_reason);
      s += "}";
    }
    s += "],\"losses\":[";
    for (std::size_t j = 0; j < root.losses.size(); ++j) {
      const LossRecord& l = root.losses[j];
      if (j) s += ',';
      s += "{\"run_id\":";
      append_json_string(s, l.run_id);
      json_str(s, "reason", to_string(l.reason));
      if (!l.written_by_run_id.empty()) json_str(s, "written_by_run_id", l.written_by_run_id);
      opt_u64(s, "frames", l.frames);
      opt_u64(s, "first_global_message_sequence", l.first_global_sequence);
      opt_u64(s, "last_global_message_sequence", l.last_global_sequence);
      s += "}";
    }
    s += "]}";
  }
  s += "]}\n";
  return s;
}

}  // namespace booktape
