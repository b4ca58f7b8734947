#include "io/sim/gamma_catalogue.hpp"

#include <random>

namespace booktape {

namespace pm = polymarket;

namespace {

constexpr std::uint64_t kFirstId = 2'000'000;

std::string random_digits(std::mt19937_64& rng, int n) {
  std::string s(static_cast<std::size_t>(n), '0');
  for (int i = 0; i < n; ++i)
    s[static_cast<std::size_t>(i)] = static_cast<char>('0' + (i == 0 ? 1 + rng() % 9 : rng() % 10));
  return s;
}

std::string random_hex(std::mt19937_64& rng, int n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(static_cast<std::size_t>(n), '0');
  for (char& c : s) c = kHex[rng() % 16];
  return s;
}

// The kind of market `i` is; the rates are the header's. The first rule that applies wins.
GammaCatalogue::Kind kind_of(std::size_t i) {
  using K = GammaCatalogue::Kind;
  if (i % 37 == 36) return K::kClosed;
  if (i % 101 == 7) return K::kHydrating;
  if (i % 211 == 13) return K::kNoVersion;
  if (i % 223 == 17) return K::kUnknownVersion;
  if (i % 227 == 19) return K::kUnmatchedOutcomes;
  if (i % 229 == 23) return K::kNonDecimalId;
  return K::kGood;
}

}  // namespace

GammaCatalogue::GammaCatalogue(std::size_t count, std::uint64_t seed, UnixNanos now) {
  std::mt19937_64 rng(seed ^ 0x6a09e667f3bcc908ull);
  markets_.reserve(count);
  kinds_.reserve(count);
  pending_ids_.resize(count);
  hydrated_.assign(count, false);
  for (std::size_t i = 0; i < count; ++i) {
    const Kind kind = kind_of(i);
    pm::GammaMarket m;
    m.id = std::to_string(kFirstId + i);
    m.slug = "sim-catalogue-" + std::to_string(i);
    m.question = "Sim catalogue market " + std::to_string(i) + "?";
    m.condition_id = "0x" + random_hex(rng, 64);
    m.start_date = now - 86'400 * kNanosPerSecond;
    m.end_date = now + (30 * 86'400 + static_cast<std::int64_t>(i)) * kNanosPerSecond;
    m.active = kind != Kind::kClosed;
    m.closed = kind == Kind::kClosed;
    m.outcomes = {"Yes", "No"};
    m.outcome_prices = {"0.5", "0.5"};
    const bool v2 = i % 10 == 0;
    std::vector<std::string> ids = {random_digits(rng, 77), random_digits(rng, 77)};
    std::vector<std::string> decoys = {random_digits(rng, 77), random_digits(rng, 77)};
    if (kind == Kind::kUnmatchedOutcomes) m.outcomes.push_back("Maybe");
    if (kind == Kind::kNonDecimalId) ids[1] = "0x" + random_hex(rng, 40);
    if (kind == Kind::kHydrating) {
      pending_ids_[i] = ids;
      ids = {"", ""};
    }
    m.version = kind == Kind::kNoVersion ? "" : kind == Kind::kUnknownVersion ? "v3" : v2 ? "v2" : "v1";
    if (v2) {
      m.position_ids = std::move(ids);
      m.clob_token_ids = std::move(decoys);  // the CTF ids: not what a V2 market trades by
    } else {
      m.clob_token_ids = std::move(ids);
      if (i % 10 == 5) m.position_ids = std::move(decoys);
    }
    markets_.push_back(std::move(m));
    kinds_.push_back(kind);
  }
}

void GammaCatalogue::listed(std::span<const pm::GammaMarket* const> page) {
  if (markets_.empty()) return;
  for (const pm::GammaMarket* m : page) {
    if (m < markets_.data() || m >= markets_.data() + markets_.size()) continue;  // not ours
    const auto i = static_cast<std::size_t>(m - markets_.data());
    if (kinds_[i] != Kind::kHydrating || hydrated_[i]) continue;
    hydrated_[i] = true;
    pm::GammaMarket& mm = markets_[i];
    (mm.version == "v2" ? mm.position_ids : mm.clob_token_ids) = pending_ids_[i];
  }
}

std::map<std::string, std::string> GammaCatalogue::expected_ids() const {
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i < markets_.size(); ++i) {
    const bool usable = kinds_[i] == Kind::kGood || (kinds_[i] == Kind::kHydrating && hydrated_[i]);
    if (!usable) continue;
    const pm::GammaMarket& m = markets_[i];
    for (const std::string& id : m.version == "v2" ? m.position_ids : m.clob_token_ids)
      out.emplace(id, m.condition_id);
  }
  return out;
}

std::array<std::size_t, pm::kSkipReasonCount> GammaCatalogue::expected_skips() const {
  std::array<std::size_t, pm::kSkipReasonCount> out{};
  const auto count = [&](pm::SkipReason r) { ++out[static_cast<std::size_t>(r)]; };
  for (std::size_t i = 0; i < markets_.size(); ++i) {
    switch (kinds_[i]) {
      case Kind::kGood:
      case Kind::kClosed: break;
      case Kind::kHydrating:
        if (!hydrated_[i]) count(pm::SkipReason::kHydrating);
        break;
      case Kind::kNoVersion: count(pm::SkipReason::kNoVersion); break;
      case Kind::kUnknownVersion: count(pm::SkipReason::kUnknownVersion); break;
      case Kind::kUnmatchedOutcomes: count(pm::SkipReason::kUnmatchedOutcomes); break;
      case Kind::kNonDecimalId: count(pm::SkipReason::kNonDecimalId); break;
    }
  }
  return out;
}

}  // namespace booktape
