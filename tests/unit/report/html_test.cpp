// report.html, summary.json and the terminal table from a real store:
// guest text is escaped everywhere, links are relative, and the page renders
// in a real browser (headless Debian chromium).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/paths.h"
#include "report/report.h"
#include "sample.h"
#include "store/store.h"

namespace fs = std::filesystem;
using namespace numasoak;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_private_dir("numasoak-report-test"); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(ReportTest, GuestTextIsEscapedInHtmlJsonAndTerminal) {
  {
    Store s = Store::open(dir_);
    s.set_campaign("evil", "", nlohmann::json::object());
    s.plan_runs({"6.1", "6.1+backport"}, 1);
    RunResult r = test::failed("6.1", 1, 12, "<script>alert(1)</script>", "bad-pmd");
    r.kernel_release = "6.1.192<img src=x onerror=alert(2)>";
    r.failures[0].report = "<script>document.title='owned'</script> & friends\n\x1b]0;retitled\x07 \xff";
    r.artifacts.console_log = "runs/6.1-1/\"><script>x</script>.log";
    s.mark_running(r.run_id);
    s.finish_run(r);
    RunResult b = test::survived("6.1+backport", 1, 300);
    b.title = "\x1b[2J\x1b[31mclear";
    s.mark_running(b.run_id);
    s.finish_run(b);
  }
  const Store store = Store::open_read_only(dir_);
  const auto rep = report::build_report(store);
  const std::string html = report::render_html(rep);
  EXPECT_FALSE(contains(lower(html), "<script")) << "a guest <script> reached the page";
  EXPECT_FALSE(contains(lower(html), "<img"));
  EXPECT_TRUE(contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_TRUE(contains(html, "&lt;script&gt;document.title=&#39;owned&#39;&lt;/script&gt; &amp; friends"));
  EXPECT_TRUE(contains(html, "6.1.192&lt;img src=x onerror=alert(2)&gt;"));
  EXPECT_TRUE(contains(html, "./runs/6.1-1/%22%3E%3Cscript%3Ex%3C/script%3E.log"));
  EXPECT_FALSE(contains(html, "\x1b"));

  const std::string term = report::render_terminal(rep);
  EXPECT_FALSE(contains(term, "\x1b")) << "escape sequences reached the terminal";
  EXPECT_TRUE(contains(term, "<script>alert(1)</script> (1)")) << term;

  // summary.json carries the text verbatim (JSON escapes it), and invalid
  // UTF-8 does not stop it from being written.
  report::write_report_files(rep, dir_);
  const auto j = nlohmann::json::parse(read_file(dir_ / "summary.json"));
  EXPECT_EQ(j["kernels"][0]["titles"][0]["title"], "<script>alert(1)</script>");
  EXPECT_TRUE(fs::file_size(dir_ / "report.html") > 1000);
}

TEST_F(ReportTest, SampleCampaignSummaryAndTerminal) {
  test::make_sample_campaign(dir_);
  const Store store = Store::open_read_only(dir_);
  const auto rep = report::build_report(store);
  ASSERT_EQ(rep.kernels.size(), 2u);
  EXPECT_TRUE(rep.any_failure());
  EXPECT_EQ(rep.kernels[0].failed, 10);
  EXPECT_EQ(rep.kernels[1].survived, 9);
  EXPECT_EQ(rep.kernels[1].errors, 1);
  ASSERT_EQ(rep.verdict.comparisons.size(), 1u);
  EXPECT_EQ(rep.verdict.comparisons[0].finding, report::Finding::kRemoves);
  EXPECT_TRUE(contains(rep.verdict.text, "6.1+backport removes the failure: p < 1e-9.")) << rep.verdict.text;

  const auto j = report::render_json(rep);
  EXPECT_EQ(j["campaign"]["name"], "backport-6.1");
  EXPECT_EQ(j["kernels"][0]["name"], "6.1");
  EXPECT_TRUE(j["kernels"][0]["baseline"].get<bool>());
  EXPECT_EQ(j["kernels"][1]["failure_rate"]["text"], "< 4.0/h");
  EXPECT_EQ(j["comparisons"][0]["finding"], "removes");
  EXPECT_LT(j["comparisons"][0]["p_value"].get<double>(), 1e-9);
  EXPECT_EQ(j["runs"].size(), 20u);
  EXPECT_EQ(j["runs"][0]["result"]["verdict"], "failed");
  EXPECT_EQ(j["failures"][0]["title"], "bad pmd");
  EXPECT_EQ(j["failures"][0]["runs"], 9);
  EXPECT_EQ(j["failures"][0]["count"], 10);
  EXPECT_EQ(j["verdict"], rep.verdict.text);

  const std::string term = report::render_terminal(rep);
  EXPECT_TRUE(contains(term, "campaign backport-6.1 (configs/backport-6.1.toml): finished; 20/20 runs finished"))
      << term;
  EXPECT_TRUE(contains(term, "bad pmd (9)")) << term;
  EXPECT_TRUE(contains(term, "< 4.0/h")) << term;

  const std::string html = report::render_html(rep);
  EXPECT_TRUE(contains(html, "<svg")) << "Kaplan-Meier plot";
  EXPECT_TRUE(contains(html, "<a href=\"./runs/6.1-1/console.log\">console</a>"));
  EXPECT_TRUE(contains(html, "<a href=\"./runs/6.1-1/report.txt\">report</a>"));
  EXPECT_TRUE(contains(html, "mm/pgtable-generic.c:51: bad pmd"));
  EXPECT_FALSE(contains(lower(html), "<script"));
  EXPECT_FALSE(contains(lower(html), "http://")) << "no external assets";
}

TEST_F(ReportTest, PerHostFiguresWithInterruptedAttempts) {
  const std::string ssh = "qemu+ssh://root@127.0.0.1:2222/system?keyfile=/k&no_verify=1";
  {
    Store s = Store::open(dir_);
    s.set_campaign("hosts", "", nlohmann::json::object());
    s.plan_runs({"6.1", "6.1+backport"}, 1);
    s.mark_running("6.1-1");
    RunResult lost = test::survived("6.1", 1, 7);
    lost.verdict = Verdict::kInterrupted;
    lost.host = ssh;
    lost.accel = "tcg";
    lost.boot_s = 30;
    s.finish_run(lost);
    s.mark_running("6.1-1");
    RunResult a = test::failed("6.1", 1, 12);
    a.host = "qemu:///system";
    a.accel = "tcg";
    s.finish_run(a);
    s.mark_running("6.1+backport-1");
    RunResult b = test::survived("6.1+backport", 1, 60);
    b.host = "qemu:///system";
    b.accel = "tcg";
    s.finish_run(b);
  }
  const Store store = Store::open_read_only(dir_);
  const auto rep = report::build_report(store);
  ASSERT_TRUE(rep.show_hosts());
  ASSERT_EQ(rep.hosts.size(), 2u);
  const std::string term = report::render_terminal(rep);
  EXPECT_TRUE(contains(term, "host  ")) << term;
  EXPECT_TRUE(contains(term, "interrupted")) << term;
  EXPECT_TRUE(contains(term, "qemu+ssh://root@127.0.0.1:2222/system ")) << term;
  EXPECT_FALSE(contains(term, "keyfile")) << "URI parameters stay out of the terminal table: " << term;
  auto j = report::render_json(rep);
  ASSERT_EQ(j["hosts"].size(), 2u);
  if (j["hosts"][0]["host"] != ssh) std::swap(j["hosts"][0], j["hosts"][1]);
  EXPECT_EQ(j["hosts"][0]["host"], ssh);
  EXPECT_EQ(j["hosts"][0]["interrupted"], 1);
  EXPECT_EQ(j["hosts"][0]["runs"], 0);
  EXPECT_DOUBLE_EQ(j["hosts"][0]["guest_s"].get<double>(), 37);
  EXPECT_EQ(j["hosts"][1]["runs"], 2);
  EXPECT_EQ(j["hosts"][1]["failed"], 1);
  EXPECT_EQ(j["hosts"][1]["accel"], "tcg");
  const std::string html = report::render_html(rep);
  EXPECT_TRUE(contains(html, "<h2>Hosts</h2>"));
  EXPECT_TRUE(contains(html, "keyfile=/k&amp;no_verify=1")) << "the URI is escaped";
}

TEST_F(ReportTest, OneLocalHostShowsNoHostTable) {
  test::make_sample_campaign(dir_);
  const Store store = Store::open_read_only(dir_);
  const auto rep = report::build_report(store);
  EXPECT_FALSE(rep.show_hosts()) << "direct QEMU on this machine: nothing to compare";
  EXPECT_FALSE(contains(report::render_terminal(rep), "interrupted  guest time"));
  EXPECT_FALSE(contains(report::render_html(rep), "<h2>Hosts</h2>"));
  EXPECT_TRUE(report::render_json(rep)["hosts"].is_array());
}

TEST_F(ReportTest, AbsoluteArtifactPathsBecomeRelativeLinks) {
  {
    Store s = Store::open(dir_);
    s.plan_runs({"a"}, 2);
    RunResult r = test::failed("a", 1, 3);
    r.artifacts.dir = (dir_ / "runs" / "a-1").string();
    r.artifacts.console_log = (dir_ / "runs" / "a-1" / "console.log").string();
    r.artifacts.report = "/elsewhere/report.txt";
    s.mark_running("a-1");
    s.finish_run(r);
    s.mark_running("a-2");  // still running: the report shows it
  }
  // Reopen read-only only: the writer "crashed" with a-2 running.
  const Store store = Store::open_read_only(dir_);
  const auto rep = report::build_report(store);
  const std::string html = report::render_html(rep);
  EXPECT_TRUE(contains(html, "<a href=\"./runs/a-1/console.log\">console</a>")) << html;
  EXPECT_TRUE(contains(html, "<a href=\"file:///elsewhere/report.txt\">report</a>"));
  EXPECT_TRUE(contains(html, "<span class=\"badge running\">running</span>"));
  EXPECT_TRUE(contains(report::render_terminal(rep), "1/2 runs finished, 1 running"));
}

// Runs argv as a child in its own process group, with stdout/stderr to
// `log`; kills the group at `timeout`. Returns the exit status, or -1 on
// timeout.
int run_with_timeout(const std::vector<std::string>& argv, const fs::path& log, std::chrono::seconds timeout) {
  const pid_t pid = fork();
  if (pid < 0) return -2;
  if (pid == 0) {
    setpgid(0, 0);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  setpgid(pid, pid);
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  bool timed_out = false;
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    const int n = poll(&p, 1, static_cast<int>(std::chrono::milliseconds(timeout).count()));
    timed_out = n == 0;
    close(pidfd);
  }
  if (timed_out) kill(-pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  kill(-pid, SIGKILL);  // helpers the browser may have left in its group
  if (timed_out) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    const fs::path cand = fs::path(p.substr(start, end - start)) / name;
    if (access(cand.c_str(), X_OK) == 0) return cand.string();
    start = end + 1;
  }
  return {};
}

TEST(ReportBrowser, SampleReportRendersInHeadlessChromium) {
  const std::string chromium = find_in_path("chromium");
  ASSERT_FALSE(chromium.empty()) << "chromium not found: apt-get install chromium (scripts/install-deps installs it)";

  // Kept in the build tree so a person can look at the page and its screenshot.
  const fs::path out = fs::path(NUMASOAK_BINARY_DIR) / "report-sample";
  fs::remove_all(out);
  test::make_sample_campaign(out);
  {
    const Store store = Store::open_read_only(out);
    report::write_report_files(report::build_report(store), out);
  }
  const fs::path png = out / "report.png";
  const ScopedDir profile(make_private_dir("numasoak-chromium"));
  const std::vector<std::string> argv = {chromium,
                                         "--headless",
                                         "--no-sandbox",
                                         "--disable-gpu",
                                         "--disable-dev-shm-usage",
                                         "--no-first-run",
                                         "--disable-background-networking",
                                         "--disable-component-update",
                                         "--disable-sync",
                                         "--hide-scrollbars",
                                         "--user-data-dir=" + profile.path().string(),
                                         "--screenshot=" + png.string(),
                                         "--window-size=1200,1600",
                                         "file://" + (out / "report.html").string()};
  const fs::path log = profile.path() / "chromium.log";
  const int rc = run_with_timeout(argv, log, std::chrono::seconds(120));
  std::string tail;
  if (fs::exists(log)) tail = read_file(log);
  if (tail.size() > 2000) tail = tail.substr(tail.size() - 2000);
  ASSERT_NE(rc, -1) << "chromium timed out after 120 s:\n" << tail;
  EXPECT_EQ(rc, 0) << tail;
  ASSERT_TRUE(fs::exists(png)) << tail;
  EXPECT_GT(fs::file_size(png), 10u * 1024) << "the screenshot looks blank";
}

}  // namespace
