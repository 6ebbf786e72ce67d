// A small tl::expected-style result type (tl-expected is not packaged in Debian 12; std::expected is C++23).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace klartext::core {

// A failure of data: a named code plus a human-readable message.
struct Error {
  std::string code;     // stable, machine-readable, e.g. "bad-ip"
  std::string message;  // for people
};

template <class E>
struct Unexpected {
  E error;
};
template <class E>
Unexpected<E> unexpected(E e) {
  return Unexpected<E>{std::move(e)};
}
inline Unexpected<Error> make_error(std::string code, std::string message) {
  return Unexpected<Error>{Error{std::move(code), std::move(message)}};
}

template <class T, class E = Error>
class Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}            // NOLINT: implicit like tl::expected
  Expected(Unexpected<E> u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  const E& error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  template <class U>
  T value_or(U&& other) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(other));
  }

 private:
  std::variant<T, E> v_;
};

}  // namespace klartext::core
