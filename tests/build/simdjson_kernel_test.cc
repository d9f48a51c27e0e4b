// Debian's simdjson (3.0.1) compiles its on-demand kernel into *our* translation units, chosen at
// compile time from the enabled ISA: without AVX2 and PCLMUL it silently uses the scalar
// "fallback" kernel (DESIGN.md, "Build facts that cost speed silently"). This test pins the
// NZEZA_MARCH choice to the kernel it must give. simdjson's runtime
// builtin_implementation()->name() reports the shared library's choice, not ours, so the macro is
// what counts.
#include <simdjson.h>

#include <string_view>

#include "gtest/gtest.h"

namespace {

constexpr std::string_view kKernel = SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION);

TEST(SimdjsonKernel, MatchesTheIsaWeBuildFor) {
  std::printf("simdjson compile-time kernel: %.*s\n", static_cast<int>(kKernel.size()),
              kKernel.data());
#if defined(__AVX2__) && defined(__PCLMUL__)
  EXPECT_NE(kKernel, "fallback") << "AVX2+PCLMUL are enabled, yet simdjson chose its scalar kernel";
#else
  EXPECT_EQ(kKernel, "fallback") << "NZEZA_MARCH=none: the portable build uses the scalar kernel";
#endif
}

TEST(SimdjsonKernel, ParsesWithExceptionsOff) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(std::string_view(R"({"p":"43251.23000000"})"));
  simdjson::ondemand::document doc;
  ASSERT_EQ(parser.iterate(json).get(doc), simdjson::SUCCESS);
  std::string_view p;
  ASSERT_EQ(doc["p"].get_string().get(p), simdjson::SUCCESS);
  EXPECT_EQ(p, "43251.23000000");
}

}  // namespace
