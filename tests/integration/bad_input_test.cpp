// Bad input through the real `numasoak` executable: each case ends with one
// line on stderr that says what is wrong and where (the flag, the file, the
// path), the documented exit code and no crash; or, for odd but valid input
// (paths with spaces and shell metacharacters), it simply works. Nothing is
// passed through a shell, so `a; rm -rf b` is just a name.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "guest_fixture.h"

namespace numasoak::testing {
namespace {

namespace fs = std::filesystem;

// A fresh folder for one test, removed after it.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("numasoak-badinput-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// The promise for a rejected input: exit `code`, no signal, exactly one
// non-empty stderr line, "numasoak: error: ...", containing each of `names`.
void expect_one_line_error(const CliResult& r, int code, const std::vector<std::string>& names) {
  EXPECT_EQ(r.signal, 0) << "killed by signal " << r.signal;
  EXPECT_EQ(r.exit_code, code) << r.err;
  const auto lines = r.err_lines();
  ASSERT_EQ(lines.size(), 1u) << "stderr:\n" << r.err;
  EXPECT_EQ(lines[0].rfind("numasoak: error: ", 0), 0u) << lines[0];
  for (const auto& n : names) EXPECT_NE(lines[0].find(n), std::string::npos) << "'" << n << "' not in: " << lines[0];
}

TEST(BadInput, KernelPathThatDoesNotExist) {
  TempDir t("nokernel");
  const std::string k = (t.path / "no such dir" / "bzImage").string();
  expect_one_line_error(run_cli({"run", "--kernel", k, "--accel", "tcg"}), 2, {k, "does not exist"});
}

TEST(BadInput, KernelThatIsNotABzImage) {
  TempDir t("notkernel");
  const fs::path k = t.path / "vmlinuz";
  write(k, "this is not a kernel\n");
  // -q: no progress line ("kernel vmlinuz: resolving"), only the error.
  expect_one_line_error(run_cli({"-q", "run", "--kernel", k.string(), "--accel", "tcg"}), 2, {k.string(), "not a bzImage"});
}

TEST(BadInput, KernelPathThroughAFile) {
  // ENOTDIR: a path component is a regular file.
  TempDir t("throughfile");
  write(t.path / "file", "x");
  const std::string k = (t.path / "file" / "bzImage").string();
  expect_one_line_error(run_cli({"run", "--kernel", k, "--accel", "tcg"}), 2, {k});
}

TEST(BadInput, InitramfsInputsMissing) {
  // The initramfs is built from the guest programs; a folder without them
  // is named in the error (exit 3: numasoak's own build is incomplete).
  TempDir t("noguest");
  const fs::path bin = t.path / "empty guest dir";
  fs::create_directories(bin);
  CliOptions o;
  o.env = {{"NUMASOAK_GUEST_BIN_DIR", bin.string()}};
  o.limit = std::chrono::seconds(120);
  expect_one_line_error(run_cli({"-q", "image", "build"}, o), 3, {bin.string(), "numasoak-workload"});
}

TEST(BadInput, DurationZeroOrAYear) {
  for (const char* d : {"0", "0s", "365d", "8760h", "-5m", "soon"}) {
    SCOPED_TRACE(d);
    expect_one_line_error(run_cli({"run", "--duration", d}), 2, {"--duration", d});
  }
  // The same in a campaign file names the file and the line.
  const fs::path bad = fs::path(NUMASOAK_SOURCE_DIR) / "tests/fixtures/configs/bad";
  for (const char* f : {"duration-zero.toml", "duration-year.toml"}) {
    SCOPED_TRACE(f);
    const CliResult r = run_cli({"check", (bad / f).string()});
    EXPECT_EQ(r.exit_code, 2);
    ASSERT_FALSE(r.err_lines().empty());
    EXPECT_NE(r.err_lines()[0].find(std::string(f) + ":"), std::string::npos) << r.err;
  }
}

TEST(BadInput, AmplifierOutOfRange) {
  for (const std::vector<std::string>& flag : std::vector<std::vector<std::string>>{
           {"--amplify-us", "10001"}, {"--amplify-us", "-1"}, {"--amplify-uffd-us", "999999"}, {"--amplify-uffd-us", "-7"}}) {
    SCOPED_TRACE(flag[0] + " " + flag[1]);
    expect_one_line_error(run_cli({"run", flag[0], flag[1]}), 2, {flag[0], flag[1], "out of range"});
  }
  const CliResult r = run_cli({"run", "--amplify-us", "lots"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--amplify-us"), std::string::npos) << r.err;
  const fs::path f = fs::path(NUMASOAK_SOURCE_DIR) / "tests/fixtures/configs/bad/amplify-out-of-range.toml";
  const CliResult c = run_cli({"check", f.string()});
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.err.find("amplify-out-of-range.toml:"), std::string::npos) << c.err;
}

TEST(BadInput, TopologyTheHostCannotGive) {
  // More guest memory than this host has: refused before anything starts.
  expect_one_line_error(run_cli({"run", "--nodes", "2", "--memory", "64T", "--accel", "tcg"}), 2,
                        {"topology", "64T", "this host has"});
  // More vCPUs than a guest may have.
  expect_one_line_error(run_cli({"run", "--nodes", "16", "--cpus-per-node", "64", "--accel", "tcg"}), 2, {"topology"});
  // Memory that does not divide across the nodes.
  expect_one_line_error(run_cli({"run", "--nodes", "3", "--memory", "1G", "--accel", "tcg"}), 2, {"--memory"});
}

TEST(BadInput, JsonToAClosedPipe) {
  // `numasoak ... --json | head -c0`: an error and exit 3, not a silent
  // success and not death by SIGPIPE.
  CliOptions closed;
  closed.stdout_closed = true;
  const fs::path good = fs::path(NUMASOAK_SOURCE_DIR) / "configs/default.toml";
  const fs::path log = fs::path(NUMASOAK_SOURCE_DIR) / "tests/fixtures/consoles/seed-bad-pmd-panic.log";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"check", "--json", good.string()}, {"scan", "--json", log.string()}, {"kernel", "list", "--json"}}) {
    SCOPED_TRACE(args[0]);
    expect_one_line_error(run_cli(args, closed), 3, {"standard output"});
  }
  // The same commands with a reader work (the test above is not vacuous).
  const CliResult ok = run_cli({"check", "--json", good.string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(nlohmann::json::accept(ok.out)) << ok.out;
}

TEST(BadInput, OutputDirectoryThatIsAFile) {
  TempDir t("outfile");
  const fs::path f = t.path / "results";
  write(f, "keep me\n");
  expect_one_line_error(run_cli({"run", "--accel", "tcg", "-o", f.string()}), 2, {f.string(), "not a directory"});
  // The file is untouched.
  std::ifstream in(f);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "keep me\n");
  // A campaign whose output_dir is a file.
  const fs::path c = t.path / "c.toml";
  write(c, "name = \"outfile\"\nkernels = [\"6.1\"]\nruns_per_kernel = 1\nduration = \"5s\"\naccel = \"tcg\"\noutput = \"" +
               f.string() + "\"\n");
  CliOptions options;
  options.limit = std::chrono::seconds(120);
  const CliResult r = run_cli({"compare", c.string()}, options);
  expect_one_line_error(r, 2, {f.string(), "not a directory"});
}

TEST(BadInput, PathsWithSpacesAndShellMetacharactersWork) {
  // A kernel and an output folder whose names a shell would run: they are
  // argv elements all the way to QEMU, so the run works and nothing runs.
  TempDir t("meta");
  const fs::path victim = t.path / "b";
  fs::create_directories(victim);
  write(victim / "precious", "x");
  const fs::path kdir = t.path / "a; rm -rf b; touch pwned $(touch pwned2) `touch pwned3`";
  fs::create_directories(kdir);
  const fs::path kernel = kdir / "bz Image 'q' \"dq\" & |";
  fs::copy_file(kernel_61().bzimage, kernel);
  const fs::path out = t.path / "out dir; rm -rf b #";
  CliOptions o;
  o.cwd = t.path;
  o.limit = std::chrono::seconds(300);
  const CliResult r = run_cli({"-q", "run", "--kernel", kernel.string(), "--accel", "tcg", "--duration", "5s", "--profile",
                               "quiet", "-o", out.string(), "--json"},
                              o);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_TRUE(fs::exists(victim / "precious"));
  for (const char* p : {"pwned", "pwned2", "pwned3"}) EXPECT_FALSE(fs::exists(t.path / p)) << p;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << r.out;
  EXPECT_EQ(j.value("verdict", ""), "survived") << r.out;
  // The artifacts are in the folder named, and QEMU got the kernel path as
  // one argument.
  const fs::path run_dir = j["artifacts"].value("dir", "");
  EXPECT_EQ(run_dir.parent_path(), out);
  EXPECT_TRUE(fs::exists(run_dir / "console.log"));
  std::ifstream cmd(run_dir / "command.json");
  nlohmann::json argv = nlohmann::json::parse(cmd, nullptr, false);
  ASSERT_TRUE(argv.is_object() || argv.is_array()) << "command.json does not parse";
  EXPECT_NE(argv.dump().find(nlohmann::json(kernel.string()).dump()), std::string::npos) << argv.dump();
}

}  // namespace
}  // namespace numasoak::testing
