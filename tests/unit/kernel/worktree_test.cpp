// The persistent work tree: switching variants restores pristine bytes and
// gives exactly the changed files a fresh mtime; a bad patch is one line
// naming the patch, the file and the hunk, and leaves the tree pristine.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <sys/stat.h>

#include "common/error.h"
#include "config/kernel_spec.h"
#include "kernel/build.h"
#include "kernel/worktree.h"
#include "support.h"

namespace numasoak::kernel {
namespace {

namespace fs = std::filesystem;

constexpr time_t kOld = 1'000'000'000;  // "built long ago"

time_t mtime(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mtim.tv_sec;
}
void set_old(const fs::path& p) {
  struct timespec t[2] = {{kOld, 0}, {kOld, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), t, 0), 0);
}

class WorkTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy(test::fixtures() / "tree", tmp.path() / "src", fs::copy_options::recursive);
    run = [this](const ToolRun& r) { return run_tool(io, r).exit_code; };
  }
  InputFile fixture_patch(const std::string& series) {
    auto files = series_files(test::fixtures() / "patches" / series);
    EXPECT_EQ(files.size(), 1u);
    return {series + "/" + files.at(0).filename().string(), files.at(0), read_file(files.at(0))};
  }
  void apply(WorkTree& wt, const std::vector<InputFile>& series) {
    wt.apply_series(series, run, {}, tmp.path() / "src", "v1");
  }

  test::TempDir tmp;
  boost::asio::io_context io;
  Runner run;
};

TEST_F(WorkTreeTest, SwitchingVariantsRefreshesExactlyTheChangedFiles) {
  WorkTree wt(tmp.path() / "work");
  const fs::path mp = wt.tree() / "mm" / "mprotect.c", other = wt.tree() / "mm" / "other.c";
  const std::string pristine_mp = read_file(test::fixtures() / "tree" / "mm" / "mprotect.c");

  apply(wt, {fixture_patch("mprotect")});
  EXPECT_NE(read_file(mp).find("patched"), std::string::npos);
  EXPECT_EQ(wt.touched(), (std::set<std::string>{"mm/mprotect.c"}));

  // Pretend make built everything from these bytes long ago.
  set_old(mp);
  set_old(other);
  apply(wt, {fixture_patch("other")});
  EXPECT_EQ(read_file(mp), pristine_mp) << "restored to pristine";
  EXPECT_GT(mtime(mp), kOld) << "restored file must look newer than its (patched) object";
  EXPECT_NE(read_file(other).find("return 2;"), std::string::npos);
  EXPECT_GT(mtime(other), kOld);
  EXPECT_EQ(wt.touched(), (std::set<std::string>{"mm/other.c"}));

  // The same variant again changes no bytes, so no mtime moves.
  set_old(mp);
  set_old(other);
  apply(wt, {fixture_patch("other")});
  EXPECT_EQ(mtime(mp), kOld);
  EXPECT_EQ(mtime(other), kOld);

  // Back to no patches: only other.c changes.
  apply(wt, {});
  EXPECT_EQ(mtime(mp), kOld);
  EXPECT_GT(mtime(other), kOld);
  EXPECT_EQ(read_file(other), read_file(test::fixtures() / "tree" / "mm" / "other.c"));
  EXPECT_TRUE(wt.touched().empty());
}

TEST_F(WorkTreeTest, FileCreatedByAPatchIsRemovedWhenSwitchingAway) {
  WorkTree wt(tmp.path() / "work");
  test::write(tmp.path() / "new.patch", "--- /dev/null\n+++ b/mm/new.c\n@@ -0,0 +1 @@\n+int x;\n");
  apply(wt, {{"new.patch", tmp.path() / "new.patch", read_file(tmp.path() / "new.patch")}});
  EXPECT_TRUE(fs::exists(wt.tree() / "mm" / "new.c"));
  apply(wt, {});
  EXPECT_FALSE(fs::exists(wt.tree() / "mm" / "new.c"));
}

TEST_F(WorkTreeTest, BrokenPatchNamesPatchFileAndHunkAndLeavesTreePristine) {
  WorkTree wt(tmp.path() / "work");
  apply(wt, {fixture_patch("other")});
  try {
    apply(wt, {fixture_patch("mprotect"), fixture_patch("broken")});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos);
    EXPECT_NE(msg.find("patch broken/0001-does-not-apply.patch does not apply: mm/mprotect.c: hunk #1 FAILED at line 3"),
              std::string::npos)
        << msg;
  }
  EXPECT_EQ(read_file(wt.tree() / "mm" / "mprotect.c"), read_file(test::fixtures() / "tree" / "mm" / "mprotect.c"));
  EXPECT_EQ(read_file(wt.tree() / "mm" / "other.c"), read_file(test::fixtures() / "tree" / "mm" / "other.c"));
  EXPECT_TRUE(wt.touched().empty());
  EXPECT_FALSE(fs::exists(wt.tree() / "mm" / "mprotect.c.rej"));
  EXPECT_FALSE(fs::exists(wt.tree() / "mm" / "mprotect.c.orig"));
}

TEST_F(WorkTreeTest, PatchForAMissingFileSaysWhichFile) {
  WorkTree wt(tmp.path() / "work");
  try {
    apply(wt, {fixture_patch("missing-file")});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("can't find file to patch: mm/no-such-file.c"), std::string::npos) << e.what();
  }
}

// Through the public API: a tree source with a broken series.
TEST(BuildKernel, BrokenPatchIsAOneLineErrorAndPublishesNothing) {
  test::TempDir tmp;
  test::ScopedEnv cache("NUMASOAK_CACHE_DIR", (tmp.path() / "cache").string());
  fs::copy(test::fixtures() / "tree", tmp.path() / "tree", fs::copy_options::recursive);
  KernelSpec spec;
  spec.name = "broken";
  spec.kind = KernelSourceKind::kTree;
  spec.path = tmp.path() / "tree";
  spec.patches = {"mprotect", "broken"};
  spec.fragments = {(test::fixtures() / "numa-balancing-without-numa.config").string()};
  BuildOptions options;
  options.images_dir = test::fixtures();
  std::vector<std::string> phases;
  options.progress = [&](const BuildProgress& p) { phases.push_back(std::string(to_string(p.phase)) + " " + p.detail); };
  try {
    build_kernel(spec, options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos);
    EXPECT_NE(msg.find("patch broken/0001-does-not-apply.patch does not apply: mm/mprotect.c: hunk #1 FAILED"),
              std::string::npos)
        << msg;
    EXPECT_EQ(e.exit_code(), ExitCode::kInfrastructure);
  }
  EXPECT_NE(std::find(phases.begin(), phases.end(), "patching broken/0001-does-not-apply.patch"), phases.end())
      << ::testing::PrintToString(phases);
  // Nothing half-built is left in the cache; the log is kept.
  for (const auto& e : fs::directory_iterator(tmp.path() / "cache" / "kernels")) {
    EXPECT_TRUE(e.path().filename().string().starts_with("resolve-")) << e.path();
  }
  EXPECT_FALSE(fs::is_empty(tmp.path() / "cache" / "logs"));
}

}  // namespace
}  // namespace numasoak::kernel
