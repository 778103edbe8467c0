#pragma once

#include <OptimaV2/Runtime/Exception.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <type_traits>

namespace optima_v2::runtime {

// A static tensor shape of up to MaxDimensions dimensions. Empty (no dims) is a scalar.
class Shape {
public:
  using ShapeT = uint32_t;
  static constexpr size_t MaxDimensions = 8;
  using const_iterator = const ShapeT *;

  Shape() = default;

  // Shape(1, 3, 224, 224). Throws InvalidArgumentException for more than MaxDimensions dims or a
  // negative/too-large value.
  template <class... Ints,
            class = std::enable_if_t<(sizeof...(Ints) > 0) && (std::is_integral_v<std::decay_t<Ints>> && ...)>>
  explicit Shape(Ints... Dims) {
    if (sizeof...(Ints) > MaxDimensions)
      tooManyDims(sizeof...(Ints));
    (push(static_cast<long long>(Dims)), ...);
  }

  Shape(std::initializer_list<ShapeT> Dims) : Shape(Dims.begin(), Dims.end()) {}

  template <class It, class = typename std::iterator_traits<It>::iterator_category>
  Shape(It Begin, It End) {
    for (; Begin != End; ++Begin) {
      if (Size == MaxDimensions)
        tooManyDims(Size + 1);
      push(static_cast<long long>(*Begin));
    }
  }

  // Number of elements: the product of the dims (1 for a scalar).
  size_t getTotalElementCount() const noexcept {
    size_t N = 1;
    for (size_t I = 0; I < Size; ++I)
      N *= Dims[I];
    return N;
  }
  // Elements covered by one step of dim I: product of dims I+1.. (same as getStride(I)).
  size_t getElementCountAt(size_t I) const { return getStride(I); }
  // Row-major stride of dim I in elements. Throws std::out_of_range for I >= dims.
  size_t getStride(size_t I) const {
    if (I >= Size)
      throw std::out_of_range(format("Shape::getStride: dim {} out of range (rank {})", I, Size));
    size_t N = 1;
    for (size_t J = I + 1; J < Size; ++J)
      N *= Dims[J];
    return N;
  }
  size_t getDimensionSize() const noexcept { return Size; }
  bool empty() const noexcept { return Size == 0; }
  bool equals(const Shape &Other) const noexcept {
    if (Size != Other.Size)
      return false;
    for (size_t I = 0; I < Size; ++I)
      if (Dims[I] != Other.Dims[I])
        return false;
    return true;
  }

  const_iterator begin() const noexcept { return Dims.data(); }
  const_iterator end() const noexcept { return Dims.data() + Size; }
  // Unchecked, like std::vector.
  ShapeT operator[](size_t I) const noexcept { return Dims[I]; }
  ShapeT &operator[](size_t I) noexcept { return Dims[I]; }
  ShapeT at(size_t I) const {
    if (I >= Size)
      throw std::out_of_range(format("Shape::at: dim {} out of range (rank {})", I, Size));
    return Dims[I];
  }

  friend bool operator==(const Shape &A, const Shape &B) noexcept { return A.equals(B); }
  friend bool operator!=(const Shape &A, const Shape &B) noexcept { return !A.equals(B); }

private:
  [[noreturn]] static void tooManyDims(size_t N) {
    throwFormat<InvalidArgumentException>("Shape: {} dimensions given, at most {} are supported", N,
                                          MaxDimensions);
  }
  void push(long long D) {
    if (D < 0 || static_cast<unsigned long long>(D) > 0xFFFFFFFFull)
      throwFormat<InvalidArgumentException>("Shape: dimension {} has invalid size {}", Size, D);
    Dims[Size++] = static_cast<ShapeT>(D);
  }

  std::array<ShapeT, MaxDimensions> Dims{};
  size_t Size = 0;
};

} // namespace optima_v2::runtime
