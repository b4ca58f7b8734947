#include "io/record/runtime_subscriptions.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>

#include "codecs/book_json.hpp"

namespace booktape {

namespace {

void append_ids(std::string& out, const std::set<std::string>& ids) {
  out += '[';
  bool first = true;
  for (const std::string& id : ids) {
    out += first ? "" : ",";
    first = false;
    append_json_string(out, id);
  }
  out += ']';
}

bool valid_id(std::string_view id) {
  return !id.empty() && id.size() <= RuntimeSubscriptions::kMaxIdBytes &&
         std::all_of(id.begin(), id.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

bool parse_token_ids(std::string_view body, std::vector<std::string>& ids, std::string& why) {
  const std::string_view form = R"(expected {"token_ids":["<token id>", ...]})";
  simdjson::dom::parser p;
  simdjson::dom::element root;
  simdjson::dom::array list;
  if (p.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS ||
      (root["token_ids"].get(list) != simdjson::SUCCESS &&
       root["assets_ids"].get(list) != simdjson::SUCCESS)) {
    why = std::string(form);
    return false;
  }
  if (list.size() == 0 || list.size() > RuntimeSubscriptions::kMaxIdsPerRequest) {
    why = "from 1 to " + std::to_string(RuntimeSubscriptions::kMaxIdsPerRequest) +
          " token ids a request; " + std::string(form);
    return false;
  }
  for (simdjson::dom::element e : list) {
    std::string_view id;
    if (e.get(id) != simdjson::SUCCESS || !valid_id(id)) {
      why = "a token id is 1-" + std::to_string(RuntimeSubscriptions::kMaxIdBytes) +
            " letters and digits, as a JSON string; got " + simdjson::minify(e);
      return false;
    }
    ids.emplace_back(id);
  }
  return true;
}

void RuntimeSubscriptions::add_to(HttpServer& server) {
  server.route("POST", "/subscriptions", [this](const HttpRequest& r) { return change(r, true); });
  server.route("DELETE", "/subscriptions",
               [this](const HttpRequest& r) { return change(r, false); });
  server.route("GET", "/subscriptions", [this](const HttpRequest&) { return list(); });
}

HttpReply RuntimeSubscriptions::change(const HttpRequest& r, bool add) {
  if (!writable_) {
    return HttpReply::error(403,
                            "runtime subscriptions are served only on a loopback listener "
                            "(--http 127.0.0.1:PORT); this one is public");
  }
  if (!r.origin.empty()) {
    return HttpReply::error(403,
                            "a request from a web page (it has an Origin header) cannot "
                            "change subscriptions");
  }
  if (!r.content_type.starts_with("application/json"))
    return HttpReply::error(415, "send the token ids as Content-Type: application/json");
  std::vector<std::string> ids;
  std::string why;
  if (!parse_token_ids(r.body, ids, why)) return HttpReply::error(400, why);
  std::string out;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    // Both sets stay bounded (what is pending counts too: take() has not seen it yet).
    const std::set<std::string>& grows = add ? added_ : removed_;
    std::set<std::string> fresh;
    for (const Request& q : pending_)
      if (q.add == add) fresh.insert(q.ids.begin(), q.ids.end());
    fresh.insert(ids.begin(), ids.end());
    std::erase_if(fresh, [&](const std::string& id) { return grows.count(id) != 0; });
    if (grows.size() + fresh.size() > kMaxAdded) {
      return HttpReply::error(409, "at most " + std::to_string(kMaxAdded) + " tokens may be " +
                                       (add ? "added" : "removed") + " at runtime");
    }
    out = std::string("{\"") + (add ? "adding" : "removing") + "\":";
    append_ids(out, std::set<std::string>(ids.begin(), ids.end()));
    pending_.push_back(Request{add, std::move(ids)});
    ++requests_;
    out += ",\"request\":" + std::to_string(requests_) + "}";
  }
  return HttpReply::json(std::move(out), 202);
}

HttpReply RuntimeSubscriptions::list() const {
  const std::lock_guard<std::mutex> lock(mu_);
  std::string out = "{\"writable\":";
  out += writable_ ? "true" : "false";
  out += ",\"added\":";
  append_ids(out, added_);
  out += ",\"removed\":";
  append_ids(out, removed_);
  out += ",\"requests\":" + std::to_string(requests_) + ",\"applied\":" + std::to_string(applied_) +
         "}";
  return HttpReply::json(std::move(out));
}

bool RuntimeSubscriptions::take() {
  const std::lock_guard<std::mutex> lock(mu_);
  if (pending_.empty()) return false;
  for (const Request& q : pending_) {
    for (const std::string& id : q.ids) {
      if (q.add) {
        removed_.erase(id);
        added_.insert(id);
      } else {
        added_.erase(id);
        removed_.insert(id);
      }
    }
    ++applied_;
  }
  pending_.clear();
  return true;
}

std::vector<std::vector<TokenInfo>> RuntimeSubscriptions::compose(
    const std::vector<std::vector<TokenInfo>>& base) const {
  const std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::vector<TokenInfo>> out;
  std::set<std::string> in_base;
  for (const auto& g : base) {
    std::vector<TokenInfo> kept;
    for (const TokenInfo& t : g) {
      in_base.insert(t.token_id);
      if (removed_.count(t.token_id) == 0) kept.push_back(t);
    }
    if (!kept.empty()) out.push_back(std::move(kept));
  }
  for (const std::string& id : added_) {
    if (in_base.count(id) != 0) continue;  // discovery carries it already
    TokenInfo t;
    t.token_id = id;
    out.push_back({t});
  }
  return out;
}

}  // namespace booktape
