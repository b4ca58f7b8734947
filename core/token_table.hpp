#pragma once
// Maps a token id string (Polymarket asset ids are ~77 decimal digits) to a dense index.
// Lookups never allocate; inserting a new token may (it is rare: once per token per run).
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace booktape {

using TokenIndex = std::uint32_t;
inline constexpr TokenIndex kNoToken = ~TokenIndex{0};

class TokenTable {
 public:
  TokenTable() { slots_.assign(kInitialSlots, Slot{}); }

  [[nodiscard]] TokenIndex find(std::string_view key) const noexcept {
    const std::uint64_t h = full_ ? full_hash(key) : hash(key);
    for (std::size_t i = h & mask(); ; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.index == kNoToken) return kNoToken;
      if (s.hash == h && same(keys_[s.index], key)) return s.index;
    }
  }

  // Returns the existing index or assigns the next one.
  TokenIndex intern(std::string_view key) {
    TokenIndex found = find(key);
    if (found != kNoToken) return found;
    if ((keys_.size() + 1) * 2 > slots_.size()) grow();
    const auto index = static_cast<TokenIndex>(keys_.size());
    keys_.emplace_back(key);
    if (place(full_ ? full_hash(key) : hash(key), index) > kMaxProbe && !full_) {
      // Keys built to share the sampled bytes (a crafted archive) pile up on one slot and make
      // every lookup a scan: from now on hash every byte.
      full_ = true;
      seed_ = (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
      rehash(slots_.size());
    }
    return index;
  }

  // True once crafted keys made the table hash every byte of a key (see intern).
  [[nodiscard]] bool hashes_whole_keys() const noexcept { return full_; }

  [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }
  [[nodiscard]] const std::string& key(TokenIndex i) const noexcept { return keys_[i]; }

  // Every byte of the key, 8 at a time in three independent lanes, keyed by a random seed
  // drawn when the table switches: the fallback when the sampled hash below is being defeated.
  [[nodiscard, gnu::noinline]] std::uint64_t full_hash(std::string_view k) const noexcept {
    const std::size_t n = k.size();
    if (n < 8) return hash(k);
    std::uint64_t a = n ^ seed_, b = 0x9E3779B97F4A7C15ull, c = 0x165667B19E3779F9ull;
    std::size_t i = 0;
    for (; i + 24 <= n; i += 24) {
      a = (a ^ load(k.data() + i)) * 0x9E3779B97F4A7C15ull;
      b = (b ^ load(k.data() + i + 8)) * 0xC2B2AE3D27D4EB4Full;
      c = (c ^ load(k.data() + i + 16)) * 0x165667B19E3779F9ull;
      a ^= a >> 29;
      b ^= b >> 31;
      c ^= c >> 27;
    }
    for (; i + 8 <= n; i += 8) a = mix(a ^ load(k.data() + i));
    return mix(a ^ mix(b) ^ (c * 0xBF58476D1CE4E5B9ull) ^ load(k.data() + n - 8));
  }

  // Token ids are random decimal strings: three 8-byte loads (head, middle, tail) spread them
  // well. The three are multiplied independently and folded by one finaliser, so the lookup
  // waits for one dependency chain, not three (a price_change looks up two ids per frame).
  // Adversarial keys can only lengthen probe chains, and the table size is bounded by the
  // owner (BookKeeper's token limit).
  static std::uint64_t hash(std::string_view k) noexcept {
    const std::size_t n = k.size();
    if (n >= 8) {
      return mix((load(k.data()) * 0x9E3779B97F4A7C15ull) ^
                 (load(k.data() + n / 2 - 4) * 0xC2B2AE3D27D4EB4Full) ^
                 (load(k.data() + n - 8) * 0x165667B19E3779F9ull) ^ n);
    }
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (char c : k) h = mix(h ^ static_cast<unsigned char>(c));
    return h;
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    TokenIndex index = kNoToken;
  };
  static constexpr std::size_t kInitialSlots = 64;
  // Random ids at load <= 1/2 essentially never land this far from their slot.
  static constexpr std::size_t kMaxProbe = 64;

  static std::uint64_t load(const char* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static std::uint64_t mix(std::uint64_t x) noexcept {  // splitmix64 finaliser
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  }
  // Equal keys, compared 8 bytes at a time without a library call (ids are ~77 bytes).
  static bool same(const std::string& a, std::string_view b) noexcept {
    const std::size_t n = a.size();
    if (n != b.size()) return false;
    if (n < 8) return std::memcmp(a.data(), b.data(), n) == 0;
    std::uint64_t diff = load(a.data() + n - 8) ^ load(b.data() + n - 8);  // the tail, overlapping
    for (std::size_t i = 0; i + 8 <= n; i += 8) diff |= load(a.data() + i) ^ load(b.data() + i);
    return diff == 0;
  }
  [[nodiscard]] std::size_t mask() const noexcept { return slots_.size() - 1; }
  // Returns how far from its home slot the key landed.
  std::size_t place(std::uint64_t h, TokenIndex index) noexcept {
    std::size_t i = h & mask(), probes = 0;
    for (; slots_[i].index != kNoToken; ++probes) i = (i + 1) & mask();
    slots_[i] = Slot{h, index};
    return probes;
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old)
      if (s.index != kNoToken) place(s.hash, s.index);
  }
  void rehash(std::size_t slot_count) {
    slots_.assign(slot_count, Slot{});
    for (std::size_t i = 0; i < keys_.size(); ++i)
      place(full_hash(keys_[i]), static_cast<TokenIndex>(i));
  }

  std::vector<Slot> slots_;  // power-of-two size, load factor <= 1/2, linear probing
  std::vector<std::string> keys_;
  bool full_ = false;  // hash whole keys (set for good once sampling is defeated)
  std::uint64_t seed_ = 0;
};

}  // namespace booktape
