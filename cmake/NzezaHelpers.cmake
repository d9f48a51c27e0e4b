# Shared compile settings and the nzeza_add_test() helper.

add_library(nzeza_options INTERFACE)
add_library(nzeza::options ALIAS nzeza_options)
target_compile_options(nzeza_options INTERFACE -Wall -Wextra -Wshadow -Wnon-virtual-dtor
                                               -Wno-unknown-pragmas)
# simdjson without exceptions everywhere (decoders return error codes; one setting for every TU
# that includes simdjson, so inline code agrees). Development checks likewise: simdjson turns them
# on in any TU built without optimization, and they change class layouts (ondemand::parser grows
# members), so a -O0 TU (nzeza_io_target) beside -O1 ones was an ODR violation that crashed at
# exit under ASan.
target_compile_definitions(nzeza_options INTERFACE SIMDJSON_EXCEPTIONS=0
                                                   SIMDJSON_DEVELOPMENT_CHECKS=0)
if(NZEZA_WERROR)
  target_compile_options(nzeza_options INTERFACE -Werror)
endif()

if(NZEZA_MARCH STREQUAL "none" OR NZEZA_MARCH STREQUAL "")
  # Portable x86-64 baseline.
elseif(NZEZA_MARCH STREQUAL "x86-64-v3")
  # x86-64-v3 has AVX2 but not PCLMUL, which simdjson's haswell kernel needs.
  target_compile_options(nzeza_options INTERFACE -march=x86-64-v3 -mpclmul)
else()
  target_compile_options(nzeza_options INTERFACE -march=${NZEZA_MARCH})
endif()

# The linker: lld links the large sanitizer-instrumented test programs several times faster than
# GNU ld (test.sh uses it for the clang trees; setup.sh installs lld-14).
set(NZEZA_LINKER "" CACHE STRING "Linker passed as -fuse-ld= (e.g. lld); empty: the compiler's default")
if(NZEZA_LINKER)
  target_link_options(nzeza_options INTERFACE -fuse-ld=${NZEZA_LINKER})
endif()

if(NZEZA_SANITIZE)
  string(REPLACE ";" "," _nz_san "${NZEZA_SANITIZE}")
  target_compile_options(nzeza_options INTERFACE -fsanitize=${_nz_san} -fno-omit-frame-pointer
                                                 -fno-sanitize-recover=all)
  target_link_options(nzeza_options INTERFACE -fsanitize=${_nz_san})
  target_compile_definitions(nzeza_options INTERFACE NZEZA_SANITIZED=1)
endif()

if(NZEZA_BUILD_FUZZ)
  # Coverage instrumentation for everything, so libFuzzer sees the library's branches, not only
  # the fuzz target's; the fuzz targets add -fsanitize=fuzzer (with main) themselves.
  target_compile_options(nzeza_options INTERFACE -fsanitize=fuzzer-no-link)
endif()

# nzeza_io_target(target...): targets dominated by Boost.Beast/Asio composed operations (the TLS
# and WebSocket clients and servers). Under sanitizers, optimizing one such file takes clang two
# minutes or more (tens of thousands of handler instantiations, each instrumented), against about
# thirty seconds unoptimized; the code they hold waits on sockets, so sanitizer trees build them
# at -O0 and keep CI within its time. Release builds are untouched.
function(nzeza_io_target)
  if(NZEZA_SANITIZE)
    foreach(t IN LISTS ARGN)
      target_compile_options(${t} PRIVATE -O0)
    endforeach()
  endif()
endfunction()

# nzeza_add_test(NAME SOURCES src... [LIBS lib...] [DEFINES def...] [LABELS label...] [TIMEOUT s])
# One GoogleTest executable registered with CTest. Labels: "unit" runs under ASan+UBSan,
# "concurrency" also runs under TSan. A TSan tree creates only "concurrency" tests, so configure a
# test through these arguments, never by touching its target afterwards.
# nzeza_tests: every test executable this tree creates (a TSan tree builds only these).
add_custom_target(nzeza_tests)
function(nzeza_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;DEFINES;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  # A TSan tree runs only the concurrency tests; the others may replace operator new (allocation
  # tests), which the TSan runtime also defines.
  if("thread" IN_LIST NZEZA_SANITIZE AND NOT "concurrency" IN_LIST ARG_LABELS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} nzeza::options GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE NZEZA_TESTDATA_DIR="${NZEZA_TESTDATA_DIR}"
                                             ${ARG_DEFINES})
  # Sanitizer trees compile the test programs themselves at -O0 (about half the time of -O1
  # under ASan+UBSan); the libraries they test keep the tree's -O1.
  if(NZEZA_SANITIZE)
    target_compile_options(${name} PRIVATE -O0)
  endif()
  # A Release tree compiles the test programs themselves at -O1: what they test (the libraries)
  # keeps -O3, and the tests build about a third quicker (they were half of the Release build).
  if(CMAKE_BUILD_TYPE STREQUAL "Release")
    target_compile_options(${name} PRIVATE -O1)
  endif()
  add_dependencies(nzeza_tests ${name})
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()
