// Extra files in the initramfs (the bench image's stress-ng and libraries):
// they are packed with their parent folders, change the cache key, and an
// image without extras keeps the key it always had.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/paths.h"
#include "image/gzip.h"
#include "image/image.h"

namespace fs = std::filesystem;
using namespace numasoak;
using namespace numasoak::image;

namespace {

std::string static_elf(const std::string& payload) {
  std::string b(64, '\0');
  b[0] = 0x7f, b[1] = 'E', b[2] = 'L', b[3] = 'F', b[4] = 2, b[5] = 1, b[6] = 1;
  b[54] = 56;
  return b + payload;
}

class ExtrasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_private_dir("numasoak-image-extras-test");
    in_.busybox = dir_ / "busybox";
    in_.workload = dir_ / "workload";
    in_.init = dir_ / "init";
    std::ofstream(in_.busybox, std::ios::binary) << static_elf("BusyBox v1.35.0 (Debian 1:1.35.0-4) multi-call binary.");
    std::ofstream(in_.workload, std::ios::binary) << static_elf("workload");
    std::ofstream(in_.init, std::ios::binary) << "#!/bin/busybox sh\n";
    std::ofstream(dir_ / "libfoo.so.1", std::ios::binary) << "numasoak-extra-library-bytes";
    const char* old = std::getenv("NUMASOAK_CACHE_DIR");
    old_cache_ = old ? old : "";
    setenv("NUMASOAK_CACHE_DIR", (dir_ / "cache").c_str(), 1);
  }
  void TearDown() override {
    if (old_cache_.empty())
      unsetenv("NUMASOAK_CACHE_DIR");
    else
      setenv("NUMASOAK_CACHE_DIR", old_cache_.c_str(), 1);
    fs::remove_all(dir_);
  }
  fs::path dir_;
  ImageInputs in_;
  std::string old_cache_;
};

}  // namespace

TEST_F(ExtrasTest, PackedWithParentsAndKeyedSeparately) {
  const ImageArtifact plain = build_image(in_);
  ImageInputs with = in_;
  with.extras.push_back({"/lib/x86_64-linux-gnu/libfoo.so.1", dir_ / "libfoo.so.1", 0644});
  const ImageArtifact extra = build_image(with);
  EXPECT_NE(plain.hash, extra.hash);
  EXPECT_NE(plain.path, extra.path);
  const std::string cpio = gunzip(read_file(extra.path));
  for (const char* name : {"lib\0", "lib/x86_64-linux-gnu\0", "lib/x86_64-linux-gnu/libfoo.so.1\0"})
    EXPECT_NE(cpio.find(std::string(name, std::char_traits<char>::length(name) + 1)), std::string::npos) << name;
  EXPECT_NE(cpio.find("numasoak-extra-library-bytes"), std::string::npos);
  EXPECT_EQ(gunzip(read_file(plain.path)).find("libfoo"), std::string::npos);
  // The same inputs again: the same key, from the cache.
  EXPECT_TRUE(build_image(with).cache_hit);
  EXPECT_EQ(build_image(with).hash, extra.hash);
}

TEST_F(ExtrasTest, MissingExtraIsAOneLineError) {
  ImageInputs with = in_;
  with.extras.push_back({"bin/stress-ng", dir_ / "no-such-file", 0755});
  try {
    build_image(with);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("no-such-file"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}
