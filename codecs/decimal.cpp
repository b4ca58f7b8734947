#include "codecs/decimal.hpp"

namespace booktape {

const char* to_string(DecimalError e) noexcept {
  switch (e) {
    case DecimalError::kOk: return "ok";
    case DecimalError::kSyntax: return "syntax";
    case DecimalError::kTooPrecise: return "too_precise";
    case DecimalError::kOverflow: return "overflow";
  }
  return "?";
}

}  // namespace booktape
