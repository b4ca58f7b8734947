#include "io/record/bookless_tokens.hpp"

#include <algorithm>

namespace booktape {

BooklessTokens::Action BooklessTokens::on_report(const std::string& token, MonoNanos now) {
  State& s = tokens_[token];
  if (s.unknown) return Action::kIgnore;
  if (now < s.next) return Action::kWait;
  ++s.tries;
  // After try n the next waits 2^n report periods (up to 5 minutes): a token the venue does not
  // send is not resubscribed every few seconds for ever.
  const std::int64_t wait = std::min<std::int64_t>(base_ns_ << std::min(s.tries, 16),
                                                   std::int64_t{300} * kNanosPerSecond);
  s.next = now + wait;
  return s.tries >= kAskAfter ? Action::kAskVenue : Action::kResubscribe;
}

void BooklessTokens::mark_unknown(const std::string& token) {
  State& s = tokens_[token];
  if (!s.unknown) ++unknown_;
  s.unknown = true;
}

std::vector<std::string> BooklessTokens::unknown_tokens() const {
  std::vector<std::string> out;
  for (const auto& [id, s] : tokens_)
    if (s.unknown) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace booktape
