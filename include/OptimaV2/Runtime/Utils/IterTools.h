#pragma once

#include <cstddef>
#include <iterator>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace optima_v2::runtime {

// for (auto [Index, Item] : enumerate(Items, 1)) ...  Item is a reference into the container
// (the container itself is kept alive when an rvalue is passed).
template <class Container> class Enumerate {
public:
  using BaseIterator = decltype(std::begin(std::declval<Container &>()));
  using Reference = decltype(*std::declval<BaseIterator>());

  class iterator {
  public:
    iterator(BaseIterator It, size_t Index) : It(It), Index(Index) {}
    std::pair<size_t, Reference> operator*() const { return {Index, *It}; }
    iterator &operator++() {
      ++It;
      ++Index;
      return *this;
    }
    bool operator!=(const iterator &Other) const { return It != Other.It; }
    bool operator==(const iterator &Other) const { return It == Other.It; }

  private:
    BaseIterator It;
    size_t Index;
  };

  Enumerate(Container &&C, size_t Start) : C(std::forward<Container>(C)), Start(Start) {}
  iterator begin() { return {std::begin(C), Start}; }
  iterator end() { return {std::end(C), 0}; }

private:
  Container C; // a reference for lvalues, a value for rvalues
  size_t Start;
};

template <class Container> Enumerate<Container> enumerate(Container &&C, size_t Start = 0) {
  return Enumerate<Container>(std::forward<Container>(C), Start);
}

// range(End), range(Begin, End), range(Begin, End, Step); Step may be negative, not zero.
template <class T> class Range {
  static_assert(std::is_integral_v<T>, "range() takes integers");

public:
  class iterator {
  public:
    iterator(T Value, T Step) : Value(Value), Step(Step) {}
    T operator*() const { return Value; }
    iterator &operator++() {
      Value += Step;
      return *this;
    }
    // Stops at or past the end whichever direction the range walks.
    bool operator!=(const iterator &End) const {
      return Step > 0 ? Value < End.Value : Value > End.Value;
    }

  private:
    T Value, Step;
  };

  Range(T Begin, T End, T Step) : Begin(Begin), End(End), Step(Step) {
    if (Step == 0)
      throw std::invalid_argument("range: step must not be zero");
  }
  iterator begin() const { return {Begin, Step}; }
  iterator end() const { return {End, Step}; }

private:
  T Begin, End, Step;
};

template <class T> Range<T> range(T End) { return Range<T>(T(0), End, T(1)); }
template <class T> Range<T> range(T Begin, T End) { return Range<T>(Begin, End, T(1)); }
template <class T> Range<T> range(T Begin, T End, T Step) { return Range<T>(Begin, End, Step); }

} // namespace optima_v2::runtime
