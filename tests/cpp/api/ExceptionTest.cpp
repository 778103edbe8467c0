// Exception hierarchy, BackendException accessors, getCause and throwFormat.
#include <OptimaV2/Runtime/Exception.h>

#include <gtest/gtest.h>

#include <type_traits>

namespace rt = optima_v2::runtime;

namespace {

template <class E> void checkDerivesFromException() {
  static_assert(std::is_base_of_v<rt::Exception, E>);
  static_assert(std::is_base_of_v<std::runtime_error, E>);
  try {
    throw E("message of the exception");
  } catch (const rt::Exception &Caught) {
    EXPECT_STREQ(Caught.what(), "message of the exception");
  }
  try {
    throw E("as runtime_error");
  } catch (const std::runtime_error &Caught) {
    EXPECT_STREQ(Caught.what(), "as runtime_error");
  }
}

TEST(Exceptions, AllDeriveFromExceptionAndRuntimeError) {
  static_assert(std::is_base_of_v<std::runtime_error, rt::Exception>);
  checkDerivesFromException<rt::BackendException>();
  checkDerivesFromException<rt::InferException>();
  checkDerivesFromException<rt::InitializationFailedException>();
  checkDerivesFromException<rt::InvalidArgumentException>();
  checkDerivesFromException<rt::InvalidExtensionException>();
  checkDerivesFromException<rt::InvalidModelException>();
  checkDerivesFromException<rt::InvalidOperationException>();
  checkDerivesFromException<rt::OutOfResourceException>();
  checkDerivesFromException<rt::UnsupportedModelException>();
}

TEST(Exceptions, KindsAreDistinct) {
  // Catching one kind does not swallow another.
  EXPECT_THROW(
      {
        try {
          throw rt::InferException("x");
        } catch (const rt::InvalidModelException &) {
          ADD_FAILURE() << "InferException caught as InvalidModelException";
        }
      },
      rt::InferException);
  static_assert(!std::is_base_of_v<rt::InvalidOperationException, rt::InferException>);
}

TEST(Exceptions, BackendExceptionAccessors) {
  auto Inner = std::make_exception_ptr(std::logic_error("kernel bug"));
  rt::BackendException E("backend failed", "native", Inner);
  EXPECT_STREQ(E.what(), "backend failed");
  EXPECT_EQ(E.getBackendName(), "native");
  ASSERT_TRUE(E.getUncaughtException());
  EXPECT_EQ(rt::getCause(E.getUncaughtException()), "kernel bug");

  rt::BackendException Plain("status INTERNAL");
  EXPECT_EQ(Plain.getBackendName(), "");
  EXPECT_FALSE(Plain.getUncaughtException());
}

TEST(GetCause, EveryKindOfThrownValue) {
  EXPECT_EQ(rt::getCause(std::make_exception_ptr(std::runtime_error("std error"))), "std error");
  EXPECT_EQ(rt::getCause(std::make_exception_ptr(rt::InferException("infer failed"))), "infer failed");
  EXPECT_EQ(rt::getCause(std::make_exception_ptr(std::string("a string"))), "a string");
  EXPECT_EQ(rt::getCause(std::make_exception_ptr(static_cast<const char *>("a literal"))), "a literal");
  EXPECT_EQ(rt::getCause(std::make_exception_ptr(42)), "unknown cause");
  EXPECT_EQ(rt::getCause(nullptr), "unknown cause");
}

TEST(GetCause, ViewStaysValidWhileTheExceptionLives) {
  std::exception_ptr Error;
  try {
    throw std::string(1000, 'x');
  } catch (...) {
    Error = std::current_exception();
  }
  std::string_view Cause = rt::getCause(Error);
  EXPECT_EQ(Cause.size(), 1000u);
  EXPECT_EQ(Cause, std::string(1000, 'x'));
}

TEST(ThrowFormat, ReplacesPlaceholdersInOrder) {
  try {
    rt::throwFormat<rt::InvalidModelException>("{}: {}[{}] is {}", "model.meta", "inputs", 3, 2.5);
  } catch (const rt::InvalidModelException &E) {
    EXPECT_STREQ(E.what(), "model.meta: inputs[3] is 2.5");
  }
  EXPECT_THROW(rt::throwFormat<rt::InferException>("x"), rt::InferException);
}

TEST(ThrowFormat, MismatchedArgumentCounts) {
  EXPECT_EQ(rt::format("no placeholders"), "no placeholders");
  EXPECT_EQ(rt::format("{} and {}", 1), "1 and {}"); // missing arguments leave the placeholder
  EXPECT_EQ(rt::format("{}", 1, 2, 3), "1");        // extra arguments are dropped
  EXPECT_EQ(rt::format("{}{}", std::string("a"), 'b'), "ab");
  try {
    rt::throwFormat<rt::OutOfResourceException>("need {} bytes", size_t(1) << 40);
  } catch (const rt::OutOfResourceException &E) {
    EXPECT_STREQ(E.what(), "need 1099511627776 bytes");
  }
}

} // namespace
