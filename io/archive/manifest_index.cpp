#include "io/archive/manifest_index.hpp"

#include <simdjson.h>

#include <fstream>

#include "codecs/envelope.hpp"
#include "core/version.hpp"

namespace booktape {

namespace fs = std::filesystem;

namespace {

std::uint64_t u64_or(const simdjson::dom::element& d, const char* key, std::uint64_t dflt = 0) {
  std::uint64_t v = 0;
  return d[key].get_uint64().get(v) == simdjson::SUCCESS ? v : dflt;
}

std::int64_t i64_or(const simdjson::dom::element& d, const char* key) {
  std::int64_t v = 0;
  return d[key].get_int64().get(v) == simdjson::SUCCESS ? v : 0;
}

std::string string_or(const simdjson::dom::element& d, const char* key) {
  std::string_view v;
  return d[key].get_string().get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
}

template <std::size_t N, typename Enum>
void read_counts(const simdjson::dom::element& d, const char* key,
                 std::array<std::uint64_t, N>& out) {
  simdjson::dom::object o;
  if (d[key].get_object().get(o) != simdjson::SUCCESS) return;
  for (auto [name, value] : o) {
    std::uint64_t n = 0;
    if (value.get_uint64().get(n) != simdjson::SUCCESS) continue;
    for (std::size_t i = 0; i < N; ++i) {
      if (name == to_string(static_cast<Enum>(i))) out[i] += n;
    }
  }
}

thread_local simdjson::dom::parser tls_parser;

}  // namespace

bool parse_manifest_entry(std::string_view line, ManifestEntry& e) {
  simdjson::dom::element d;
  std::string_view kind;
  if (tls_parser.parse(line.data(), line.size(), true).get(d) != simdjson::SUCCESS ||
      d["record"].get_string().get(kind) != simdjson::SUCCESS || kind != "manifest_entry") {
    return false;
  }
  e = ManifestEntry{};
  e.path = string_or(d, "path");
  e.sha256 = string_or(d, "sha256");
  if (e.path.empty() || d["bytes"].get_uint64().error() != simdjson::SUCCESS) return false;
  e.bytes = u64_or(d, "bytes");
  e.rows = u64_or(d, "rows");
  e.frames = u64_or(d, "frames");
  e.records = u64_or(d, "records");
  e.members = u64_or(d, "members");
  e.first_received_ns = i64_or(d, "first_received_at_ns");
  e.last_received_ns = i64_or(d, "last_received_at_ns");
  e.first_global_sequence = u64_or(d, "first_global_message_sequence");
  e.last_global_sequence = u64_or(d, "last_global_message_sequence");
  read_counts<polymarket::kEventTypeCount, polymarket::EventType>(d, "events_by_type",
                                                                   e.events_by_type);
  read_counts<polymarket::kFrameKindCount, polymarket::FrameKind>(d, "frames_by_kind",
                                                                   e.frames_by_kind);
  e.run_id = string_or(d, "run_id");
  e.file_sequence = u64_or(d, "file_sequence");
  e.closed_at = parse_utc(string_or(d, "closed_at_utc")).value_or(0);
  bool recovered = false;
  e.recovered = d["recovered"].get_bool().get(recovered) == simdjson::SUCCESS && recovered;
  e.torn_tail_bytes = u64_or(d, "torn_tail_bytes");
  e.torn_tail_rows = u64_or(d, "torn_tail_rows");
  return true;
}

std::string render_manifest_label(const ManifestLabel& l) {
  std::string s = "{\"record\":\"manifest_label\",\"path\":";
  append_json_string(s, l.path);
  s += ",\"label\":";
  append_json_string(s, l.label);
  s += ",\"reason\":";
  append_json_string(s, l.reason);
  s += ",\"labelled_at_utc\":\"" + format_utc(l.labelled_at) + "\",\"by\":";
  append_json_string(s, l.by.empty() ? std::string("booktape " BOOKTAPE_VERSION) : l.by);
  s += "}\n";
  return s;
}

ManifestIndex ManifestIndex::load(const fs::path& file) {
  ManifestIndex ix;
  std::ifstream in(file, std::ios::binary);
  if (!in) return ix;
  ix.loaded_ = true;
  simdjson::dom::parser parser;
  for (std::string line; std::getline(in, line);) {
    ix.file_bytes_ += line.size() + 1;
    if (line.empty()) continue;
    ManifestEntry e;
    if (parse_manifest_entry(line, e)) {
      ix.by_path_[e.path] = ix.all_.size();
      ix.all_.push_back(std::move(e));
      continue;
    }
    simdjson::dom::element d;
    std::string_view kind;
    if (parser.parse(line).get(d) == simdjson::SUCCESS &&
        d["record"].get_string().get(kind) == simdjson::SUCCESS && kind == "manifest_label") {
      ManifestLabel l;
      l.path = string_or(d, "path");
      l.label = string_or(d, "label");
      l.reason = string_or(d, "reason");
      l.labelled_at = parse_utc(string_or(d, "labelled_at_utc")).value_or(0);
      l.by = string_or(d, "by");
      if (!l.path.empty()) {
        ix.labels_[l.path] = std::move(l);
        continue;
      }
    }
    ++ix.bad_lines_;  // a torn append or a line of another kind: kept in the file, skipped
  }
  return ix;
}

const ManifestEntry* ManifestIndex::find(std::string_view path) const {
  const auto it = by_path_.find(std::string(path));
  return it == by_path_.end() ? nullptr : &all_[it->second];
}

const ManifestLabel* ManifestIndex::label(std::string_view path) const {
  const auto it = labels_.find(std::string(path));
  return it == labels_.end() ? nullptr : &it->second;
}

std::vector<const ManifestEntry*> ManifestIndex::entries() const {
  std::vector<const ManifestEntry*> out;
  for (std::size_t i = 0; i < all_.size(); ++i) {
    if (by_path_.at(all_[i].path) == i) out.push_back(&all_[i]);
  }
  return out;
}

std::optional<ArchiveLocation> locate_archive_file(const fs::path& file) {
  const fs::path p = file.lexically_normal();
  const fs::path hour = p.parent_path(), date = hour.parent_path(), stream = date.parent_path(),
                 venue = stream.parent_path(), raw = venue.parent_path();
  if (!hour.filename().string().starts_with("hour=") ||
      !date.filename().string().starts_with("date=") || raw.filename() != "raw_orderbooks" ||
      stream.filename().empty() || venue.filename().empty()) {
    return std::nullopt;
  }
  ArchiveLocation l;
  l.root = raw.parent_path();
  if (l.root.empty()) l.root = ".";
  l.venue = venue.filename().string();
  l.stream = stream.filename().string();
  l.manifest_path = manifest_path_of(p, l.root);
  return l;
}

}  // namespace booktape
