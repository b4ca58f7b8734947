#include "io/archive/upload_manifest.hpp"

#include <simdjson.h>

#include <fstream>

#include "codecs/json_out.hpp"

namespace booktape {

std::string render_upload_line(const UploadRecord& r) {
  std::string s = "{\"record\":\"upload\"";
  json_str(s, "path", r.path);
  json_str(s, "sha256", r.sha256);
  s += ",\"bytes\":" + std::to_string(r.bytes);
  json_str(s, "remote", r.remote);
  json_str(s, "remote_path", r.remote_path);
  json_str(s, "verified_by", r.verified_by);
  s += ",\"verified_at_utc\":\"" + format_utc(r.verified_at) + "\"}\n";
  return s;
}

std::string render_removal_line(const UploadRecord& r) {
  std::string s = "{\"record\":\"upload_local_removed\"";
  json_str(s, "path", r.path);
  json_str(s, "sha256", r.sha256);
  json_str(s, "remote_path", r.remote_path);
  s += ",\"removed_at_utc\":\"" + format_utc(r.removed_at) + "\"}\n";
  return s;
}

std::map<std::string, UploadRecord> read_upload_manifest(const std::filesystem::path& file) {
  std::map<std::string, UploadRecord> out;
  std::ifstream in(file, std::ios::binary);
  simdjson::dom::parser parser;
  for (std::string line; std::getline(in, line);) {
    simdjson::dom::element d;
    std::string_view kind, path, sha, text;
    if (parser.parse(line).get(d) != simdjson::SUCCESS ||
        d["record"].get_string().get(kind) != simdjson::SUCCESS ||
        d["path"].get_string().get(path) != simdjson::SUCCESS ||
        d["sha256"].get_string().get(sha) != simdjson::SUCCESS) {
      continue;
    }
    if (kind == "upload") {
      UploadRecord r;
      r.path = path;
      r.sha256 = sha;
      std::uint64_t bytes = 0;
      if (d["bytes"].get_uint64().get(bytes) == simdjson::SUCCESS) r.bytes = bytes;
      if (d["remote"].get_string().get(text) == simdjson::SUCCESS) r.remote = text;
      if (d["remote_path"].get_string().get(text) == simdjson::SUCCESS) r.remote_path = text;
      if (d["verified_by"].get_string().get(text) == simdjson::SUCCESS) r.verified_by = text;
      if (d["verified_at_utc"].get_string().get(text) == simdjson::SUCCESS)
        r.verified_at = parse_utc(text).value_or(0);
      out[r.path] = std::move(r);  // a later upload of the path (new bytes) replaces the record
    } else if (kind == "upload_local_removed") {
      const auto it = out.find(std::string(path));
      if (it == out.end() || it->second.sha256 != sha) continue;
      if (d["removed_at_utc"].get_string().get(text) == simdjson::SUCCESS)
        it->second.removed_at = parse_utc(text).value_or(1);
    }
  }
  return out;
}

}  // namespace booktape
