// The walker x transition matrix in reports (report/matrix.h): per build,
// events/s per cell, cells the kernel cannot do, and the pairs a build was
// not exercised on, which the terminal verdict names.
#include <gtest/gtest.h>

#include "report/matrix.h"
#include "sample.h"

namespace numasoak::report {
namespace {

namespace proto = nsw::protocol;

std::string key(std::size_t w, std::size_t t, std::size_t m) {
  return "matrix." + std::string(proto::kWalkers[w]) + "." + std::string(proto::kTransitions[t]) + "." +
         std::string(proto::kMemory[m]);
}

Report two_builds() {
  Report r;
  KernelSummary a, b;
  a.name = "6.1+backport:debug";
  b.name = "6.1";
  r.kernels = {a, b};
  // a: every possible cell but wp_resolve x split (shmem), twice 60 s.
  for (int n = 1; n <= 2; ++n) {
    RunResult run = test::survived(a.name, n, 60);
    for (std::size_t w = 0; w < proto::kWalkers.size(); ++w)
      for (std::size_t t = 0; t < proto::kTransitions.size(); ++t)
        for (std::size_t m = 0; m < proto::kMemory.size(); ++m)
          run.event_totals[key(w, t, m)] = proto::matrix_impossible(w, t, m).empty() ? 6 : 0;
    run.event_totals[key(2, 2, 1)] = 0;
    r.results.push_back(run);
  }
  // b never ran the transitions worker.
  r.results.push_back(test::survived(b.name, 1, 60));
  return r;
}

TEST(Matrix, RatesImpossibleAndUnexercisedCells) {
  const Report r = two_builds();
  const auto tables = build_matrix(r);
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_TRUE(tables[0].seen);
  EXPECT_FALSE(tables[1].seen);
  EXPECT_DOUBLE_EQ(tables[0].seconds, 120);
  EXPECT_DOUBLE_EQ(tables[0].count[proto::matrix_cell(1, 0, 0)], 12);
  ASSERT_EQ(tables[0].unexercised.size(), 1u);
  EXPECT_EQ(tables[0].unexercised[0], "wp_resolve x split (shmem)");

  const auto j = matrix_json(r);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_DOUBLE_EQ(j[0]["per_second"]["wp_set.migrate.anon"].get<double>(), 0.1);
  EXPECT_TRUE(j[0]["impossible"].contains("numa.zap.shmem"));
  EXPECT_FALSE(j[0]["per_second"].contains("numa.zap.shmem"));

  const std::string html = render_matrix_section(r);
  EXPECT_NE(html.find("Not exercised on 6.1+backport:debug:</b> wp_resolve x split (shmem)"), std::string::npos);
  EXPECT_NE(html.find("<i>n/a</i>"), std::string::npos);
  EXPECT_NE(matrix_terminal(r).find("not exercised on 1 of 45"), std::string::npos) << matrix_terminal(r);
}

TEST(Matrix, NoSectionWithoutTheTransitionsWorker) {
  Report r;
  KernelSummary a;
  a.name = "6.1";
  r.kernels = {a};
  r.results.push_back(test::survived("6.1", 1, 60));
  EXPECT_EQ(render_matrix_section(r), "");
  EXPECT_EQ(matrix_terminal(r), "");
  EXPECT_TRUE(matrix_json(r).empty());
}

}  // namespace
}  // namespace numasoak::report
