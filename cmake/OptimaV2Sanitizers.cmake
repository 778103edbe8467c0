# Sanitizer builds (OPTIMA_V2_SANITIZE): applied to every target the project builds, the runtime,
# extensions, tests and the Python module alike, so that memory handed across the extension C ABI
# or to pybind11 is instrumented on both sides. Use through CMakePresets.json (asan-ubsan, tsan)
# or scripts/sanitize.sh.
set(OPTIMA_V2_SANITIZE "" CACHE STRING
  "Sanitizers to build with: empty, 'address;undefined' or 'thread'")

if(OPTIMA_V2_SANITIZE)
  if(MSVC)
    message(FATAL_ERROR "OPTIMA_V2_SANITIZE is supported with GCC and Clang only")
  endif()
  set(OptimaV2SanitizeKnown address undefined thread leak)
  foreach(Sanitizer IN LISTS OPTIMA_V2_SANITIZE)
    if(NOT Sanitizer IN_LIST OptimaV2SanitizeKnown)
      message(FATAL_ERROR "OPTIMA_V2_SANITIZE: unknown sanitizer '${Sanitizer}' "
                          "(known: ${OptimaV2SanitizeKnown})")
    endif()
  endforeach()
  if("thread" IN_LIST OPTIMA_V2_SANITIZE AND "address" IN_LIST OPTIMA_V2_SANITIZE)
    message(FATAL_ERROR "OPTIMA_V2_SANITIZE: 'thread' cannot be combined with 'address'")
  endif()

  list(JOIN OPTIMA_V2_SANITIZE "," OptimaV2SanitizeList)
  set(OptimaV2SanitizeFlags -fsanitize=${OptimaV2SanitizeList} -fno-omit-frame-pointer)
  if("undefined" IN_LIST OPTIMA_V2_SANITIZE)
    # Any UBSan report fails the run instead of printing and carrying on.
    list(APPEND OptimaV2SanitizeFlags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${OptimaV2SanitizeFlags})
  add_link_options(${OptimaV2SanitizeFlags})
  message(STATUS "OptimaV2: building with -fsanitize=${OptimaV2SanitizeList}")
endif()
