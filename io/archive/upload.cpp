#include "io/archive/upload.hpp"

#include <unistd.h>

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "codecs/envelope.hpp"
#include "codecs/json_out.hpp"
#include "codecs/sha256.hpp"
#include "io/archive/child_process.hpp"
#include "io/archive/manifest.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/upload_manifest.hpp"
#include "io/archive/verify.hpp"

namespace booktape {

namespace fs = std::filesystem;

const char* to_string(UploadStatus s) noexcept {
  switch (s) {
    case UploadStatus::kVerified: return "verified";
    case UploadStatus::kFailed: return "failed";
    case UploadStatus::kAlreadyUploaded: return "already_uploaded";
    case UploadStatus::kWouldUpload: return "would_upload";
  }
  return "?";
}

namespace {

// Where the remote's name part ends: the first ':' outside quotes, after a leading ':' of a
// connection string.
std::size_t name_end(std::string_view remote) {
  char quote = 0;
  for (std::size_t i = remote.starts_with(':') ? 1 : 0; i < remote.size(); ++i) {
    const char c = remote[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == ':') {
      return i;
    }
  }
  return std::string_view::npos;
}

// The remote with a trailing path: REMOTE:PATH + "/" + rel.
std::string remote_join(const std::string& remote, const std::string& rel) {
  if (remote.ends_with(':') || remote.ends_with('/')) return remote + rel;
  return remote + "/" + rel;
}

std::string file_sha256(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  Sha256 h;
  std::vector<char> buf(std::size_t{1} << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  const Sha256Digest d = h.finish();
  std::string hex(kSha256HexChars, '0');
  to_hex(d.data(), d.size(), hex.data());
  return hex;
}

// A private scratch folder for rclone's file lists, removed at the end.
class Scratch {
 public:
  Scratch() {
    const char* env = std::getenv("TMPDIR");
    std::string pattern = std::string(env != nullptr ? env : "/tmp") + "/booktape-upload-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  [[nodiscard]] bool ok() const noexcept { return !dir_.empty(); }
  fs::path write_list(const std::string& name, const std::vector<std::string>& paths) const {
    const fs::path p = dir_ / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    for (const std::string& s : paths) out << s << '\n';
    return p;
  }
  [[nodiscard]] const fs::path& dir() const noexcept { return dir_; }

 private:
  fs::path dir_;
};

class Uploader {
 public:
  explicit Uploader(const UploadOptions& o) : o_(o) {
    r_.remote = redact_remote(o.remote);
    const std::size_t end = name_end(o.remote);
    if (end != std::string_view::npos && o.remote.find('=') < end) raw_name_ = o.remote.substr(0, end);
  }

  UploadResult run() {
    if (!check_tool() || !check_remote()) return finish();
    if (!scratch_.ok()) return fatal("cannot make a temporary folder for rclone's file lists");
    const std::map<std::string, UploadRecord> done = read_upload_manifest(upload_manifest_path(o_.root));
    choose(done);
    if (!to_copy_.empty()) copy(to_copy_, "data");
    if (o_.dry_run) {
      for (UploadedFile& f : r_.files)
        if (f.status != UploadStatus::kAlreadyUploaded) f.status = UploadStatus::kWouldUpload;
      return finish();
    }
    std::vector<std::string> to_check = to_copy_;
    if (o_.cleanup_after_verify) to_check.insert(to_check.end(), recheck_.begin(), recheck_.end());
    const std::set<std::string> verified = check(to_check, "data");
    record(verified, done);
    if (o_.cleanup_after_verify) cleanup(verified);
    upload_manifests();
    return finish();
  }

 private:
  void log(const std::string& line) const {
    if (o_.log) o_.log(line);
  }

  UploadResult fatal(std::string why) {
    r_.exit_code = 2;
    r_.fatal = std::move(why);
    return std::move(r_);
  }

  UploadResult finish() {
    if (r_.exit_code == 0 && (!r_.fatal.empty() || r_.count(UploadStatus::kFailed) > 0 ||
                              (!o_.dry_run && !r_.manifests_uploaded)))
      r_.exit_code = r_.fatal.empty() ? 1 : 2;
    return std::move(r_);
  }

  // Runs rclone; its error lines are surfaced verbatim (JSON log lines: their msg and object).
  ChildOutcome rclone(std::vector<std::string> args, bool collect_errors = true) {
    args.insert(args.begin(), o_.rclone);
    return run_child(args, [this, collect_errors](std::string_view line) {
      if (line.empty()) return;
      simdjson::dom::parser p;
      simdjson::dom::element d;
      std::string_view level, msg, object;
      std::string text;
      if (line.front() == '{' && p.parse(line.data(), line.size()).get(d) == simdjson::SUCCESS &&
          d["level"].get_string().get(level) == simdjson::SUCCESS) {
        if (level != "error" && level != "critical") return;
        if (d["msg"].get_string().get(msg) != simdjson::SUCCESS) return;
        text = std::string(msg);
        if (d["object"].get_string().get(object) == simdjson::SUCCESS)
          text = std::string(object) + ": " + text;
      } else {
        // rclone writes its last word in plain text even with --use-json-log.
        if (line.find("NOTICE") != std::string_view::npos ||
            line.find("Config file") != std::string_view::npos)
          return;
        text = std::string(line);
      }
      // rclone may name the remote in an error: never with a connection string's secrets.
      for (std::size_t at; !raw_name_.empty() && (at = text.find(raw_name_)) != std::string::npos;)
        text.replace(at, raw_name_.size(), redact_remote(raw_name_));
      if (collect_errors) r_.rclone_errors.push_back(text);
      log("rclone: " + text);
    });
  }

  bool check_tool() {
    const ChildOutcome v = rclone({"version"}, false);
    if (!v.started) {
      r_.exit_code = 2;
      r_.fatal = v.not_found
                     ? "rclone is not installed (or not on PATH): install it with `apt-get install "
                       "rclone` (Debian) and configure a remote with `rclone config`"
                     : "cannot run rclone: " + v.error;
      return false;
    }
    if (v.exit_code != 0) {
      r_.exit_code = 2;
      r_.fatal = "`rclone version` failed (exit " + std::to_string(v.exit_code) + ")";
      return false;
    }
    if (!o_.bwlimit.empty()) {
      // rclone parses global flags for every command: a bad rate fails here, before anything.
      std::string said;
      const ChildOutcome b = run_child({o_.rclone, "version", "--bwlimit", o_.bwlimit},
                                       [&said](std::string_view line) {
                                         if (said.empty() && line.starts_with("Error:")) said = line;
                                       });
      if (b.exit_code != 0) {
        r_.exit_code = 2;
        r_.fatal = "--bwlimit '" + o_.bwlimit + "' is not a rate rclone takes (e.g. 512K, 10M, " +
                   "or a timetable like \"08:00,512K 19:00,off\"): " + said;
        return false;
      }
    }
    return true;
  }

  bool check_remote() {
    const std::size_t end = name_end(o_.remote);
    if (end == std::string_view::npos || end == 0) {
      r_.exit_code = 2;
      r_.fatal = "--remote '" + r_.remote +
                 "' is not REMOTE:PATH (a remote rclone knows, e.g. gdrive:booktape; "
                 "`rclone listremotes` lists yours)";
      return false;
    }
    if (!o_.remote.starts_with(':')) {
      std::string name = o_.remote.substr(0, end);
      name = name.substr(0, name.find(','));
      const ChildOutcome l = rclone({"listremotes"}, false);
      bool known = false;
      std::string names;
      for (std::size_t a = 0; a < l.out.size();) {
        std::size_t b = l.out.find('\n', a);
        if (b == std::string::npos) b = l.out.size();
        std::string line = l.out.substr(a, b - a);
        if (line.ends_with(':')) line.pop_back();
        if (!line.empty()) {
          known = known || line == name;
          names += (names.empty() ? "" : ", ") + line;
        }
        a = b + 1;
      }
      if (!known) {
        const ChildOutcome cf = rclone({"config", "file"}, false);
        std::string file = cf.out;
        if (const std::size_t nl = file.find('\n'); nl != std::string::npos) file = file.substr(nl + 1);
        while (!file.empty() && (file.back() == '\n' || file.back() == '\r')) file.pop_back();
        r_.exit_code = 2;
        r_.fatal = "rclone has no remote named '" + name + "' (remotes: " +
                   (names.empty() ? "none" : names) + "; config file: " +
                   (file.empty() ? "unknown" : file) +
                   "): create it with `rclone config`, or set RCLONE_CONFIG to the file that has it";
        return false;
      }
    }
    // The remote's hash types decide how uploads are verified.
    const ChildOutcome f = rclone({"backend", "features", o_.remote.substr(0, end + 1)}, false);
    simdjson::dom::parser p;
    simdjson::dom::element d;
    simdjson::dom::array hashes;
    if (f.exit_code != 0 || p.parse(f.out).get(d) != simdjson::SUCCESS ||
        d["Hashes"].get_array().get(hashes) != simdjson::SUCCESS) {
      r_.exit_code = 2;
      r_.fatal = "rclone cannot use the remote '" + r_.remote +
                 "' (`rclone backend features` failed): check it with `rclone config` and "
                 "`rclone lsd " + redact_remote(o_.remote.substr(0, end + 1)) + "`";
      return false;
    }
    for (simdjson::dom::element h : hashes) {
      std::string_view name;
      if (h.get_string().get(name) == simdjson::SUCCESS) {
        r_.verified_by = name;
        break;
      }
    }
    if (r_.verified_by.empty()) r_.verified_by = "download";
    return true;
  }

  // Verifies locally what this run will touch, then sorts the closed data files: to copy, or
  // already uploaded (rechecked only when they may be removed).
  void choose(const std::map<std::string, UploadRecord>& done) {
    VerifyOptions vo;
    vo.label = !o_.dry_run;
    vo.select = [](const std::string& path) {
      return !is_open_name(fs::path(path).filename().string());
    };
    const RootVerification v = verify_root(o_.root, vo);
    for (const std::string& e : v.errors) r_.local_problems.push_back(e);
    for (const VerifiedFile& f : v.files) {
      if (f.verdict != FileVerdict::kOk && f.verdict != FileVerdict::kInvalid &&
          f.verdict != FileVerdict::kUnlisted)
        continue;  // not here (missing, offloaded), not ours (foreign), or still open
      UploadedFile u;
      u.path = f.path;
      u.bytes = f.report.bytes;
      u.local_verified = f.verdict == FileVerdict::kOk;
      u.sha256 = u.local_verified ? f.entry->sha256 : file_sha256(o_.root / f.path);
      if (!u.local_verified)
        r_.local_problems.push_back(f.path + ": " + to_string(f.verdict) + ": " +
                                    (f.problems.empty() ? std::string() : f.problems.front()));
      const auto it = done.find(f.path);
      if (it != done.end() && it->second.sha256 == u.sha256) {
        u.status = UploadStatus::kAlreadyUploaded;
        if (o_.cleanup_after_verify && u.local_verified) recheck_.push_back(u.path);
      } else {
        to_copy_.push_back(u.path);
      }
      r_.files.push_back(std::move(u));
    }
    log(std::to_string(to_copy_.size()) + " file(s) to upload, " +
        std::to_string(r_.count(UploadStatus::kAlreadyUploaded)) + " uploaded before");
  }

  // JSON log lines to parse; no periodic stats; the retry counts asked for.
  std::vector<std::string> common_args() const {
    return {"--use-json-log", "--log-level", "INFO", "--stats", "0", "--retries",
            std::to_string(o_.retries), "--low-level-retries", std::to_string(o_.low_level_retries)};
  }

  bool copy(const std::vector<std::string>& paths, const std::string& what) {
    const fs::path list = scratch_.write_list(what + "_copy.txt", paths);
    std::vector<std::string> args = {"copy", o_.root.string(), o_.remote, "--files-from",
                                     list.string(), "--no-traverse"};
    if (!o_.bwlimit.empty()) args.insert(args.end(), {"--bwlimit", o_.bwlimit});
    if (o_.dry_run) args.push_back("--dry-run");
    for (std::string& a : common_args()) args.push_back(std::move(a));
    const ChildOutcome c = rclone(args);
    if (c.exit_code != 0) {
      log("rclone copy of " + what + " ended with exit code " + std::to_string(c.exit_code));
      return false;
    }
    return true;
  }

  // rclone check, one way: the paths it says match on the remote.
  std::set<std::string> check(const std::vector<std::string>& paths, const std::string& what) {
    std::set<std::string> ok;
    if (paths.empty()) return ok;
    const fs::path list = scratch_.write_list(what + "_check.txt", paths);
    const fs::path combined = scratch_.dir() / (what + "_combined.txt");
    std::vector<std::string> args = {"check",       o_.root.string(), o_.remote,
                                     "--files-from", list.string(),   "--one-way",
                                     "--combined",   combined.string()};
    if (r_.verified_by == "download") args.push_back("--download");
    for (std::string& a : common_args()) args.push_back(std::move(a));
    rclone(args, false);  // differences are expected after a failed copy: read per file below
    std::ifstream in(combined);
    for (std::string line; std::getline(in, line);) {
      if (line.size() > 2 && line[0] == '=' && line[1] == ' ') ok.insert(line.substr(2));
    }
    return ok;
  }

  void record(const std::set<std::string>& verified, const std::map<std::string, UploadRecord>& done) {
    const fs::path manifest = upload_manifest_path(o_.root);
    for (UploadedFile& f : r_.files) {
      const bool in_check = std::find(to_copy_.begin(), to_copy_.end(), f.path) != to_copy_.end() ||
                            std::find(recheck_.begin(), recheck_.end(), f.path) != recheck_.end();
      if (!in_check) continue;
      if (!verified.contains(f.path)) {
        f.status = UploadStatus::kFailed;
        f.why = "not on the remote, or the remote copy differs";
        continue;
      }
      const bool was_done = f.status == UploadStatus::kAlreadyUploaded;
      f.status = UploadStatus::kVerified;
      if (was_done && done.contains(f.path)) continue;  // recorded before
      UploadRecord u;
      u.path = f.path;
      u.sha256 = f.sha256;
      u.bytes = f.bytes;
      u.remote = r_.remote;
      u.remote_path = remote_join(r_.remote, f.path);
      u.verified_by = r_.verified_by;
      u.verified_at = realtime_now();
      const std::string err = append_line(manifest, render_upload_line(u), true);
      if (!err.empty()) {
        f.status = UploadStatus::kFailed;
        f.why = "verified, but the upload manifest cannot be written: " + err;
      }
    }
    log(std::to_string(r_.count(UploadStatus::kVerified)) + " verified on the remote (" +
        r_.verified_by + "), " + std::to_string(r_.count(UploadStatus::kFailed)) + " failed");
  }

  // Deletes a local file only when its upload was verified in this run and its local verify
  // passed; the removal is written to the upload manifest before the file goes.
  void cleanup(const std::set<std::string>& verified) {
    const fs::path manifest = upload_manifest_path(o_.root);
    for (UploadedFile& f : r_.files) {
      if (f.status != UploadStatus::kVerified || !f.local_verified || !verified.contains(f.path))
        continue;
      UploadRecord u;
      u.path = f.path;
      u.sha256 = f.sha256;
      u.remote_path = remote_join(r_.remote, f.path);
      u.removed_at = realtime_now();
      if (!append_line(manifest, render_removal_line(u), true).empty()) continue;
      std::error_code ec;
      if (fs::remove(o_.root / f.path, ec)) f.removed = true;
    }
    log("removed " + std::to_string(r_.removed()) + " local file(s) whose upload was verified");
  }

  void upload_manifests() {
    std::vector<std::string> paths;
    std::error_code ec;
    for (auto it = fs::directory_iterator(o_.root / "manifests", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->is_regular_file(ec) && !name.starts_with('.')) paths.push_back("manifests/" + name);
    }
    std::sort(paths.begin(), paths.end());
    if (paths.empty()) {
      r_.manifests_uploaded = true;
      return;
    }
    if (!copy(paths, "manifests")) return;
    // A recorder may append to a manifest meanwhile: a difference now is uploaded next time.
    const std::set<std::string> ok = check(paths, "manifests");
    if (ok.size() != paths.size())
      log(std::to_string(paths.size() - ok.size()) +
          " manifest(s) changed while uploading; the next run uploads them again");
    r_.manifests_uploaded = true;
  }

  const UploadOptions& o_;
  UploadResult r_;
  std::string raw_name_;  // a connection string's name part, with its secrets: masked in output
  Scratch scratch_;
  std::vector<std::string> to_copy_;  // not uploaded before (or other bytes than recorded)
  std::vector<std::string> recheck_;  // uploaded before; checked again before removal
};

}  // namespace

std::string redact_remote(std::string_view remote) {
  const std::size_t end = name_end(remote);
  const std::string_view name = remote.substr(0, end);
  std::string out;
  char quote = 0;
  bool in_value = false;
  for (char c : name) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;  // inside a quoted value: masked
    }
    if (in_value) {
      if (c == ',') {
        in_value = false;
        out += c;
      } else if (c == '\'' || c == '"') {
        quote = c;
      }
      continue;
    }
    out += c;
    if (c == '=') {
      out += "***";
      in_value = true;
    }
  }
  if (end != std::string_view::npos) out += remote.substr(end);
  return out;
}

std::uint64_t UploadResult::count(UploadStatus s) const noexcept {
  return static_cast<std::uint64_t>(
      std::count_if(files.begin(), files.end(), [s](const UploadedFile& f) { return f.status == s; }));
}

std::uint64_t UploadResult::removed() const noexcept {
  return static_cast<std::uint64_t>(
      std::count_if(files.begin(), files.end(), [](const UploadedFile& f) { return f.removed; }));
}

std::string UploadResult::json() const {
  std::string s = "{\"exit_code\":" + std::to_string(exit_code);
  json_str(s, "remote", remote);
  json_str(s, "verified_by", verified_by);
  if (!fatal.empty()) json_str(s, "fatal", fatal);
  for (const UploadStatus st : {UploadStatus::kVerified, UploadStatus::kFailed,
                                UploadStatus::kAlreadyUploaded, UploadStatus::kWouldUpload})
    s += std::string(",\"") + to_string(st) + "\":" + std::to_string(count(st));
  s += ",\"removed\":" + std::to_string(removed());
  s += std::string(",\"manifests_uploaded\":") + (manifests_uploaded ? "true" : "false");
  s += ",\"files\":[";
  for (std::size_t i = 0; i < files.size(); ++i) {
    const UploadedFile& f = files[i];
    if (i) s += ',';
    s += "{\"path\":";
    append_json_string(s, f.path);
    json_str(s, "status", to_string(f.status));
    json_str(s, "sha256", f.sha256);
    s += ",\"bytes\":" + std::to_string(f.bytes);
    s += std::string(",\"local_verified\":") + (f.local_verified ? "true" : "false");
    s += std::string(",\"removed\":") + (f.removed ? "true" : "false");
    if (!f.why.empty()) json_str(s, "why", f.why);
    s += '}';
  }
  s += "]";
  json_str_array(s, "rclone_errors", rclone_errors);
  json_str_array(s, "local_problems", local_problems);
  s += "}\n";
  return s;
}

UploadResult upload_archive(const UploadOptions& o) { return Uploader(o).run(); }

}  // namespace booktape
