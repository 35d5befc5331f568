// The cache key changes when any input byte changes, and not otherwise.
#include <gtest/gtest.h>

#include "common/error.h"
#include "kernel/inputs.h"
#include "support.h"

namespace numasoak::kernel {
namespace {

namespace fs = std::filesystem;

class CacheKey : public ::testing::Test {
 protected:
  void SetUp() override {
    root = tmp.path();
    fs::copy(test::fixtures() / "tree", root / "tree", fs::copy_options::recursive);
    test::write(images() / "kernel" / "guest.config", "CONFIG_NUMA=y\n");
    test::write(images() / "kernel" / "extra.config", "CONFIG_SMP=y\n");
    test::write(images() / "patches" / "s1" / "0001-a.patch", "--- a/mm/a.c\n+++ b/mm/a.c\n@@ -1 +1 @@\n-a\n+A\n");
    test::write(images() / "patches" / "s2" / "0001-b.patch", "--- a/mm/b.c\n+++ b/mm/b.c\n@@ -1 +1 @@\n-b\n+B\n");
    test::write(images() / "patches" / "s1" / "amplifier" / "0001-amp.patch", "amp for s1\n");
    test::write(images() / "patches" / "6.1" / "amplifier" / "0001-amp.patch", "amp for 6.1\n");
    spec.name = "test";
    spec.kind = KernelSourceKind::kTree;
    spec.path = root / "tree";
    spec.patches = {"s1"};
    spec.fragments = {"guest"};
  }
  fs::path images() const { return root / "images"; }
  std::string key() { return cache_key(resolve_inputs(spec, images())); }

  test::TempDir tmp;
  fs::path root;
  KernelSpec spec;
};

// A debug variant merges the debug fragment last, keys differently and
// builds in a work tree of its own (a debug .config recompiles everything).
TEST_F(CacheKey, DebugVariantAddsTheDebugFragmentAndItsOwnWorkTree) {
  test::write(images() / "kernel" / (std::string(kDebugFragment) + ".config"), "CONFIG_PROVE_LOCKING=y\n");
  const BuildInputs plain = resolve_inputs(spec, images());
  spec.debug = true;
  const BuildInputs debug = resolve_inputs(spec, images());
  ASSERT_EQ(debug.fragments.size(), plain.fragments.size() + 1);
  EXPECT_EQ(debug.fragments.back().label, std::string(kDebugFragment) + ".config");
  EXPECT_NE(cache_key(debug), cache_key(plain));
  EXPECT_EQ(debug.source.slug, plain.source.slug + "-debug");
}

TEST_F(CacheKey, StableAndIndependentOfNamesAndDescription) {
  const std::string k = key();
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(key(), k);
  spec.name = "renamed";
  spec.description = "another description";
  EXPECT_EQ(key(), k);
  fs::rename(images() / "patches" / "s1" / "0001-a.patch", images() / "patches" / "s1" / "0009-renamed.patch");
  EXPECT_EQ(key(), k) << "renaming the only patch keeps its order and bytes";
}

TEST_F(CacheKey, PatchByte) {
  const std::string k = key();
  const fs::path p = images() / "patches" / "s1" / "0001-a.patch";
  test::write(p, "--- a/mm/a.c\n+++ b/mm/a.c\n@@ -1 +1 @@\n-a\n+a\n");
  EXPECT_NE(key(), k);
  test::write(p, "--- a/mm/a.c\n+++ b/mm/a.c\n@@ -1 +1 @@\n-a\n+A\n");
  EXPECT_EQ(key(), k) << "same bytes, same key";
}

TEST_F(CacheKey, FragmentByteAndFragmentOrder) {
  spec.fragments = {"guest", "extra"};
  const std::string k = key();
  spec.fragments = {"extra", "guest"};
  EXPECT_NE(key(), k);
  spec.fragments = {"guest", "extra"};
  test::write(images() / "kernel" / "extra.config", "CONFIG_SMP=n\n");
  EXPECT_NE(key(), k);
}

TEST_F(CacheKey, PatchOrder) {
  spec.patches = {"s1", "s2"};
  const std::string k = key();
  spec.patches = {"s2", "s1"};
  EXPECT_NE(key(), k);
  // Within a series the file name decides the order.
  spec.patches = {"s1"};
  test::write(images() / "patches" / "s1" / "0002-c.patch", "second\n");
  const std::string two = key();
  fs::rename(images() / "patches" / "s1" / "0002-c.patch", images() / "patches" / "s1" / "0000-c.patch");
  EXPECT_NE(key(), two);
}

TEST_F(CacheKey, AmplifierOnOffAndItsBytes) {
  const std::string off = key();
  spec.amplifier = true;
  auto in = resolve_inputs(spec, images());
  ASSERT_EQ(in.amplifier.size(), 1u);
  EXPECT_EQ(in.amplifier[0].label, "s1/amplifier/0001-amp.patch") << "the last series' amplifier";
  const std::string on = cache_key(in);
  EXPECT_NE(on, off);
  test::write(images() / "patches" / "s1" / "amplifier" / "0001-amp.patch", "amp for s1, changed\n");
  EXPECT_NE(key(), on);
  spec.patches.clear();
  in = resolve_inputs(spec, images());
  ASSERT_EQ(in.amplifier.size(), 1u);
  EXPECT_EQ(in.amplifier[0].label, "6.1/amplifier/0001-amp.patch") << "no patches: the source's own (Makefile 6.1)";
}

TEST_F(CacheKey, CompilerString) {
  auto in = resolve_inputs(spec, images());
  EXPECT_FALSE(in.compiler.empty());
  const std::string k = cache_key(in);
  in.compiler += " (patched)";
  EXPECT_NE(cache_key(in), k);
}

TEST_F(CacheKey, SourceVersion) {
  auto in = resolve_inputs(spec, images());
  const std::string k = cache_key(in);
  in.source.id = "debian-source linux-source-6.1 6.1.193-1 size=1 mtime=1";
  const std::string a = cache_key(in);
  in.source.id = "debian-source linux-source-6.1 6.1.192-2 size=1 mtime=1";
  EXPECT_NE(a, cache_key(in));
  EXPECT_NE(a, k);
  // A tree source without git: any file's size or mtime.
  test::write(root / "tree" / "mm" / "other.c", "changed\n");
  EXPECT_NE(key(), k);
}

TEST_F(CacheKey, ConfigKeyIgnoresPatchesThatTouchOnlyCode) {
  const std::string with_s1 = config_key(resolve_inputs(spec, images()));
  spec.patches = {"s2"};
  EXPECT_EQ(config_key(resolve_inputs(spec, images())), with_s1) << "mm/*.c patches cannot change .config";
  test::write(images() / "patches" / "s3" / "0001-kconfig.patch",
              "--- a/mm/Kconfig\n+++ b/mm/Kconfig\n@@ -1 +1 @@\n-a\n+b\n");
  spec.patches = {"s2", "s3"};
  EXPECT_NE(config_key(resolve_inputs(spec, images())), with_s1);
  spec.patches = {"s1"};
  test::write(images() / "kernel" / "guest.config", "CONFIG_NUMA=n\n");
  EXPECT_NE(config_key(resolve_inputs(spec, images())), with_s1);
}

TEST_F(CacheKey, MissingSeriesAndFragmentAreOneLineErrors) {
  spec.patches = {"nope"};
  try {
    key();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("patch series 'nope' not found"), std::string::npos) << e.what();
  }
  spec.patches = {};
  spec.fragments = {"nope"};
  EXPECT_THROW(key(), Error);
  spec.fragments = {"guest"};
  spec.patches = {"s2"};
  spec.amplifier = true;  // s2 has no amplifier series
  try {
    key();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("asks for the amplifier"), std::string::npos) << e.what();
  }
}

TEST(DebianSource, MissingPackageSaysHowToInstall) {
  try {
    debian_source_identity("linux-source-0.1");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "linux-source-0.1 is not installed: apt-get install linux-source-0.1");
  }
}

TEST(DebianSource, IdentityHasTheExactVersionAndIsCheap) {
  if (!test::require_linux_source("linux-source-6.1")) return;
  const auto t0 = std::chrono::steady_clock::now();
  auto s = debian_source_identity("linux-source-6.1");
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(s.version.empty());
  EXPECT_NE(s.id.find(s.version), std::string::npos);
  EXPECT_EQ(s.series, "6.1");
  EXPECT_LT(ms, 300) << "identity must stay cheap (cache hits < 1 s)";
}

}  // namespace
}  // namespace numasoak::kernel
