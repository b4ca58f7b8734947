#pragma once
// A growable byte buffer for hot-path encoders: unlike std::string it never zero-fills, and
// callers reserve a worst case once (`ensure`) and then write through a raw pointer.
// Growth allocates; steady-state use reuses the capacity reached.
#include <cassert>
#include <cstddef>
#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace booktape {

class ByteBuffer {
 public:
  explicit ByteBuffer(std::size_t capacity = 0) { reserve(capacity); }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  // A moved-from buffer is empty with no capacity (the defaults would keep its sizes).
  ByteBuffer(ByteBuffer&& o) noexcept
      : data_(std::move(o.data_)), size_(std::exchange(o.size_, 0)),
        capacity_(std::exchange(o.capacity_, 0)) {}
  ByteBuffer& operator=(ByteBuffer&& o) noexcept {
    data_ = std::move(o.data_);
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    return *this;
  }

  // Returns a pointer to at least `n` writable bytes after the current end.
  char* ensure(std::size_t n) {
    if (capacity_ - size_ < n) reserve(std::max(capacity_ * 2, size_ + n));
    return data_.get() + size_;
  }
  // Marks `n` bytes written after the old end (precondition: ensured).
  void commit(std::size_t n) noexcept {
    assert(size_ + n <= capacity_ && "commit past ensure()");
    size_ += n;
  }
  // Sets the end to `p`, a pointer inside the ensured region.
  void commit_to(const char* p) noexcept { commit(static_cast<std::size_t>(p - end())); }

  void append(std::string_view s) {
    if (s.empty()) return;  // memcpy from/to a null pointer is UB even for 0 bytes
    std::memcpy(ensure(s.size()), s.data(), s.size());
    size_ += s.size();
  }
  void append(char c) {
    *ensure(1) = c;
    ++size_;
  }

  void reserve(std::size_t n) {
    if (n <= capacity_) return;
    auto bigger = std::make_unique_for_overwrite<char[]>(n);
    if (size_ != 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = n;
  }
  void clear() noexcept { size_ = 0; }
  void resize_down(std::size_t n) noexcept {
    assert(n <= size_);
    size_ = n;
  }

  [[nodiscard]] char* data() noexcept { return data_.get(); }
  [[nodiscard]] const char* data() const noexcept { return data_.get(); }
  [[nodiscard]] char* end() noexcept { return data_.get() + size_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::string_view view() const noexcept { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace booktape
