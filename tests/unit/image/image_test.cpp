// The initramfs builder (harness/image): newc format, deterministic gzip,
// byte-identical images from two cache folders, cache hits, input errors.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/paths.h"
#include "image/cpio.h"
#include "image/gzip.h"
#include "image/image.h"

namespace fs = std::filesystem;
using namespace numasoak;
using namespace numasoak::image;

namespace {

// A minimal static ELF64: header only, no program headers (so no PT_INTERP).
std::string fake_static_elf(const std::string& payload) {
  std::string b(64, '\0');
  b[0] = 0x7f, b[1] = 'E', b[2] = 'L', b[3] = 'F', b[4] = 2, b[5] = 1, b[6] = 1;
  b[54] = 56;  // e_phentsize
  return b + payload;
}

// The same with one PT_INTERP program header: a dynamic executable.
std::string fake_dynamic_elf() {
  std::string b = fake_static_elf("");
  b[32] = 64;  // e_phoff
  b[54] = 56;  // e_phentsize
  b[56] = 1;   // e_phnum
  std::string ph(56, '\0');
  ph[0] = 3;  // PT_INTERP
  return b + ph;
}

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

class ImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_private_dir("numasoak-image-test");
    inputs_.busybox = dir_ / "busybox";
    inputs_.workload = dir_ / "numasoak-workload";
    inputs_.init = dir_ / "init";
    write(inputs_.busybox, fake_static_elf("BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary."));
    write(inputs_.workload, fake_static_elf("workload"));
    write(inputs_.init, "#!/bin/busybox sh\necho hi\n");
    old_cache_ = std::getenv("NUMASOAK_CACHE_DIR") ? std::getenv("NUMASOAK_CACHE_DIR") : "";
  }
  void TearDown() override {
    if (old_cache_.empty())
      unsetenv("NUMASOAK_CACHE_DIR");
    else
      setenv("NUMASOAK_CACHE_DIR", old_cache_.c_str(), 1);
    fs::remove_all(dir_);
  }
  ImageArtifact build_in(const std::string& cache) {
    setenv("NUMASOAK_CACHE_DIR", (dir_ / cache).c_str(), 1);
    return build_image(inputs_);
  }

  fs::path dir_;
  ImageInputs inputs_;
  std::string old_cache_;
};

}  // namespace

TEST(Cpio, NewcLayout) {
  CpioWriter w;
  w.add_file("/init", "abc", 0755);
  w.add_dir("bin");
  w.add_symlink("bin/sh", "busybox");
  w.add_char_device("dev/console", 5, 1);
  const std::string a = w.finish();
  EXPECT_EQ(a.size() % 512, 0u);
  // Sorted: bin, bin/sh, dev/console, init, then the trailer.
  const auto bin = a.find("bin"), sh = a.find("bin/sh"), con = a.find("dev/console"), init = a.find("init"),
             trailer = a.find("TRAILER!!!");
  EXPECT_LT(bin, sh);
  EXPECT_LT(sh, con);
  EXPECT_LT(con, init);
  EXPECT_LT(init, trailer);
  // First header: magic, inode 1, directory mode 040755, uid/gid 0, nlink 2, mtime 0.
  EXPECT_EQ(a.substr(0, 6), "070701");
  EXPECT_EQ(a.substr(6, 8), "00000001");
  EXPECT_EQ(a.substr(14, 8), "000041ED");
  EXPECT_EQ(a.substr(22, 16), std::string(16, '0'));
  EXPECT_EQ(a.substr(38, 8), "00000002");
  EXPECT_EQ(a.substr(46, 8), "00000000");
  // The device node keeps its numbers.
  const std::size_t h = a.rfind("070701", con);
  EXPECT_EQ(a.substr(h + 6 + 8 * 9, 16), "0000000500000001");
  // Same entries in another order: the same bytes.
  CpioWriter w2;
  w2.add_char_device("dev/console", 5, 1);
  w2.add_symlink("bin/sh", "busybox");
  w2.add_dir("bin/");
  w2.add_file("init", "abc", 0755);
  EXPECT_EQ(w2.finish(), a);
}

TEST(Gzip, DeterministicAndRoundTrips) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>(i * 7 % 251);
  const std::string a = gzip_deterministic(data), b = gzip_deterministic(data);
  EXPECT_EQ(a, b);
  ASSERT_GE(a.size(), 10u);
  EXPECT_EQ(static_cast<unsigned char>(a[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(a[1]), 0x8b);
  EXPECT_EQ(a[3], 0);                        // no name, no extra fields
  EXPECT_EQ(a.substr(4, 4), std::string(4, '\0'));  // mtime 0
  EXPECT_EQ(gunzip(a), data);
  EXPECT_THROW(gunzip("not gzip"), Error);
}

TEST(Elf, StaticOrNot) {
  EXPECT_TRUE(is_static_elf(fake_static_elf("")));
  EXPECT_FALSE(is_static_elf(fake_dynamic_elf()));
  EXPECT_FALSE(is_static_elf("#!/bin/sh\n"));
  EXPECT_FALSE(is_static_elf(""));
  EXPECT_EQ(busybox_version(fake_static_elf("x BusyBox v1.35.0 (Debian 1:1.35.0-4) multi-call")),
            "1.35.0 (Debian 1:1.35.0-4)");
  EXPECT_EQ(busybox_version("BusyBox vX"), "");
}

TEST_F(ImageTest, ByteIdenticalAcrossCacheFoldersAndCachedTheSecondTime) {
  const ImageArtifact a = build_in("cache-a");
  const ImageArtifact b = build_in("cache-b");
  EXPECT_FALSE(a.cache_hit);
  EXPECT_FALSE(b.cache_hit);
  EXPECT_NE(a.path, b.path);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(read_file(a.path), read_file(b.path));
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.busybox_version, "1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)");
  EXPECT_EQ(a.path.parent_path().filename(), a.hash);
  EXPECT_TRUE(fs::exists(a.manifest));

  const ImageArtifact again = build_in("cache-a");
  EXPECT_TRUE(again.cache_hit);
  EXPECT_EQ(again.path, a.path);
  EXPECT_EQ(again.size.value, a.size.value);
  EXPECT_EQ(again.busybox_version, a.busybox_version);

  // The archive holds what the guest needs.
  const std::string cpio = gunzip(read_file(a.path));
  for (const char* name : {"bin/busybox", "bin/sh", "bin/poweroff", "bin/numasoak-workload", "dev/console", "init"})
    EXPECT_NE(cpio.find(name), std::string::npos) << name;
}

// A cache folder passed explicitly (the bench's cold build) is used instead
// of cache_dir(), which is left untouched.
TEST_F(ImageTest, ExplicitCacheFolderIsUsedInsteadOfCacheDir) {
  setenv("NUMASOAK_CACHE_DIR", (dir_ / "env-cache").c_str(), 1);
  const ImageArtifact a = build_image(dir_ / "given", inputs_);
  EXPECT_FALSE(a.cache_hit);
  EXPECT_EQ(a.path.parent_path(), dir_ / "given" / "images" / a.hash);
  EXPECT_FALSE(fs::exists(dir_ / "env-cache"));
  EXPECT_TRUE(build_image(dir_ / "given", inputs_).cache_hit);
  EXPECT_FALSE(build_image(inputs_).cache_hit);  // cache_dir() is empty
}

TEST_F(ImageTest, AnyInputByteChangesTheKey) {
  const ImageArtifact a = build_in("cache");
  write(inputs_.init, "#!/bin/busybox sh\necho hi!\n");
  const ImageArtifact b = build_in("cache");
  EXPECT_NE(a.hash, b.hash);
  EXPECT_FALSE(b.cache_hit);
}

TEST_F(ImageTest, DamagedCacheEntryIsRebuilt) {
  const ImageArtifact a = build_in("cache");
  write(a.path, "damaged");
  const ImageArtifact b = build_in("cache");
  EXPECT_FALSE(b.cache_hit);
  EXPECT_EQ(b.sha256, a.sha256);
}

TEST_F(ImageTest, MissingOrDynamicBusyboxSaysWhatToInstall) {
  inputs_.busybox = dir_ / "nope";
  try {
    build_in("cache");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("apt-get install busybox-static"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
  write(dir_ / "dyn", fake_dynamic_elf());
  inputs_.busybox = dir_ / "dyn";
  try {
    build_in("cache");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a static busybox"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("apt-get install busybox-static"), std::string::npos);
  }
}

TEST_F(ImageTest, MissingWorkloadSaysHowToBuildIt) {
  inputs_.workload = dir_ / "missing";
  try {
    build_in("cache");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--target numasoak-workload"), std::string::npos) << e.what();
  }
}

// scripts/install-deps installs busybox-static and the build makes the
// workload, so both must be there: a missing one is a broken setup, not a skip.
TEST_F(ImageTest, RealBusyboxAndWorkloadBuildReproducibly) {
  const ImageInputs real = ImageInputs::defaults();
  ASSERT_TRUE(fs::exists(real.busybox)) << real.busybox << " missing: run scripts/install-deps";
  ASSERT_TRUE(fs::exists(real.workload)) << real.workload << " missing: build the numasoak-workload target";
  inputs_ = real;
  const ImageArtifact a = build_in("real-a");
  const ImageArtifact b = build_in("real-b");
  EXPECT_EQ(read_file(a.path), read_file(b.path));
  EXPECT_FALSE(a.busybox_version.empty());
  EXPECT_TRUE(build_in("real-a").cache_hit);
}

// Extra files (the bench image's stress-ng and libraries): packed with their
// parent folders and keyed apart; an image without extras keeps its key.
TEST_F(ImageTest, ExtrasArePackedWithParentsAndKeyedSeparately) {
  write(dir_ / "libfoo.so.1", "numasoak-extra-library-bytes");
  const ImageArtifact plain = build_in("cache");
  ImageInputs with = inputs_;
  with.extras.push_back({"/lib/x86_64-linux-gnu/libfoo.so.1", dir_ / "libfoo.so.1", 0644});
  const ImageArtifact extra = build_image(with);
  EXPECT_NE(plain.hash, extra.hash);
  const std::string cpio = gunzip(read_file(extra.path));
  for (const std::string name : {"lib", "lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu/libfoo.so.1"})
    EXPECT_NE(cpio.find(name + std::string(1, '\0')), std::string::npos) << name;
  EXPECT_NE(cpio.find("numasoak-extra-library-bytes"), std::string::npos);
  EXPECT_EQ(gunzip(read_file(plain.path)).find("libfoo"), std::string::npos);
  EXPECT_TRUE(build_image(with).cache_hit);
}

TEST_F(ImageTest, MissingExtraIsAOneLineError) {
  setenv("NUMASOAK_CACHE_DIR", (dir_ / "cache").c_str(), 1);
  ImageInputs with = inputs_;
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
